"""SQLModel tables: the domain words of DESIGN.md as rows.

Quantities that are summed (stock, movements, volumes) are integers in microlitres, so the ledger
reconciles to the last digit on SQLite and PostgreSQL alike; reference quantities are kept as the
exact text they were written in. Times are timezone-aware UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and gives them back aware; refuses naive ones."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database: times must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _utc(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)


class Row(SQLModel):
    """What every table's row class is: SQLAlchemy gives each its `__table__`, which the
    services' SQL expressions use, and this says so to the type checker."""

    if TYPE_CHECKING:
        __table__: ClassVar[sa.Table]


def _json(**kwargs: Any) -> Any:
    return Field(sa_type=sa.JSON, **kwargs)


def _big(**kwargs: Any) -> Any:
    return Field(sa_type=sa.BigInteger, **kwargs)


class AllergenGroupRow(Row, table=True):
    __tablename__ = "allergen_group"
    code: str = Field(primary_key=True)
    name: str
    record: dict[str, Any] = _json()


class SubstanceRow(Row, table=True):
    __tablename__ = "substance"
    code: str = Field(primary_key=True)
    name: str = Field(index=True)
    role: str
    category: str = ""
    record: dict[str, Any] = _json()  # the reference record as shipped, for the domain object


class ProductRow(Row, table=True):
    __tablename__ = "product"
    code: str = Field(primary_key=True)
    name: str = Field(index=True)
    container: str
    container_volume_ul: int = _big()
    diluent: bool = False
    active: bool = True
    record: dict[str, Any] = _json()
    reorder_level: int | None = None  # containers: at or below this, order
    reorder_quantity: int | None = None  # containers to order


class SiteRow(Row, table=True):
    """One clinic of a chain sharing the database: its own shelves and its own audit chain."""

    __tablename__ = "site"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True)  # what a terminal is started at: `--site main`
    name: str
    active: bool = True


class CatalogueVersionRow(Row, table=True):
    """One row counting changes to products and substances, raised by triggers (migration 0015)
    whoever writes them, even by hand: the search index kept with a number is known current."""

    __tablename__ = "catalogue_version"
    id: int = Field(primary_key=True)
    serial: int = _big(default=0)


class SearchSnapshotRow(Row, table=True):
    """The catalogue's search index as built for one catalogue version: a terminal starts by
    loading it instead of building it. A cache: what it holds is worked out from the catalogue."""

    __tablename__ = "search_snapshot"
    id: int = Field(primary_key=True)
    serial: int = _big()  # the catalogue version it was built from
    format: str  # the index's snapshot format: another one is built again
    data: bytes = Field(sa_type=sa.LargeBinary)


class ProductGtinRow(Row, table=True):
    """A GTIN a product's box or vial carries (several per product): how a scan names it,
    linked by a manager (audited)."""

    __tablename__ = "product_gtin"
    gtin: str = Field(primary_key=True)  # 14 digits, the check digit verified
    product_code: str = Field(foreign_key="product.code", index=True)
    packaging: str = ""  # box | vial | ampoule | ... as printed where the code is
    linked_by: int = Field(foreign_key="user_account.id")
    linked_at: datetime = _utc()


class UserRow(Row, table=True):
    __tablename__ = "user_account"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    display_name: str
    role: str  # staff | practitioner | manager | admin
    password_hash: str | None = None
    active: bool = True
    created_at: datetime = _utc()
    failed_attempts: int = 0  # consecutive; reset by a good sign-in or an admin's unlock
    locked_until: datetime | None = _utc(default=None)
    all_sites: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})


class UserSiteRow(Row, table=True):
    """A site a person works at (an admin, or one marked `all_sites`, works at every site)."""

    __tablename__ = "user_site"
    user_id: int = Field(foreign_key="user_account.id", primary_key=True)
    site_id: int = Field(foreign_key="site.id", primary_key=True)


class PatientRow(Row, table=True):
    __tablename__ = "patient"
    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(unique=True, index=True)
    name: str = Field(index=True)
    date_of_birth: date | None = None
    sex: str = "unknown"
    weight_g: int | None = None  # grams: exact, and enough for per-kg limits
    notes: str = ""
    created_at: datetime = _utc()
    active: bool = True  # False once the clinic no longer treats them: no new course


class AllergyRow(Row, table=True):
    """FHIR AllergyIntolerance semantics: against a substance, a group, or free text not yet coded."""

    __tablename__ = "allergy"
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    substance_code: str | None = Field(default=None, foreign_key="substance.code")
    group_code: str | None = Field(default=None, foreign_key="allergen_group.code")
    text: str = ""
    clinical_status: str = "active"
    verification: str = "unconfirmed"
    criticality: str = "unable-to-assess"
    reactions: list[dict[str, str]] = _json(default_factory=list)  # [{manifestation, severity}]
    tolerated: list[str] = _json(default_factory=list)  # substance codes given before safely
    note: str = ""
    recorded_on: date | None = None
    recorded_by: int | None = Field(default=None, foreign_key="user_account.id")
    # The allergen in other systems' codes: [{system, code, display}] (SNOMED CT, RxNorm...)
    codings: list[dict[str, str]] = _json(default_factory=list)
    # An imported FHIR resource as received, and the allergy as first read from it
    fhir_origin: dict[str, Any] | None = _json(default=None)


class LotRow(Row, table=True):
    __tablename__ = "lot"
    __table_args__ = (
        sa.UniqueConstraint(
            "site_id", "product_code", "lot_number", name="uq_lot_site_product_number"
        ),
        sa.CheckConstraint("on_hand_ul >= 0", name="on_hand_not_negative"),
        sa.CheckConstraint("open_ul >= 0 AND open_ul <= on_hand_ul", name="open_within_on_hand"),
    )
    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(default=1, foreign_key="site.id", index=True)  # whose shelves
    product_code: str = Field(foreign_key="product.code", index=True)
    lot_number: str  # the manufacturer's: one lot row per site that holds some of it
    expiry: date
    status: str = "available"  # available | quarantined | recalled
    status_reason: str = ""
    on_hand_ul: int = _big(default=0)
    open_ul: int = _big(default=0)  # what remains in the lot's one opened container
    opened_at: datetime | None = _utc(default=None)
    received_at: datetime = _utc()
    supplier: str = ""
    unit_cost_cents: int | None = _big(default=None)  # per container, in the clinic's currency


class BatchRow(Row, table=True):
    """A dispensed mixture: what was asked, what was drawn, for whom, by whom."""

    __tablename__ = "batch"
    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(default=1, foreign_key="site.id", index=True)  # where it was made
    patient_id: int | None = Field(default=None, foreign_key="patient.id", index=True)
    actor_id: int = Field(foreign_key="user_account.id")
    created_at: datetime = _utc()
    final_volume_ul: int = _big()
    draft: dict[str, Any] = _json()  # the draft as typed
    findings: list[Any] = _json()
    label: str = ""
    storage: str = "room"  # room | refrigerated: decides the beyond-use limit
    purpose: str = ""  # what it treats (domain PURPOSES); empty when not said
    prescriber_id: int | None = Field(default=None, foreign_key="user_account.id")
    beyond_use_at: datetime | None = _utc(default=None)
    beyond_use_rule: str = ""  # the rule and each input, as shown on the label
    formula_version_id: int | None = Field(
        default=None, foreign_key="formula_version.id", index=True
    )  # the formula version the mixture was started from, if any
    course_session_id: int | None = Field(
        default=None, foreign_key="course_session.id", index=True
    )  # the session of a course it was made for, if any


class BatchLineRow(Row, table=True):
    __tablename__ = "batch_line"
    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    position: int
    ingredient: int | None = None  # position in the draft; None for the diluent
    product_code: str = Field(foreign_key="product.code")
    volume_ul: int = _big()
    delivered: dict[str, str] = _json()  # substance code -> exact amount as text
    # How its vials were checked at the bench: "scan" (every lot drawn was scanned) or "eye";
    # "" for a batch made before scanning existed
    verified: str = ""


class MovementRow(Row, table=True):
    """One append-only ledger row; a lot's on-hand is always the sum of its movements."""

    __tablename__ = "movement"
    __table_args__ = (sa.Index("ix_movement_lot_at", "lot_id", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    lot_id: int = Field(foreign_key="lot.id")
    kind: str  # receive | dispense | waste | adjust | count | return
    quantity_ul: int = _big()  # signed: into stock positive, out of stock negative
    reason: str = ""  # a coded reason for adjustments (see domain/inventory.py)
    note: str = ""  # the person's own words
    actor_id: int = Field(foreign_key="user_account.id")
    batch_id: int | None = Field(default=None, foreign_key="batch.id", index=True)
    corrects_id: int | None = Field(default=None, foreign_key="movement.id")
    at: datetime = _utc()


class MetaRow(Row, table=True):
    """Facts about the database itself, e.g. which reference data it was last seeded with."""

    __tablename__ = "meta"
    key: str = Field(primary_key=True)
    value: str


class OverrideRow(Row, table=True):
    """A practitioner's signed decision to dispense despite one blocking finding."""

    __tablename__ = "override"
    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    finding_key: str
    finding_code: str
    finding_message: str
    practitioner_id: int = Field(foreign_key="user_account.id")
    reason_code: str
    reason_text: str
    at: datetime = _utc()


class AcknowledgementRow(Row, table=True):
    """The person dispensing has read one WARNING of the batch, exactly as it was shown."""

    __tablename__ = "acknowledgement"
    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    finding_key: str  # code/ingredient/subject/digest, as overrides name a finding
    finding_code: str
    finding_message: str  # whole, as shown
    user_id: int = Field(foreign_key="user_account.id")  # who read it: the person dispensing
    at: datetime = _utc()


class AuditRow(Row, table=True):
    """One append-only audit row, chained by hash to the one before it (see services/audit.py).

    user_id is not a foreign key on purpose: the trail outlives the accounts it mentions."""

    __tablename__ = "audit"
    __table_args__ = (sa.Index("ix_audit_chain_seq", "chain", "seq", unique=True),)
    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    chain: int = Field(default=1, sa_column_kwargs={"server_default": "1"})  # the site's chain
    seq: int = _big(default=0, sa_column_kwargs={"server_default": "0"})  # its place in it
    at: datetime = _utc()
    user_id: int | None = None
    user_name: str = ""
    action: str = Field(index=True)
    record_type: str = ""
    record_id: str = ""
    patient_id: int | None = Field(default=None, index=True)
    lot_id: int | None = Field(default=None, index=True)
    old: dict[str, Any] | None = _json(default=None)
    new: dict[str, Any] | None = _json(default=None)
    reason: str = ""
    prev_hash: str
    hash: str


class AuditHeadRow(Row, table=True):
    """The end of one chain (its id is its site's) as last written: rows cut from the end no
    longer reach it."""

    __tablename__ = "audit_head"
    id: int = Field(primary_key=True)
    last_id: int = 0
    count: int = 0
    last_hash: str


class FormulaRow(Row, table=True):
    """A named recipe (hair restoration, ...); what it holds lives in its versions."""

    __tablename__ = "formula"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True)
    name: str = Field(unique=True, index=True)
    purpose: str  # domain PURPOSES
    description: str = ""
    created_at: datetime = _utc()
    created_by: int = Field(foreign_key="user_account.id")
    active: bool = True  # False once retired; kept for the batches made from it


class FormulaVersionRow(Row, table=True):
    """One version of a formula: written once, never changed (a change is a new version)."""

    __tablename__ = "formula_version"
    __table_args__ = (sa.UniqueConstraint("formula_id", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    formula_id: int = Field(foreign_key="formula.id")
    version: int  # 1, 2, 3 ... within the formula
    ingredients: list[dict[str, Any]] = _json()  # [{what, amount, product}] as typed
    final_volume: str = ""  # as typed, e.g. "5 mL"
    diluent: str | None = None  # product code; None: the default diluent
    storage: str = "room"
    note: str = ""
    created_at: datetime = _utc()
    created_by: int = Field(foreign_key="user_account.id")


class CourseRow(Row, table=True):
    """A patient's planned series of sessions for one indication; what it holds is in its
    versions, a change being a new version and the old one kept."""

    __tablename__ = "course"
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    indication: str  # data/courses.toml
    status: str = "active"  # active | paused | ended
    status_reason: str = ""  # why it was paused or ended, in the practitioner's words
    starts_on: date
    created_at: datetime = _utc()
    created_by: int = Field(foreign_key="user_account.id")


class CourseVersionRow(Row, table=True):
    """One version of a course's plan, from the session it applies to onward: written once."""

    __tablename__ = "course_version"
    __table_args__ = (sa.UniqueConstraint("course_id", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="course.id")
    version: int  # 1, 2, 3 ... within the course
    from_session: int  # the first session this version plans (held ones keep theirs)
    schedule: str  # as Schedule.said writes it, which Schedule.parse reads back
    formula_version_id: int = Field(foreign_key="formula_version.id")
    zones: list[dict[str, Any]] = _json()  # [{zone, volume_ul}]
    reason: str = ""  # why it changed; empty for the first version
    created_at: datetime = _utc()
    created_by: int = Field(foreign_key="user_account.id")


class CourseSessionRow(Row, table=True):
    """One session of a course: booked for a time, held once its batch is dispensed."""

    __tablename__ = "course_session"
    __table_args__ = (sa.UniqueConstraint("course_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="course.id", index=True)
    number: int  # 1-based within the course
    booked_for: datetime | None = _utc(default=None, index=True)
    booked_by: int | None = Field(default=None, foreign_key="user_account.id")
    early_reason: str = ""  # a practitioner's reason to book it before its least gap
    early_signed_by: int | None = Field(default=None, foreign_key="user_account.id")
    held_at: datetime | None = _utc(default=None)  # when its batch was dispensed
    course_version_id: int | None = Field(default=None, foreign_key="course_version.id")


class ConsentRow(Row, table=True):
    """The patient's consent to a course, exactly as the text was shown, until withdrawn."""

    __tablename__ = "consent"
    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="course.id", index=True)
    indication: str
    template_version: int  # the version of data/courses.toml's consent text
    text: str  # as the patient read it, filled in
    statement: str  # the practitioner's signed statement of the patient's acknowledgement
    explained_by: int = Field(foreign_key="user_account.id")
    signed_at: datetime = _utc()
    withdrawn_at: datetime | None = _utc(default=None)
    withdrawn_by: int | None = Field(default=None, foreign_key="user_account.id")
    withdrawn_reason: str = ""


class InjectionRow(Row, table=True):
    """What was injected at a session, zone by zone, kept by the practitioner afterwards."""

    __tablename__ = "injection"
    id: int | None = Field(default=None, primary_key=True)
    course_session_id: int = Field(foreign_key="course_session.id", index=True)
    zone: str
    volume_ul: int = _big()
    technique: str  # nappage, point by point, papule, linear retrotracing...
    depth: str  # the depth as the practitioner writes it: "2 mm", "intradermal"
    needle: str  # gauge and length: "30G 4 mm"
    injected_by: int = Field(foreign_key="user_account.id")
    note: str = ""
    recorded_at: datetime = _utc()
    recorded_by: int = Field(foreign_key="user_account.id")


class ReactionRow(Row, table=True):
    """A reaction after a batch (a session's, or any mixture's): who it happened to and when it
    was first recorded. What it is lives in its versions; nothing is deleted."""

    __tablename__ = "reaction"
    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    recorded_at: datetime = _utc()
    recorded_by: int = Field(foreign_key="user_account.id")


class ReactionVersionRow(Row, table=True):
    """One version of a reaction: the first as recorded, then each correction or confirmation
    (a new row, the reason said); the latest is the reaction as it stands."""

    __tablename__ = "reaction_version"
    __table_args__ = (sa.UniqueConstraint("reaction_id", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    reaction_id: int = Field(foreign_key="reaction.id", index=True)
    version: int
    kind: str  # domain.reactions.ReactionKind
    what: str
    onset_at: datetime = _utc()
    zone: str  # a zone code, or ""
    severity: str
    serious: str  # "" or domain.reactions.Seriousness
    treatment: str
    outcome: str
    confirmed_by: int | None = Field(default=None, foreign_key="user_account.id")
    reason: str = ""  # why this version: "" for the first
    recorded_at: datetime = _utc()
    recorded_by: int = Field(foreign_key="user_account.id")


class ReactionAllergyRow(Row, table=True):
    """The practitioner's decision on the allergy an allergic reaction proposes: confirmed (to
    every substance of the batch, or narrowed to one) or declined with a reason; once."""

    __tablename__ = "reaction_allergy"
    id: int | None = Field(default=None, primary_key=True)
    reaction_id: int = Field(foreign_key="reaction.id", unique=True)
    decision: str  # confirmed | declined
    substances: list[Any] = _json()  # the substance codes an allergy was recorded to
    reason: str = ""  # why declined
    decided_at: datetime = _utc()
    decided_by: int = Field(foreign_key="user_account.id")
