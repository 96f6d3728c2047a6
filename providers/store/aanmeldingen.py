"""Aanmeldingen: request a place, answer it, register intake and the real start.

The rules of DOMAIN 1d and norm 3 live here and in the database:

- at most one active aanmelding per need: checked before the insert, and held by
  the unique `active_need_id` column when two requests race;
- a provider answers only aanmeldingen for its own offerings;
- only a registered real start (never an intake) sets the need's start date,
  which stops its norm-3 clock; a case whose classified needs have all started
  leaves the waiting list (status geplaatst).

Each change is one UPDATE ... WHERE status IN (the statuses it may come from), so
of two people changing the same aanmelding at once exactly one wins.  The caller
commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matcher.domain import clocks
from matcher.domain.reasons import Reason
from providers.store import meldingen
from providers.store.access import AccessDenied, NotFound, Principal, audit
from providers.store.models import (
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
    Role,
    utcnow,
)
from providers.store.referrals import (
    DECLINE_REASONS,
    DEFAULT_ANSWER_DAYS,
    NOT_YOUR_AANMELDING,
    NOT_YOURS,
    PURPOSE,
    AanmeldingView,
    ReferralError,
    StatusConflict,
    aanmelding_view,
    add_event,
    case_scope,
    relevant_attributes,
    split_codes,
)

S = AanmeldingStatus
MAX_TEXT = 400


def _active_exists(session: Session, need_id: int) -> bool:
    return (
        session.scalar(select(Aanmelding.id).where(Aanmelding.active_need_id == need_id))
        is not None
    )


def request_place(
    session: Session,
    principal: Principal,
    ref: str,
    need_id: int,
    offering_id: int,
    *,
    today: dt.date,
    context: str = "",
    answer_days: int = DEFAULT_ANSWER_DAYS,
) -> int:
    """Ask `offering_id` for a place for one need of case `ref`; returns the aanmelding id.

    The provider receives the search context and only the attributes that matter for
    this offering (`relevant_attributes`)."""
    if principal.role not in (Role.VERWIJZER, Role.TAFEL, Role.BEHEER):
        raise AccessDenied("Alleen een verwijzer of de tafel kan aanmelden.")
    child = session.scalar(select(Child).where(Child.ref == ref, *case_scope(principal)))
    if child is None:
        raise NotFound(NOT_YOURS)
    need = next((n for n in child.needs if n.id == need_id), None)
    if need is None:
        raise ReferralError("hulpvraag", "Deze hulpvraag hoort niet bij deze casus.")
    if need.care_type == UNCLASSIFIED:
        raise ReferralError(
            "hulpvraag", "Voor deze hulpvraag is de hulp nog niet bepaald. Bepaal eerst de hulp."
        )
    clock = session.get(NeedClock, need.id)
    if clock is not None and clock.start_date is not None:
        raise ReferralError("hulpvraag", "De hulp voor deze hulpvraag is al gestart.")
    offering = session.get(Offering, offering_id)
    if offering is None:
        raise ReferralError("aanbod", "Dit aanbod bestaat niet.")
    if offering.care_type != need.care_type:
        raise ReferralError("aanbod", "Dit aanbod biedt andere hulp dan deze hulpvraag vraagt.")
    if _active_exists(session, need.id):
        raise ReferralError(
            "hulpvraag",
            "Er loopt al een aanmelding voor deze hulpvraag. Een nieuwe aanmelding kan pas "
            "als die is beantwoord, ingetrokken of afgemeld.",
        )
    shared = relevant_attributes(split_codes(child.attributes), offering)
    a = Aanmelding(
        need_id=need.id,
        active_need_id=need.id,
        offering_id=offering.id,
        organisation_id=child.organisation_id,
        status=S.AANGEVRAAGD.value,
        requested_on=today,
        answer_due=clocks.add_working_days(today, answer_days),
        requested_by=principal.username,
        context=context[:MAX_TEXT],
        shared_attributes=",".join(shared),
        reason_text="",
    )
    # No savepoint here: with SQLite's driver a SAVEPOINT opening the transaction is
    # committed on release, which would break the all-or-nothing of a batch.  After a
    # lost race the whole transaction is void; the caller rolls it back.
    session.add(a)
    try:
        session.flush()
    except IntegrityError as exc:
        # Another request for the same need won the race between check and insert.
        raise ReferralError("hulpvraag", "Er loopt al een aanmelding voor deze hulpvraag.") from exc
    add_event(session, principal, a, today)
    meldingen.for_provider(
        session,
        offering.provider_id,
        "nieuwe_aanmelding",
        f"Nieuwe aanmelding {a.id} voor uw aanbod {offering.ext_id}. "
        f"Antwoord uiterlijk {a.answer_due:%d-%m-%Y}.",
        link=f"/aanbieder/aanmeldingen/{a.id}",
    )
    audit(
        session, principal, AuditAction.WRITE, "aanmelding", [ref], detail=f"aanbod {offering.id}"
    )
    session.flush()
    return a.id


def _provider_scope(principal: Principal) -> list[ColumnElement[bool]]:
    if principal.role is Role.BEHEER:
        return []
    if principal.role is Role.AANBIEDER and principal.provider_id is not None:
        return [Offering.provider_id == principal.provider_id]
    raise AccessDenied("Alleen de aanbieder zelf beantwoordt een aanmelding.")


def inbox(
    session: Session, principal: Principal, *, today: dt.date, open_only: bool = False
) -> list[AanmeldingView]:
    """The aanmeldingen for this aanbieder's own offerings, newest first (audited)."""
    q = (
        select(Aanmelding, ChildNeed, Child, Offering)
        .join(ChildNeed, Aanmelding.need_id == ChildNeed.id)
        .join(Child, ChildNeed.child_id == Child.id)
        .join(Offering, Aanmelding.offering_id == Offering.id)
        .where(*_provider_scope(principal))
        .order_by(Aanmelding.id.desc())
    )
    if open_only:
        q = q.where(Aanmelding.active_need_id.is_not(None))
    views = [aanmelding_view(a, n, c, o, today) for a, n, c, o in session.execute(q)]
    audit(
        session,
        principal,
        AuditAction.READ,
        "casus",
        sorted({v.child_ref for v in views}),
        detail=PURPOSE.get(principal.role, ""),
    )
    session.flush()
    return views


def get_aanmelding(
    session: Session, principal: Principal, aanmelding_id: int, *, today: dt.date
) -> AanmeldingView:
    """One aanmelding for the aanbieder (own offerings only) with its history."""
    row = session.execute(
        select(Aanmelding, ChildNeed, Child, Offering)
        .join(ChildNeed, Aanmelding.need_id == ChildNeed.id)
        .join(Child, ChildNeed.child_id == Child.id)
        .join(Offering, Aanmelding.offering_id == Offering.id)
        .where(Aanmelding.id == aanmelding_id, *_provider_scope(principal))
    ).first()
    if row is None:
        raise NotFound(NOT_YOUR_AANMELDING)
    a, n, c, o = row
    events = list(
        session.scalars(
            select(AanmeldingEvent)
            .where(AanmeldingEvent.aanmelding_id == a.id)
            .order_by(AanmeldingEvent.id)
        )
    )
    audit(
        session,
        principal,
        AuditAction.READ,
        "casus",
        [c.ref],
        detail=f"{PURPOSE.get(principal.role, '')}, aanmelding {a.id}",
    )
    session.flush()
    return aanmelding_view(a, n, c, o, today, events)


def _load_for_provider(
    session: Session, principal: Principal, aanmelding_id: int
) -> tuple[Aanmelding, Child, Offering]:
    row = session.execute(
        select(Aanmelding, Child, Offering)
        .join(ChildNeed, Aanmelding.need_id == ChildNeed.id)
        .join(Child, ChildNeed.child_id == Child.id)
        .join(Offering, Aanmelding.offering_id == Offering.id)
        .where(Aanmelding.id == aanmelding_id, *_provider_scope(principal))
    ).first()
    if row is None:
        raise NotFound(NOT_YOUR_AANMELDING)
    return row[0], row[1], row[2]


def _transition(
    session: Session,
    principal: Principal,
    a: Aanmelding,
    allowed_from: Collection[AanmeldingStatus],
    to: AanmeldingStatus,
    on: dt.date,
    *,
    detail: str = "",
    **values: Any,
) -> None:
    if S(a.status) not in allowed_from:
        raise ReferralError(
            "status",
            f"Dit kan niet meer: de aanmelding heeft de stand '{status_label(S(a.status))}'.",
        )
    from_values = [s.value for s in allowed_from]
    active = a.need_id if to in (S.GEACCEPTEERD, S.INTAKE_GEDAAN) else None
    result = session.execute(
        update(Aanmelding)
        .where(Aanmelding.id == a.id, Aanmelding.status.in_(from_values))
        .values(
            status=to.value,
            active_need_id=active,
            version=Aanmelding.version + 1,
            updated_at=utcnow(),
            **values,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise StatusConflict()
    session.refresh(a)
    add_event(session, principal, a, on, detail)
    audit(session, principal, AuditAction.WRITE, "aanmelding", [str(a.id)], detail=to.value)


def _check_date(field: str, value: dt.date, *, not_before: dt.date, label: str) -> None:
    if value < not_before:
        raise ReferralError(field, f"De {label} ligt vóór de aanmelding ({not_before:%d-%m-%Y}).")


def accept(
    session: Session,
    principal: Principal,
    aanmelding_id: int,
    *,
    planned_intake: dt.date,
    planned_start: dt.date,
    today: dt.date,
) -> None:
    a, child, offering = _load_for_provider(session, principal, aanmelding_id)
    _check_date("intakedatum", planned_intake, not_before=a.requested_on, label="intakedatum")
    if planned_start < planned_intake:
        raise ReferralError("startdatum", "De geplande start ligt vóór de geplande intake.")
    _transition(
        session,
        principal,
        a,
        (S.AANGEVRAAGD,),
        S.GEACCEPTEERD,
        today,
        detail=f"intake {planned_intake:%d-%m-%Y}, start {planned_start:%d-%m-%Y}",
        answered_on=today,
        planned_intake=planned_intake,
        planned_start=planned_start,
    )
    _tell_verwijzer(session, a, child, offering, "geaccepteerd")


def _check_reason(reason: Reason, text: str) -> str:
    if reason not in DECLINE_REASONS:
        raise ReferralError("reden", "Kies een reden uit de lijst.")
    text = text.strip()
    if not text:
        raise ReferralError("toelichting", "Schrijf in een paar woorden waarom.")
    if len(text) > MAX_TEXT:
        raise ReferralError(
            "toelichting", f"De toelichting is te lang (hooguit {MAX_TEXT} tekens)."
        )
    return text


def decline(
    session: Session,
    principal: Principal,
    aanmelding_id: int,
    *,
    reason: Reason,
    text: str,
    today: dt.date,
    after_intake: bool = False,
) -> None:
    """A no with a WJ759 reason from the catalogue and a short text; after an intake it
    has its own status."""
    text = _check_reason(reason, text)
    a, child, offering = _load_for_provider(session, principal, aanmelding_id)
    allowed = (S.INTAKE_GEDAAN,) if after_intake else (S.AANGEVRAAGD,)
    to = S.AFGEWEZEN_NA_INTAKE if after_intake else S.AFGEWEZEN
    _transition(
        session,
        principal,
        a,
        allowed,
        to,
        today,
        detail=text,
        answered_on=a.answered_on or today,
        reason=reason.name,
        reason_text=text,
    )
    _tell_verwijzer(session, a, child, offering, status_label(to))


def register_intake(
    session: Session, principal: Principal, aanmelding_id: int, *, on: dt.date, today: dt.date
) -> None:
    """The intake took place: this does not stop the norm-3 clock."""
    a, _, _ = _load_for_provider(session, principal, aanmelding_id)
    _check_date("intakedatum", on, not_before=a.requested_on, label="intakedatum")
    if on > today:
        raise ReferralError("intakedatum", "De intakedatum ligt in de toekomst.")
    _transition(session, principal, a, (S.GEACCEPTEERD,), S.INTAKE_GEDAAN, today, intake_date=on)


def register_start(
    session: Session, principal: Principal, aanmelding_id: int, *, on: dt.date, today: dt.date
) -> None:
    """The help itself began on `on`: sets the need's start date (norm-3 clock stops) and
    takes the case off the waiting list when every classified need has started."""
    a, child, offering = _load_for_provider(session, principal, aanmelding_id)
    _check_date("startdatum", on, not_before=a.requested_on, label="startdatum")
    if on > today:
        raise ReferralError(
            "startdatum",
            "De startdatum ligt in de toekomst. Vul die in als de hulp echt begonnen is.",
        )
    _transition(
        session, principal, a, (S.GEACCEPTEERD, S.INTAKE_GEDAAN), S.GESTART, today, start_date=on
    )
    clock = session.get(NeedClock, a.need_id)
    if clock is None:
        clock = NeedClock(need_id=a.need_id)
        session.add(clock)
    clock.start_date = on
    clock.started_offering_id = offering.id
    session.flush()
    started = {
        k.need_id
        for k in session.scalars(
            select(NeedClock).where(
                NeedClock.need_id.in_([n.id for n in child.needs]),
                NeedClock.start_date.is_not(None),
            )
        )
    }
    if all(n.id in started for n in child.needs if n.care_type != UNCLASSIFIED):
        child.status = ChildStatus.PLACED.value
        child.placed_at = on
    _tell_verwijzer(session, a, child, offering, "gestart")
    session.flush()


def withdraw(session: Session, principal: Principal, aanmelding_id: int, *, today: dt.date) -> None:
    """The verwijzer (or tafel) ends an aanmelding: ingetrokken before an answer,
    afgemeld after a yes; the need is then free for a new aanmelding."""
    row = session.execute(
        select(Aanmelding)
        .join(ChildNeed, Aanmelding.need_id == ChildNeed.id)
        .join(Child, ChildNeed.child_id == Child.id)
        .where(Aanmelding.id == aanmelding_id, *case_scope(principal))
    ).first()
    if row is None:
        raise NotFound(NOT_YOURS)
    a = row[0]
    if S(a.status) is S.AANGEVRAAGD:
        _transition(session, principal, a, (S.AANGEVRAAGD,), S.INGETROKKEN, today)
    else:
        _transition(session, principal, a, (S.GEACCEPTEERD, S.INTAKE_GEDAAN), S.AFGEMELD, today)
    offering = session.get(Offering, a.offering_id)
    if offering is not None:
        meldingen.for_provider(
            session,
            offering.provider_id,
            "aanmelding_beeindigd",
            f"Aanmelding {a.id} voor {offering.ext_id} is {status_label(S(a.status))}.",
            link=f"/aanbieder/aanmeldingen/{a.id}",
        )
    session.flush()


def _tell_verwijzer(
    session: Session, a: Aanmelding, child: Child, offering: Offering, what: str
) -> None:
    if child.organisation_id is not None:
        meldingen.add(
            session,
            child.organisation_id,
            "antwoord",
            f"Casus {child.ref}: de aanmelding bij {offering.ext_id} is {what}.",
            link=f"/casussen/{child.ref}",
        )


STATUS_LABELS = {
    S.AANGEVRAAGD: "aangevraagd",
    S.GEACCEPTEERD: "geaccepteerd",
    S.AFGEWEZEN: "afgewezen",
    S.INGETROKKEN: "ingetrokken",
    S.AFGEMELD: "afgemeld",
    S.INTAKE_GEDAAN: "intake gedaan",
    S.AFGEWEZEN_NA_INTAKE: "afgewezen na intake",
    S.GESTART: "gestart",
}


def status_label(status: AanmeldingStatus) -> str:
    return STATUS_LABELS[status]


def overdue(
    session: Session, principal: Principal, *, today: dt.date
) -> list[tuple[str, int, dt.date]]:
    """Unanswered aanmeldingen past their answer term, as (case ref, aanmelding id, due),
    within the principal's case scope (verwijzer: own cases; tafel: its region)."""
    rows = session.execute(
        select(Child.ref, Aanmelding.id, Aanmelding.answer_due)
        .join(ChildNeed, Aanmelding.need_id == ChildNeed.id)
        .join(Child, ChildNeed.child_id == Child.id)
        .where(
            Aanmelding.status == S.AANGEVRAAGD.value,
            Aanmelding.answer_due < today,
            *case_scope(principal),
        )
        .order_by(Aanmelding.answer_due)
    ).all()
    return [(r[0], r[1], r[2]) for r in rows]


def declines(
    session: Session, principal: Principal, *, region_code: str | None = None
) -> Sequence[tuple[str, str, Reason | None, tuple[str, ...]]]:
    """Recorded no's as (offering ext id, child ref, reason, shared attributes), within
    the principal's case scope: the matching turns them into refusals."""
    q = (
        select(Offering.ext_id, Child.ref, Aanmelding.reason, Aanmelding.shared_attributes)
        .join(ChildNeed, Aanmelding.need_id == ChildNeed.id)
        .join(Child, ChildNeed.child_id == Child.id)
        .join(Offering, Aanmelding.offering_id == Offering.id)
        .where(
            Aanmelding.status.in_([S.AFGEWEZEN.value, S.AFGEWEZEN_NA_INTAKE.value]),
            *case_scope(principal),
        )
        .order_by(Aanmelding.id)
    )
    if region_code:
        q = q.where(Child.region_code == region_code)
    out = []
    for ext, ref, reason, shared in session.execute(q):
        code = reason if reason in Reason.__members__ else None
        out.append((ext, ref, Reason[code] if code else None, split_codes(shared)))
    return out


@dataclass(frozen=True)
class LoopFacts:
    """What the loop recorded for one waiting case, for the uniforme uitvraag: how many
    no's it got.  (Help that has really started is left out of the scenario by the
    converter, `providers.convert.scenario_from_db`.)"""

    declines: int


def loop_facts(
    session: Session, principal: Principal, refs: Collection[str]
) -> dict[str, LoopFacts]:
    """Per case ref (within the principal's case scope) with a no."""
    wanted = sorted(refs)
    declined: dict[str, int] = {}
    for i in range(0, len(wanted), 5000):
        chunk = wanted[i : i + 5000]
        for ref, n in session.execute(
            select(Child.ref, func.count(Aanmelding.id))
            .join(ChildNeed, Aanmelding.need_id == ChildNeed.id)
            .join(Child, ChildNeed.child_id == Child.id)
            .where(
                Child.ref.in_(chunk),
                Aanmelding.status.in_([S.AFGEWEZEN.value, S.AFGEWEZEN_NA_INTAKE.value]),
                *case_scope(principal),
            )
            .group_by(Child.ref)
        ):
            declined[ref] = int(n)
    return {ref: LoopFacts(n) for ref, n in sorted(declined.items())}


def flag_overdue_answers(session: Session, *, today: dt.date) -> int:
    """A melding to the verwijzer and to the region's tafel for every aanmelding past
    its answer term; each only once (dedupe key).  Returns how many were new.

    Runs as the system, whoever's page load or job triggers it: the meldingen name
    only the case ref, for organisations that may see the case."""
    rows = session.execute(
        select(
            Aanmelding.id,
            Aanmelding.answer_due,
            Child.ref,
            Child.organisation_id,
            Child.region_code,
        )
        .join(ChildNeed, Aanmelding.need_id == ChildNeed.id)
        .join(Child, ChildNeed.child_id == Child.id)
        .where(Aanmelding.status == S.AANGEVRAAGD.value, Aanmelding.answer_due < today)
    ).all()
    new = 0
    for aid, due, ref, org_id, region in rows:
        text = (
            f"Casus {ref}: aanmelding {aid} is niet op tijd beantwoord (uiterlijk {due:%d-%m-%Y})."
        )
        targets = [(org_id, f"/casussen/{ref}")] if org_id is not None else []
        targets += [(t, "/casussen") for t in meldingen.tafel_organisations(session, region)]
        for target, link in targets:
            if meldingen.add(
                session,
                target,
                "termijn_verlopen",
                text,
                link=link,
                dedupe_key=f"termijn:{aid}:{target}",
            ):
                new += 1
    session.flush()
    return new
