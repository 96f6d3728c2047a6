"""SQLAlchemy 2 models.

Money in integer euro cents; places and waits carry who confirmed them and
when, and a `version` for optimistic concurrency.  The schema itself is made
by the alembic migrations in `migrations/` (never by `create_all`), so every
database gets exactly the tested DDL, including CHECK constraints and the
triggers that keep the audit log append-only.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from matcher.domain.caretypes import UNCLASSIFIED_CODE

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Role(enum.StrEnum):
    VERWIJZER = "verwijzer"
    AANBIEDER = "aanbieder"
    TAFEL = "tafel"
    INKOOP = "inkoop"
    BEHEER = "beheer"


class OrganisationKind(enum.StrEnum):
    GI = "gi"
    LOKAAL_TEAM = "lokaal_team"
    AANBIEDER = "aanbieder"
    GEMEENTE = "gemeente"
    REGIO = "regio"  # jeugdregio / inkooporganisatie / zorgbemiddelingstafel
    BEHEER = "beheer"


class ChildStatus(enum.StrEnum):
    WAITING = "wachtend"
    PLACED = "geplaatst"
    CLOSED = "afgesloten"


class AuditAction(enum.StrEnum):
    READ = "lezen"
    WRITE = "schrijven"
    EXPORT = "export"
    IMPORT = "import"
    DELETE = "verwijderen"


def _in(col: str, values: type[enum.StrEnum]) -> str:
    return f"{col} IN ({', '.join(repr(v.value) for v in values)})"


class Organisation(Base):
    __tablename__ = "organisations"
    __table_args__ = (CheckConstraint(_in("kind", OrganisationKind), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    region_code: Mapped[str | None] = mapped_column(String(8), index=True)
    gemeente_code: Mapped[str | None] = mapped_column(String(8))
    gi_code: Mapped[str | None] = mapped_column(String(20))
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"))


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint(_in("role", Role), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    organisation: Mapped[Organisation] = relationship()


class Provider(Base):
    __tablename__ = "providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    ext_id: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(String(8))
    is_main_contractor: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SubcontractAcceptance(Base):
    """A hoofdaannemer accepts this onderaannemer (DOMAIN R10/R11)."""

    __tablename__ = "subcontract_acceptances"

    main_provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), primary_key=True
    )
    sub_provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), primary_key=True
    )


class Offering(Base):
    __tablename__ = "offerings"
    __table_args__ = (
        CheckConstraint("places_free >= 0", name="places_free_nonnegative"),
        CheckConstraint("release_per_week >= 0", name="release_nonnegative"),
        CheckConstraint("age_min <= age_max", name="age_range"),
        CheckConstraint("price_cents >= 0", name="price_nonnegative"),
        CheckConstraint("expected_wait_days >= 0", name="wait_nonnegative"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ext_id: Mapped[str] = mapped_column(String(40), unique=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    care_type: Mapped[str] = mapped_column(String(60), index=True)
    gemeente_code: Mapped[str] = mapped_column(String(8))
    region_code: Mapped[str] = mapped_column(String(8), index=True)
    places_free: Mapped[int] = mapped_column(Integer)
    release_per_week: Mapped[float] = mapped_column(Float, default=0.0)
    age_min: Mapped[int] = mapped_column(Integer, default=0)
    age_max: Mapped[int] = mapped_column(Integer, default=18)
    lvb_expertise: Mapped[bool] = mapped_column(Boolean, default=False)
    contra_indications: Mapped[str] = mapped_column(String(400), default="")
    intake_stop: Mapped[bool] = mapped_column(Boolean, default=False)
    price_cents: Mapped[int] = mapped_column(Integer, default=0)
    intake_days: Mapped[int] = mapped_column(Integer, default=14)
    expected_wait_days: Mapped[int] = mapped_column(Integer, default=0)
    service_regions: Mapped[str] = mapped_column(String(400), default="")
    confirmed_by: Mapped[str] = mapped_column(String(200))
    confirmed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    provider: Mapped[Provider] = relationship()


class Contract(Base):
    __tablename__ = "contracts"
    __table_args__ = (CheckConstraint("valid_from <= valid_until", name="period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ext_id: Mapped[str] = mapped_column(String(40), unique=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(8), index=True)
    gemeente_code: Mapped[str | None] = mapped_column(String(8))
    care_type: Mapped[str] = mapped_column(String(60))
    perceel: Mapped[str | None] = mapped_column(String(100))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date] = mapped_column(Date)


class Budget(Base):
    __tablename__ = "budgets"
    __table_args__ = (
        CheckConstraint("ceiling_cents >= 0", name="ceiling_nonnegative"),
        CheckConstraint("spent_cents >= 0", name="spent_nonnegative"),
        CheckConstraint("level IN ('aanbieder', 'perceel', 'gemeente', 'regio')", name="level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ext_id: Mapped[str] = mapped_column(String(40), unique=True)
    level: Mapped[str] = mapped_column(String(20))
    region_code: Mapped[str] = mapped_column(String(8), index=True)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"))
    gemeente_code: Mapped[str | None] = mapped_column(String(8))
    perceel: Mapped[str | None] = mapped_column(String(100))
    care_types: Mapped[str] = mapped_column(String(2000), default="")
    ceiling_cents: Mapped[int] = mapped_column(Integer)
    spent_cents: Mapped[int] = mapped_column(Integer, default=0)
    confirmed_by: Mapped[str] = mapped_column(String(200))
    confirmed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)


class Child(Base):
    """A waiting child: pseudonymous ref only, never a name, BSN or address."""

    __tablename__ = "children"
    __table_args__ = (CheckConstraint(_in("status", ChildStatus), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(40), unique=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    gemeente_code: Mapped[str] = mapped_column(String(8))
    region_code: Mapped[str] = mapped_column(String(8), index=True)
    birth_month: Mapped[str] = mapped_column(String(7))
    gi: Mapped[str] = mapped_column(String(20))
    measure: Mapped[str] = mapped_column(String(30))
    ruling_date: Mapped[dt.date] = mapped_column(Date)
    gi_notified_date: Mapped[dt.date | None] = mapped_column(Date)
    urgent_deadline: Mapped[dt.date | None] = mapped_column(Date)
    attributes: Mapped[str] = mapped_column(String(400), default="")
    family_ref: Mapped[str | None] = mapped_column(String(40))
    current_offering_id: Mapped[int | None] = mapped_column(ForeignKey("offerings.id"))
    # the family wants to stay on this provider's waiting list (no place elsewhere)
    family_prefers_provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"))
    status: Mapped[str] = mapped_column(String(20), default=ChildStatus.WAITING.value)
    placed_at: Mapped[dt.date | None] = mapped_column(Date)
    closed_at: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    # Only the open needs: a closed one (gone from a re-imported list, kept for its
    # loop history) is no longer asked for, so no reader may match or count it.
    needs: Mapped[list[ChildNeed]] = relationship(
        primaryjoin="and_(Child.id == ChildNeed.child_id, ChildNeed.status == 'open')",
        order_by="ChildNeed.seq",
        cascade="all, delete-orphan",
        lazy="selectin",
    )


class NeedStatus(enum.StrEnum):
    OPEN = "open"
    # gone from a re-imported waiting list while it had loop history
    CLOSED = "gesloten"


class ChildNeed(Base):
    __tablename__ = "child_needs"
    __table_args__ = (UniqueConstraint("child_id", "seq", name="uq_child_needs_child_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    care_type: Mapped[str] = mapped_column(String(60))
    # NeedStatus; a closed need keeps its row (and its aanmeldingen and start) with a
    # negative seq, so the open needs keep the numbers 0.. of the list.
    status: Mapped[str] = mapped_column(
        String(20), default="open", server_default="open", nullable=False
    )
    closed_on: Mapped[dt.date | None] = mapped_column(Date)


class AuditEntry(Base):
    """Append-only: who read, wrote or exported which case records; never values.

    `record_refs` lists pseudonymous refs (or internal ids), so access can be
    traced per child as NEN 7513 asks, without copying the data itself.
    Database triggers refuse UPDATE and DELETE on this table.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    organisation_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20))
    entity: Mapped[str] = mapped_column(String(40))
    record_count: Mapped[int] = mapped_column(Integer, default=0)
    record_refs: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[str] = mapped_column(String(400), default="")


class CaseStatistic(Base):
    """Counts kept when case rows are removed by the retention job.

    One row per month of placement/closure x region x gemeente x care type x
    status, so reports over past months still add up after the children
    themselves are gone (AVG data minimisation).
    """

    __tablename__ = "case_statistics"
    __table_args__ = (
        UniqueConstraint(
            "month",
            "region_code",
            "gemeente_code",
            "care_type",
            "status",
            name="uq_case_statistics_cell",
        ),
        CheckConstraint("children >= 0", name="children_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM of placement or closure
    region_code: Mapped[str] = mapped_column(String(8))
    gemeente_code: Mapped[str] = mapped_column(String(8))
    care_type: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(20))
    children: Mapped[int] = mapped_column(Integer)


class ImportBatch(Base):
    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    files: Mapped[str] = mapped_column(String(1000))
    counts: Mapped[str] = mapped_column(String(400))


class ChangeCounter(Base):
    """A number the database raises in the transaction of every write to one kind of
    data (triggers of migration 0011), so a cache can tell in one read whether
    anything it was built from changed. `last_tx` lets PostgreSQL raise it once per
    transaction."""

    __tablename__ = "change_counters"

    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)
    last_tx: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class WebSession(Base):
    """A signed-in browser session, kept on the server so it can be ended.

    The cookie carries a random token; only its SHA-256 is stored, so a copy of
    this table does not let anyone sign in. Logout and a password change set
    `ended_at`; a cookie whose session has ended is worth nothing.
    """

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(100), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class UitvraagSnapshot(Base):
    """The waiting list of one region on one count date (momentopname).

    `records` is JSON with one entry per waiting child (pseudonymous ref, GI,
    gemeente, measure, ruling date, care types, earlier deadline); `exits` lists
    the children of the previous snapshot that left the list since, with how
    (started, closed). Month-on-month stock and inflow/outflow are computed from
    consecutive snapshots by matcher.domain.uitvraag.reconcile.
    """

    __tablename__ = "uitvraag_snapshots"
    __table_args__ = (
        UniqueConstraint("region_code", "count_date", name="uq_uitvraag_snapshots_region_date"),
        CheckConstraint("waiting >= 0", name="waiting_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(String(8))  # "*" for all regions (beheer)
    count_date: Mapped[dt.date] = mapped_column(Date)
    taken_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    taken_by: Mapped[str] = mapped_column(String(100))
    waiting: Mapped[int] = mapped_column(Integer)
    records: Mapped[str] = mapped_column(Text)
    exits: Mapped[str] = mapped_column(Text, default="[]")


class JobRow(Base):
    """A background job: a tafel matching, an inkoop scenario or a purchase advice.

    Kept in the database so that the page of a job, its progress and its result
    outlive the process that started it. `params` and `result` are JSON text
    written by the job's own pydantic models (never pickle, so a stored row can
    never run code when it is read). Which rows a user may see is decided in
    `providers.store.jobs`, never here.
    """

    __tablename__ = "jobs"
    __table_args__ = (CheckConstraint("percent >= 0 AND percent <= 100", name="percent_range"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    owner: Mapped[str] = mapped_column(String(100), index=True)
    role: Mapped[str] = mapped_column(String(20))
    organisation_id: Mapped[int | None] = mapped_column(Integer)
    region_code: Mapped[str | None] = mapped_column(String(8), index=True)
    # What the user called the job (a tafel run's name); "title", not "name", because
    # the privacy scan treats a "name" column as personal data, which this must not be.
    title: Mapped[str] = mapped_column(String(200))
    params: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), index=True)
    step: Mapped[str] = mapped_column(String(200), default="")
    percent: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # The server (instance id) that runs the job and when it last said so: a waiting
    # or running job without a recent heartbeat lost its server.
    server_id: Mapped[str | None] = mapped_column(String(64), index=True)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class PendingUploadRow(Base):
    """An upload between its preview and its confirmation (/inlezen): the files as
    uploaded, their digest and the changes that were shown. In the database, so any
    server process (or the same one after a restart) can confirm it; removed when it
    is confirmed, replaced or expired."""

    __tablename__ = "pending_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)  # the order they came in
    token: Mapped[str] = mapped_column(String(64), unique=True)
    owner: Mapped[str] = mapped_column(String(100), index=True)
    digest: Mapped[str] = mapped_column(String(64))
    files: Mapped[bytes] = mapped_column(LargeBinary)
    changes: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


class OfferingRelease(Base):
    """Places of an offering that free up on a known date (the provider's own schedule).

    When an offering has such dates, the matching uses them instead of the weekly
    estimate `Offering.release_per_week` (providers.convert)."""

    __tablename__ = "offering_releases"
    __table_args__ = (
        UniqueConstraint("offering_id", "on_date", name="uq_offering_releases_offering_date"),
        CheckConstraint("places >= 1", name="places_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(
        ForeignKey("offerings.id", ondelete="CASCADE"), index=True
    )
    on_date: Mapped[dt.date] = mapped_column(Date)
    places: Mapped[int] = mapped_column(Integer)


# --- the referral loop (aanmelding -> reactie -> intake -> start) --------------------

# An unclassified need (help not determined yet) is a ChildNeed with this care type:
# it is counted on the waiting list, never matched and never requested.
UNCLASSIFIED = UNCLASSIFIED_CODE


class AanmeldingStatus(enum.StrEnum):
    AANGEVRAAGD = "aangevraagd"
    GEACCEPTEERD = "geaccepteerd"
    AFGEWEZEN = "afgewezen"
    INGETROKKEN = "ingetrokken"
    AFGEMELD = "afgemeld"
    INTAKE_GEDAAN = "intake_gedaan"
    AFGEWEZEN_NA_INTAKE = "afgewezen_na_intake"
    GESTART = "gestart"


# Statuses in which an aanmelding still binds the need: a new one waits until this one
# is answered (no), withdrawn or afgemeld (DOMAIN 1d: one active aanmelding per need).
ACTIVE_STATUSES = frozenset(
    {AanmeldingStatus.AANGEVRAAGD, AanmeldingStatus.GEACCEPTEERD, AanmeldingStatus.INTAKE_GEDAAN}
)


class NeedClock(Base):
    """Clock dates of one need that the import format does not carry.

    `start_date` is the real start of the help itself (never an intake), set only by a
    registered start; it stops the norm-3 clock of this need.
    """

    __tablename__ = "need_clocks"

    need_id: Mapped[int] = mapped_column(
        ForeignKey("child_needs.id", ondelete="CASCADE"), primary_key=True
    )
    need_determined_date: Mapped[dt.date | None] = mapped_column(Date)
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    started_offering_id: Mapped[int | None] = mapped_column(ForeignKey("offerings.id"))


class Aanmelding(Base):
    """A request for a place (iJw JW315 concept) for one need at one offering.

    `active_need_id` equals `need_id` while the aanmelding is active and is NULL
    otherwise; its unique constraint makes "at most one active aanmelding per need"
    hold in the database too, on SQLite and PostgreSQL alike (NULLs never clash).
    """

    __tablename__ = "aanmeldingen"
    __table_args__ = (
        CheckConstraint(_in("status", AanmeldingStatus), name="status"),
        UniqueConstraint("active_need_id", name="uq_aanmeldingen_active_need_id"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(
        ForeignKey("child_needs.id", ondelete="CASCADE"), index=True
    )
    active_need_id: Mapped[int | None] = mapped_column(Integer)
    offering_id: Mapped[int] = mapped_column(ForeignKey("offerings.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    status: Mapped[str] = mapped_column(String(30), default=AanmeldingStatus.AANGEVRAAGD.value)
    requested_on: Mapped[dt.date] = mapped_column(Date)
    answer_due: Mapped[dt.date] = mapped_column(Date)
    requested_by: Mapped[str] = mapped_column(String(100))
    context: Mapped[str] = mapped_column(String(400), default="")
    shared_attributes: Mapped[str] = mapped_column(String(400), default="")
    answered_on: Mapped[dt.date | None] = mapped_column(Date)
    planned_intake: Mapped[dt.date | None] = mapped_column(Date)
    planned_start: Mapped[dt.date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(60))
    reason_text: Mapped[str] = mapped_column(String(400), default="")
    intake_date: Mapped[dt.date | None] = mapped_column(Date)
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AanmeldingEvent(Base):
    """The history of an aanmelding: one row per status change, never updated."""

    __tablename__ = "aanmelding_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    aanmelding_id: Mapped[int] = mapped_column(
        ForeignKey("aanmeldingen.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    on: Mapped[dt.date] = mapped_column(Date)
    actor: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str] = mapped_column(String(400), default="")


class Melding(Base):
    """An in-app notification for one organisation (and by e-mail when configured)."""

    __tablename__ = "meldingen"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    kind: Mapped[str] = mapped_column(String(30))
    text: Mapped[str] = mapped_column(String(400))
    link: Mapped[str] = mapped_column(String(200), default="")
    dedupe_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    mailed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class MeldingAddress(Base):
    """Where an organisation's meldingen also go by e-mail (a team mailbox)."""

    __tablename__ = "melding_addresses"

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[str] = mapped_column(String(200), primary_key=True)
