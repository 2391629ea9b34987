"""The catalogue looked up by what a person types on the command line: a substance by name, a
product with the substance its strength is of, a product code with the codes it is close to."""

from __future__ import annotations

import pytest

from mesomix.services.errors import NotFound, ServiceError


def test_a_substance_by_name_or_synonym_and_nothing_else(services):
    assert services.catalog.substance_named("lidocaine").code == "lidocaine_hcl"
    with pytest.raises(NotFound, match="unknown substance 'lidocaine_2pct_5ml_amp'"):
        services.catalog.substance_named("lidocaine_2pct_5ml_amp")  # a product


def test_a_product_comes_with_the_substance_its_strength_is_of(services):
    product, substance = services.catalog.product_and_strength("lidocaine_2pct_5ml_amp")
    assert (product.code, substance.code) == ("lidocaine_2pct_5ml_amp", "lidocaine_hcl")
    with pytest.raises(NotFound, match="unknown product 'lidocaine'"):
        services.catalog.product_and_strength("lidocaine")  # a substance
    diluent = next(p for p in services.catalog.catalog().products.values() if not p.strengths)
    with pytest.raises(ServiceError, match="is a diluent: it has no strength to convert"):
        services.catalog.product_and_strength(diluent.code)


def test_a_mistyped_code_is_refused_with_the_codes_it_is_close_to(services):
    assert services.catalog.product_coded("lidocaine_2pct_5ml_amp").code == "lidocaine_2pct_5ml_amp"
    with pytest.raises(NotFound) as refused:
        services.catalog.product_coded("lidocaine_2pct_5ml_ampp")
    assert "did you mean lidocaine_2pct_5ml_amp (" in str(refused.value)
    with pytest.raises(NotFound, match="find it with mesomix search NAME"):
        services.catalog.product_coded("zzzz")
