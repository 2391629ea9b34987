"""What a scanner types, read whole or refused in words: GS1 element strings with and without
their symbology identifier and separator (ASCII 29 or a scanner's replacement), GS1 Digital
Link URLs, a day 00 as the month's end; half-read, garbled and mistyped scans refused, never
read as part of a lot number."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mesomix.domain.scan import GS, Scan, ScanError, looks_like_scan, read_scan, typed_gtin

GTIN = "05012345678900"  # a valid check digit


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        (f"]d201{GTIN}10ABC123{GS}17270600", Scan(GTIN, "ABC123", date(2027, 6, 30), "")),
        (f"01{GTIN}17270615" + f"10L-77/2{GS}21SER9", Scan(GTIN, "L-77/2", date(2027, 6, 15), "SER9")),
        (f"]C101{GTIN}10AB\u241d17281231", Scan(GTIN, "AB", date(2028, 12, 31), "")),
        (f"]Q301{GTIN}10AB<GS>21X1", Scan(GTIN, "AB", None, "X1")),
        (f"https://id.gs1.org/01/{GTIN}/10/ABC123?17=270600", Scan(GTIN, "ABC123", date(2027, 6, 30), "")),
        (f"01{GTIN}", Scan(GTIN, "", None, "")),
    ],
)  # fmt: skip
def test_a_scan_is_read_whole(typed, read):
    assert looks_like_scan(typed) or typed == f"01{GTIN}"
    assert read_scan(typed) == read


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        (f"01{GTIN}1727", "a half-read or garbled scan"),  # the expiry half-read
        (f"]d201{GTIN}172713001", "a half-read or garbled scan"),  # a thirteenth month
        (f"01{GTIN}172706001", "a half-read or garbled scan"),  # a digit too many
        ("0105012345678901", "fails its check digit"),
        ("hello world", "is not a GS1 code with a GTIN"),
        ("", "nothing was scanned"),
        (f"01{GTIN}10AB\x07", "characters no GS1 code has"),
        ("1" * 300, "characters no GS1 code has"),
    ],
)
def test_a_half_read_or_garbled_scan_is_refused_in_words(typed, said):
    with pytest.raises(ScanError) as refused:
        read_scan(typed)
    assert said in str(refused.value)


@pytest.mark.parametrize("typed", ["lidocaine 2%", "40 mg", "AB1234", "2027-06-30", "P-0003"])
def test_what_a_person_types_does_not_look_like_a_scan(typed):
    assert not looks_like_scan(typed)


@given(
    st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-/", min_size=1, max_size=20),
    # GS1's two-digit years are read within 50 years of today: the years any box carries.
    st.dates(min_value=date(2020, 1, 1), max_value=date(2060, 12, 31)),
)
def test_any_lot_and_expiry_come_back_as_encoded(lot, expiry):
    typed = f"]d201{GTIN}17{expiry:%y%m%d}10{lot}{GS}21S1"
    assert read_scan(typed) == Scan(GTIN, lot, expiry, "S1")


@pytest.mark.parametrize(
    ("typed", "gtin"),
    [
        ("09520123456788", "09520123456788"),
        ("9520123456788", "09520123456788"),  # GTIN-13, as printed under an EAN-13 bar code
        (" 9520123456788 ", "09520123456788"),
        ("96385074", "00000096385074"),  # GTIN-8
        ("036000291452", "00036000291452"),  # GTIN-12 (UPC-A)
    ],
)
def test_a_gtin_typed_on_its_own_is_read_as_the_fourteen_digits_a_scan_carries(typed, gtin):
    assert typed_gtin(typed) == gtin


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("9520123456780", "fails its check digit"),
        ("952012345678", "fails its check digit"),
        ("95201234567", "8, 12, 13 or 14 digits"),
        ("0952O123456788", "8, 12, 13 or 14 digits"),  # a letter O for a zero
        ("", "8, 12, 13 or 14 digits"),
        ("٩٥٢٠١٢٣٤٥٦٧٨٨", "8, 12, 13 or 14 digits"),  # digits, but not ASCII
    ],
)
def test_a_mistyped_gtin_is_refused_in_words(typed, said):
    with pytest.raises(ScanError) as refused:
        typed_gtin(typed)
    assert said in str(refused.value)
