"""The referral loop in the store: cases (casussen), aanmeldingen and their answers.

A casus is a `Child` row with its `ChildNeed` rows, so the tafel's waiting list
reads the open cases without a copy.  Who sees what (the role checks live here):

- verwijzer: the cases of its own organisation, and their aanmeldingen;
- tafel: the cases of its region;
- aanbieder: only the aanmeldingen for its own offerings, with the minimum the
  verwijzer shared (age, gemeente, the need, the attributes that matter for the
  offering); never a whole case, never a case it was not asked about;
- beheer: everything.

Every read of a case writes an audit entry with the role's purpose.  A status change
is one UPDATE ... WHERE status = <the status the user saw>, so of two people
answering at once exactly one wins.  The caller commits.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from matcher.domain import clocks
from matcher.domain.reasons import Reason, wj759
from providers import reference
from providers.errors import ProvidersError
from providers.store.access import AccessDenied, NotFound, Principal, audit, child_scope
from providers.store.models import (
    ACTIVE_STATUSES,
    UNCLASSIFIED,
    Aanmelding,
    AanmeldingEvent,
    AanmeldingStatus,
    AuditAction,
    Child,
    ChildNeed,
    ChildStatus,
    NeedClock,
    Offering,
    Provider,
    Role,
    utcnow,
)

S = AanmeldingStatus
DEFAULT_ANSWER_DAYS = 5
RECENT_DAYS = 30
NOT_YOURS = "Deze casus staat niet op uw lijst."
NOT_YOUR_AANMELDING = "Deze aanmelding bestaat niet of is niet voor uw aanbod."

# The reasons a provider may give for a no: the catalogue's reasons that fit a
# provider's answer (WJ759 code where one exists), never the matcher's own ones.
DECLINE_REASONS: tuple[Reason, ...] = (
    Reason.NO_CAPACITY,
    Reason.CONTRA_INDICATION,
    Reason.NO_LVB_EXPERTISE,
    Reason.UNSTABLE_SITUATION,
    Reason.AGE_OUT_OF_RANGE,
    Reason.NOT_PURCHASED,
    Reason.BUDGET_CEILING_REACHED,
    Reason.INTAKE_STOP,
    Reason.PROVIDER_DECLINED_WITHOUT_CONTRA_INDICATION,
)

PURPOSE = {
    Role.VERWIJZER: "casusregie",
    Role.TAFEL: "zorgbemiddeling",
    Role.AANBIEDER: "beoordelen aanmelding",
    Role.BEHEER: "beheer",
}


class ReferralError(ProvidersError, ValueError):
    """Input that breaks a rule of the loop; `user_message` names the field in B1 Dutch."""

    def __init__(self, field: str, user_message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {user_message}", user_message=user_message)


class DuplicateCase(ReferralError):
    """A case with this ref exists already: a conflict with stored data, not bad input."""


class StatusConflict(ProvidersError, RuntimeError):
    default_user_message = (
        "Deze aanmelding is net door iemand anders gewijzigd. Bekijk de nieuwe stand."
    )


# --- views ----------------------------------------------------------------------------


@dataclass(frozen=True)
class EventView:
    at: dt.datetime
    on: dt.date
    actor: str
    status: str
    detail: str


@dataclass(frozen=True)
class AanmeldingView:
    id: int
    child_ref: str
    need_id: int
    care_type: str
    offering_id: int
    offering_ext_id: str
    provider_id: int
    status: AanmeldingStatus
    requested_on: dt.date
    answer_due: dt.date
    overdue: bool
    context: str
    shared_attributes: tuple[str, ...]
    age: int
    gemeente_code: str
    norm3_deadline: dt.date
    planned_intake: dt.date | None
    planned_start: dt.date | None
    reason: Reason | None
    reason_code: str | None
    reason_text: str
    intake_date: dt.date | None
    start_date: dt.date | None
    events: tuple[EventView, ...] = ()

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES


@dataclass(frozen=True)
class NeedView:
    id: int
    seq: int
    care_type: str  # UNCLASSIFIED ("") when not determined yet
    need_determined_date: dt.date | None
    start_date: dt.date | None
    active: AanmeldingView | None
    aanmeldingen: tuple[AanmeldingView, ...]

    @property
    def classified(self) -> bool:
        return self.care_type != UNCLASSIFIED


@dataclass(frozen=True)
class CaseView:
    id: int
    ref: str
    organisation_id: int | None
    gemeente_code: str
    region_code: str
    birth_month: str
    measure: str
    ruling_date: dt.date
    gi_notified_date: dt.date | None
    urgent_deadline: dt.date | None
    attributes: tuple[str, ...]
    status: str
    norm3_deadline: dt.date
    needs: tuple[NeedView, ...]


@dataclass(frozen=True)
class CaseInput:
    """A new case as the verwijzer enters it (already parsed and typed)."""

    ref: str | None
    birth_month: str  # YYYY-MM
    gemeente_code: str
    measure: str
    ruling_date: dt.date
    needs: tuple[str, ...]  # care-type codes; UNCLASSIFIED for "nog niet bepaald"
    attributes: tuple[str, ...] = ()
    gi_notified_date: dt.date | None = None
    urgent_deadline: dt.date | None = None
    need_determined_date: dt.date | None = None
    # the family wants to stay on this provider's waiting list (its aanbieder_id)
    family_prefers_provider: str | None = None


# --- helpers --------------------------------------------------------------------------


def split_codes(s: str | None) -> tuple[str, ...]:
    return tuple(x for x in (s or "").split(",") if x)


def age_of(birth_month: str, on: dt.date) -> int:
    y, m = (int(x) for x in birth_month.split("-")[:2])
    return on.year - y - (1 if on.month < m else 0)


def case_scope(principal: Principal) -> list[ColumnElement[bool]]:
    """The cases a role may read: the same rule as every child row (`access.child_scope`)."""
    return child_scope(principal, refused="Deze rol ziet geen casussen.")


def _norm3(c: Child) -> dt.date:
    return clocks.norm3_deadline_for(c.ruling_date, c.urgent_deadline)


def _reason(code: str | None) -> Reason | None:
    return Reason[code] if code and code in Reason.__members__ else None


def aanmelding_view(
    a: Aanmelding,
    need: ChildNeed,
    child: Child,
    offering: Offering,
    today: dt.date,
    events: Sequence[AanmeldingEvent] = (),
) -> AanmeldingView:
    status = S(a.status)
    reason = _reason(a.reason)
    return AanmeldingView(
        id=a.id,
        child_ref=child.ref,
        need_id=need.id,
        care_type=need.care_type,
        offering_id=offering.id,
        offering_ext_id=offering.ext_id,
        provider_id=offering.provider_id,
        status=status,
        requested_on=a.requested_on,
        answer_due=a.answer_due,
        overdue=status is S.AANGEVRAAGD and today > a.answer_due,
        context=a.context,
        shared_attributes=split_codes(a.shared_attributes),
        age=age_of(child.birth_month, today),
        gemeente_code=child.gemeente_code,
        norm3_deadline=_norm3(child),
        planned_intake=a.planned_intake,
        planned_start=a.planned_start,
        reason=reason,
        reason_code=wj759(reason) if reason else None,
        reason_text=a.reason_text,
        intake_date=a.intake_date,
        start_date=a.start_date,
        events=tuple(EventView(e.at, e.on, e.actor, e.status, e.detail) for e in events),
    )


def add_event(
    session: Session, principal: Principal, a: Aanmelding, on: dt.date, detail: str = ""
) -> None:
    session.add(
        AanmeldingEvent(
            aanmelding_id=a.id,
            at=utcnow(),
            on=on,
            actor=principal.username,
            status=a.status,
            detail=detail[:400],
        )
    )


def relevant_attributes(child_attributes: Sequence[str], offering: Offering) -> tuple[str, ...]:
    """The child's attributes this offering needs to know about, and no others: its
    declared contra-indications, LVB (expertise) and an unstable situation when the
    care type asks for stability (data minimisation)."""
    wanted = set(split_codes(offering.contra_indications)) | {"LVB"}
    info = reference.care_types().get(offering.care_type)
    if info is not None and info.requires_stability:
        wanted.add("INSTABIELE_SITUATIE")
    return tuple(a for a in child_attributes if a in wanted)


# --- cases ----------------------------------------------------------------------------


def new_ref() -> str:
    return "C-" + secrets.token_hex(4).upper()


def register_case(
    session: Session, principal: Principal, case: CaseInput, *, today: dt.date
) -> str:
    """Store a new case for the verwijzer's own organisation; returns its ref."""
    if principal.role not in (Role.VERWIJZER, Role.BEHEER):
        raise AccessDenied("Alleen een verwijzer kan een casus aanmelden.")
    gem = reference.gemeenten().get(case.gemeente_code)
    if gem is None:
        raise ReferralError("gemeente", "Kies de gemeente die betaalt.")
    if case.measure not in reference.measures():
        raise ReferralError("maatregel", "Kies een maatregel uit de lijst.")
    cts = reference.care_types()
    if not case.needs:
        raise ReferralError("hulp", "Kies minstens één hulpvraag (of 'nog niet bepaald').")
    for code in case.needs:
        if code != UNCLASSIFIED and code not in cts:
            raise ReferralError("hulp", "Kies de hulp uit de lijst.")
    known = reference.attributes()
    if any(a not in known for a in case.attributes):
        raise ReferralError("kenmerken", "Kies de kenmerken uit de lijst.")
    if case.ruling_date > today:
        raise ReferralError("uitspraakdatum", "De datum van de uitspraak ligt in de toekomst.")
    wish = None
    if case.family_prefers_provider:
        q = select(Provider.id).where(Provider.ext_id == case.family_prefers_provider)
        wish = session.scalar(q)
        if wish is None:
            raise ReferralError("gezinswens", "Kies de aanbieder uit de lijst, of kies geen.")
    ref = case.ref or new_ref()
    if session.scalar(select(Child.id).where(Child.ref == ref)) is not None:
        raise DuplicateCase("kenmerk", f"Er is al een casus met kenmerk {ref}. Kies een ander.")
    child = Child(
        ref=ref,
        organisation_id=principal.organisation_id,
        gemeente_code=gem.code,
        region_code=gem.region_code,
        birth_month=case.birth_month,
        gi=principal.gi_code or "",
        measure=case.measure,
        ruling_date=case.ruling_date,
        gi_notified_date=case.gi_notified_date,
        urgent_deadline=case.urgent_deadline,
        attributes=",".join(case.attributes),
        family_prefers_provider_id=wish,
        status=ChildStatus.WAITING.value,
        needs=[ChildNeed(seq=i, care_type=code) for i, code in enumerate(case.needs, start=1)],
    )
    session.add(child)
    session.flush()
    for n in child.needs:
        session.add(NeedClock(need_id=n.id, need_determined_date=case.need_determined_date))
    audit(session, principal, AuditAction.WRITE, "casus", [ref], detail="nieuwe casus")
    session.flush()
    return ref


def list_cases(
    session: Session, principal: Principal, *, today: dt.date, include_closed: bool = False
) -> list[CaseView]:
    """The cases this principal may see, with their needs and aanmeldingen (audited)."""
    q = select(Child).where(*case_scope(principal))
    if not include_closed:
        # Open cases, and the ones started in the last RECENT_DAYS (to follow up);
        # older finished cases stay reachable by their ref.
        recent = today - dt.timedelta(days=RECENT_DAYS)
        q = q.where(
            or_(
                Child.status == ChildStatus.WAITING.value,
                and_(Child.status == ChildStatus.PLACED.value, Child.placed_at >= recent),
            )
        )
    children = list(session.scalars(q.order_by(Child.ruling_date, Child.ref)))
    cases = _cases(session, children, today, with_events=False)
    audit(
        session,
        principal,
        AuditAction.READ,
        "casus",
        [c.ref for c in cases],
        detail=PURPOSE.get(principal.role, ""),
    )
    session.flush()
    return cases


def get_case(session: Session, principal: Principal, ref: str, *, today: dt.date) -> CaseView:
    """One case with every aanmelding and its history; aanbieders never get here."""
    scope = case_scope(principal)
    child = session.scalar(select(Child).where(Child.ref == ref, *scope))
    if child is None:
        # The same answer for "does not exist" and "not yours": no probing of refs.
        raise NotFound(NOT_YOURS)
    case = _cases(session, [child], today, with_events=True)[0]
    audit(
        session,
        principal,
        AuditAction.READ,
        "casus",
        [ref],
        detail=PURPOSE.get(principal.role, ""),
    )
    session.flush()
    return case


def _cases(
    session: Session, children: Sequence[Child], today: dt.date, *, with_events: bool
) -> list[CaseView]:
    need_ids = [n.id for c in children for n in c.needs]
    clocks_by = {
        k.need_id: k
        for k in session.scalars(select(NeedClock).where(NeedClock.need_id.in_(need_ids)))
    }
    rows = session.execute(
        select(Aanmelding, Offering)
        .join(Offering, Aanmelding.offering_id == Offering.id)
        .where(Aanmelding.need_id.in_(need_ids))
        .order_by(Aanmelding.id)
    ).all()
    events: dict[int, list[AanmeldingEvent]] = {}
    if with_events and rows:
        ids = [a.id for a, _ in rows]
        for e in session.scalars(
            select(AanmeldingEvent)
            .where(AanmeldingEvent.aanmelding_id.in_(ids))
            .order_by(AanmeldingEvent.id)
        ):
            events.setdefault(e.aanmelding_id, []).append(e)
    by_need: dict[int, list[tuple[Aanmelding, Offering]]] = {}
    for a, o in rows:
        by_need.setdefault(a.need_id, []).append((a, o))
    out: list[CaseView] = []
    for c in children:
        needs: list[NeedView] = []
        for n in c.needs:
            views = tuple(
                aanmelding_view(a, n, c, o, today, events.get(a.id, ()))
                for a, o in by_need.get(n.id, [])
            )
            clock = clocks_by.get(n.id)
            needs.append(
                NeedView(
                    id=n.id,
                    seq=n.seq,
                    care_type=n.care_type,
                    need_determined_date=clock.need_determined_date if clock else None,
                    start_date=clock.start_date if clock else None,
                    active=next((v for v in views if v.active), None),
                    aanmeldingen=views,
                )
            )
        out.append(
            CaseView(
                id=c.id,
                ref=c.ref,
                organisation_id=c.organisation_id,
                gemeente_code=c.gemeente_code,
                region_code=c.region_code,
                birth_month=c.birth_month,
                measure=c.measure,
                ruling_date=c.ruling_date,
                gi_notified_date=c.gi_notified_date,
                urgent_deadline=c.urgent_deadline,
                attributes=split_codes(c.attributes),
                status=c.status,
                norm3_deadline=_norm3(c),
                needs=tuple(needs),
            )
        )
    return out


def norm3_status(case: CaseView, need: NeedView, today: dt.date) -> clocks.NormStatus:
    """Only a registered real start stops the norm-3 clock (an intake never does)."""
    return clocks.status(case.norm3_deadline, need.start_date, today)
