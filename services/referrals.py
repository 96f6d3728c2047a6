"""Use cases of the referral loop: register a case, request a place, answer, start.

Typed requests in, typed results out; the role checks, the audit and the rules of
the loop live in the data layer (`providers.store.referrals`,
`providers.store.aanmeldingen`), the norm clocks in `matcher.domain.clocks`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode

from matcher.domain import clocks
from matcher.domain.caretypes import care_type_label
from matcher.domain.reasons import Reason, reason_text, wj759
from providers import reference
from providers.store import aanmeldingen as store
from providers.store import access, waits
from providers.store import referrals as cases
from providers.store.access import Principal, get_offering
from providers.store.models import UNCLASSIFIED, AanmeldingStatus
from providers.store.waits import MIN_STARTS as MIN_STARTS

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

S = AanmeldingStatus
UNCLASSIFIED_LABEL = "Nog niet bepaald"
WHY_NO_BUTTON = (
    "Aanmelden kan nu niet: er loopt al een aanmelding voor deze hulpvraag. "
    "Een nieuwe aanmelding kan pas als die is beantwoord, ingetrokken of afgemeld."
)


CaseInput = cases.CaseInput
ReferralError = cases.ReferralError


def provider_options(session: Session) -> list[tuple[str, str]]:
    """(aanbieder_id, name) of every provider, by name: where a family may want to keep
    waiting (names of organisations, no case data)."""
    return sorted(access.provider_names(session).items(), key=lambda kv: (kv[1], kv[0]))


def register_case(
    session: Session, principal: Principal, case: CaseInput, *, today: dt.date
) -> str:
    """Store a new case for the verwijzer's organisation; returns its ref."""
    return cases.register_case(session, principal, case, today=today)


# What of a search travels with an aanmelding: never the search's kenmerken (the
# provider gets only the attributes relevant to its offering, chosen by the store).
CONTEXT_KEYS = ("zorgvorm", "leeftijd", "gemeente", "route", "regio", "uitspraak", "deadline")


def search_context(query: str) -> str:
    """The search that led to an aanmelding, without its attributes."""
    pairs = [(k, v) for k, v in parse_qsl(query)[:20] if k in CONTEXT_KEYS and v]
    return urlencode(pairs)[:400]


def context_text(context: str) -> str:
    """The search behind an aanmelding in words, for the provider ("" when none)."""
    parts = []
    gem = reference.gemeenten()
    for key, value in parse_qsl(context):
        if key == "zorgvorm" and value in reference.care_types():
            parts.append(need_label(value))
        elif key == "leeftijd" and value.isdigit():
            parts.append(f"{value} jaar")
        elif key == "gemeente" and value in gem:
            parts.append(f"gemeente {gem[value].name}")
        elif key == "regio" and value == "buiten":
            parts.append("ook buiten de regio")
    return ", ".join(parts)


def need_label(code: str) -> str:
    return UNCLASSIFIED_LABEL if code == UNCLASSIFIED else care_type_label(code, capital=True)


def attribute_labels(codes: tuple[str, ...]) -> tuple[str, ...]:
    known = reference.attributes()
    return tuple(known[c].label if c in known else c for c in codes)


def decline_reasons() -> tuple[tuple[str, str], ...]:
    """(reason name, B1 sentence with its WJ759 code) for the answer form."""
    out = []
    for r in cases.DECLINE_REASONS:
        code = wj759(r)
        text = reason_text(r)
        out.append((r.name, f"{text} (WJ759 code {code})" if code else text))
    return tuple(out)


@dataclass(frozen=True)
class AanmeldingLine:
    id: int
    offering_id: int
    offering_ext_id: str
    provider: str
    status: AanmeldingStatus
    status_label: str
    requested_on: dt.date
    answer_due: dt.date
    overdue: bool
    planned_intake: dt.date | None
    planned_start: dt.date | None
    reason: str
    reason_text: str
    intake_date: dt.date | None
    start_date: dt.date | None
    shared_attributes: tuple[str, ...]
    context: str
    events: tuple[tuple[dt.date, str, str, str], ...]  # on, actor, status label, detail
    can_withdraw: bool


@dataclass(frozen=True)
class NeedLine:
    id: int
    label: str
    classified: bool
    start_date: dt.date | None
    norm_text: str
    norm_ok: bool
    can_request: bool
    why_not: str
    care_type: str
    aanmeldingen: tuple[AanmeldingLine, ...]


@dataclass(frozen=True)
class CasePage:
    ref: str
    age: int
    gemeente: str
    measure: str
    ruling_date: dt.date
    norm3_deadline: dt.date
    attributes: tuple[str, ...]
    status: str
    needs: tuple[NeedLine, ...]
    overdue: int
    gemeente_code: str = ""
    attribute_codes: tuple[str, ...] = ()
    urgent_deadline: dt.date | None = None


def _line(session: Session, principal: Principal, a: cases.AanmeldingView) -> AanmeldingLine:
    offering = get_offering(session, principal, a.offering_id)
    return AanmeldingLine(
        id=a.id,
        offering_id=a.offering_id,
        offering_ext_id=a.offering_ext_id,
        provider=offering.provider_name,
        status=a.status,
        status_label=store.status_label(a.status),
        requested_on=a.requested_on,
        answer_due=a.answer_due,
        overdue=a.overdue,
        planned_intake=a.planned_intake,
        planned_start=a.planned_start,
        reason=reason_text(a.reason) if a.reason else "",
        reason_text=a.reason_text,
        intake_date=a.intake_date,
        start_date=a.start_date,
        shared_attributes=attribute_labels(a.shared_attributes),
        context=a.context,
        events=tuple((e.on, e.actor, store.status_label(S(e.status)), e.detail) for e in a.events),
        can_withdraw=a.active,
    )


def norm_text(case: cases.CaseView, need: cases.NeedView, today: dt.date) -> tuple[str, bool]:
    """The norm-3 line of a need: a real start, else the planned start of an accepted
    aanmelding, against the deadline (an intake never counts)."""
    if need.start_date is not None:
        v = clocks.start_verdict(case.norm3_deadline, need.start_date, need.start_date)
        if v.within_norm:
            return "Gestart binnen de norm", True
        return f"Gestart, {v.days_late} {'dag' if v.days_late == 1 else 'dagen'} te laat", False
    planned = need.active.planned_start if need.active is not None else None
    v = clocks.start_verdict(case.norm3_deadline, planned, today)
    return v.text, v.within_norm


def case_page(session: Session, principal: Principal, ref: str, *, today: dt.date) -> CasePage:
    case = cases.get_case(session, principal, ref, today=today)
    gem = reference.gemeenten().get(case.gemeente_code)
    measures = reference.measures()
    needs = []
    overdue = 0
    for n in case.needs:
        lines = tuple(_line(session, principal, a) for a in n.aanmeldingen)
        overdue += sum(1 for x in lines if x.overdue)
        text, ok = norm_text(case, n, today)
        if not n.classified:
            why = "Bepaal eerst welke hulp nodig is; dan kunt u aanmelden."
        elif n.start_date is not None:
            why = "De hulp is gestart."
        elif n.active is not None:
            why = WHY_NO_BUTTON
        else:
            why = ""
        needs.append(
            NeedLine(
                id=n.id,
                label=need_label(n.care_type),
                classified=n.classified,
                start_date=n.start_date,
                norm_text=text,
                norm_ok=ok,
                can_request=not why,
                why_not=why,
                care_type=n.care_type,
                aanmeldingen=lines,
            )
        )
    age = cases.age_of(case.birth_month, today)
    return CasePage(
        ref=case.ref,
        age=age,
        gemeente=gem.name if gem else case.gemeente_code,
        measure=measures[case.measure].label if case.measure in measures else case.measure,
        ruling_date=case.ruling_date,
        norm3_deadline=case.norm3_deadline,
        attributes=attribute_labels(case.attributes),
        status=case.status,
        needs=tuple(needs),
        overdue=overdue,
        gemeente_code=case.gemeente_code,
        attribute_codes=case.attributes,
        urgent_deadline=case.urgent_deadline,
    )


@dataclass(frozen=True)
class CaseRow:
    ref: str
    age: int
    gemeente: str
    needs: tuple[str, ...]
    statuses: tuple[str, ...]
    norm3_deadline: dt.date
    norm_text: str
    norm_ok: bool
    overdue: bool


def case_list(session: Session, principal: Principal, *, today: dt.date) -> list[CaseRow]:
    store.flag_overdue_answers(session, today=today)
    gem = reference.gemeenten()
    rows = []
    for c in cases.list_cases(session, principal, today=today):
        texts = [norm_text(c, n, today) for n in c.needs if n.classified]
        worst = next((t for t in texts if not t[1]), texts[0] if texts else ("", True))
        statuses = []
        for n in c.needs:
            last = n.aanmeldingen[-1] if n.aanmeldingen else None
            statuses.append(store.status_label(last.status) if last else "nog niet aangemeld")
        rows.append(
            CaseRow(
                ref=c.ref,
                age=cases.age_of(c.birth_month, today),
                gemeente=gem[c.gemeente_code].name if c.gemeente_code in gem else c.gemeente_code,
                needs=tuple(need_label(n.care_type) for n in c.needs),
                statuses=tuple(statuses),
                norm3_deadline=c.norm3_deadline,
                norm_text=worst[0],
                norm_ok=worst[1],
                overdue=any(a.overdue for n in c.needs for a in n.aanmeldingen),
            )
        )
    return rows


@dataclass(frozen=True)
class RequestCandidate:
    """A need that could be requested at the offering, or why not."""

    ref: str
    need_id: int
    label: str
    can_request: bool
    why_not: str
    shared: tuple[str, ...]


@dataclass(frozen=True)
class RequestPage:
    offering_id: int
    provider: str
    care_type: str
    answer_days: int
    candidates: tuple[RequestCandidate, ...]


def request_page(
    session: Session,
    principal: Principal,
    offering_id: int,
    *,
    today: dt.date,
    answer_days: int,
) -> RequestPage:
    """The verwijzer's cases with a need of this offering's care type."""
    offering = get_offering(session, principal, offering_id)
    contra = set(offering.contra_indications) | {"LVB"}
    info = reference.care_types().get(offering.care_type)
    if info is not None and info.requires_stability:
        contra.add("INSTABIELE_SITUATIE")
    out = []
    for c in cases.list_cases(session, principal, today=today):
        for n in c.needs:
            if n.care_type != offering.care_type or n.start_date is not None:
                continue
            why = WHY_NO_BUTTON if n.active is not None else ""
            shared = tuple(a for a in c.attributes if a in contra)
            out.append(
                RequestCandidate(
                    ref=c.ref,
                    need_id=n.id,
                    label=need_label(n.care_type),
                    can_request=not why,
                    why_not=why,
                    shared=attribute_labels(shared),
                )
            )
    return RequestPage(
        offering_id=offering.id,
        provider=offering.provider_name,
        care_type=need_label(offering.care_type),
        answer_days=answer_days,
        candidates=tuple(out),
    )


@dataclass(frozen=True)
class PlaceRequest:
    ref: str
    need_id: int
    offering_id: int
    context: str
    today: dt.date
    answer_days: int = cases.DEFAULT_ANSWER_DAYS


def request_place(session: Session, principal: Principal, req: PlaceRequest) -> int:
    return store.request_place(
        session,
        principal,
        req.ref,
        req.need_id,
        req.offering_id,
        today=req.today,
        context=search_context(req.context),
        answer_days=req.answer_days,
    )


def request_places(
    session: Session, principal: Principal, requests: tuple[PlaceRequest, ...]
) -> list[int]:
    """Several children at once, one offering each (a tafel proposal): all or nothing,
    the caller commits only when every request went through."""
    refs = [r.ref for r in requests]
    if len(set(refs)) != len(refs):
        raise cases.ReferralError("aanmeldingen", "Kies per kind één aanbod.")
    return [request_place(session, principal, r) for r in requests]


@dataclass(frozen=True)
class InboxLine:
    id: int
    child_ref: str
    age: int
    gemeente: str
    care_type: str
    offering_ext_id: str
    status: AanmeldingStatus
    status_label: str
    requested_on: dt.date
    answer_due: dt.date
    overdue: bool
    norm3_deadline: dt.date
    shared_attributes: tuple[str, ...]
    context: str
    planned_intake: dt.date | None
    planned_start: dt.date | None
    reason: str
    reason_text: str
    events: tuple[tuple[dt.date, str, str, str], ...]


def _inbox_line(a: cases.AanmeldingView) -> InboxLine:
    gem = reference.gemeenten().get(a.gemeente_code)
    return InboxLine(
        id=a.id,
        child_ref=a.child_ref,
        age=a.age,
        gemeente=gem.name if gem else a.gemeente_code,
        care_type=need_label(a.care_type),
        offering_ext_id=a.offering_ext_id,
        status=a.status,
        status_label=store.status_label(a.status),
        requested_on=a.requested_on,
        answer_due=a.answer_due,
        overdue=a.overdue,
        norm3_deadline=a.norm3_deadline,
        shared_attributes=attribute_labels(a.shared_attributes),
        context=context_text(a.context),
        planned_intake=a.planned_intake,
        planned_start=a.planned_start,
        reason=reason_text(a.reason) if a.reason else "",
        reason_text=a.reason_text,
        events=tuple((e.on, e.actor, store.status_label(S(e.status)), e.detail) for e in a.events),
    )


def provider_inbox(session: Session, principal: Principal, *, today: dt.date) -> list[InboxLine]:
    return [_inbox_line(a) for a in store.inbox(session, principal, today=today)]


def provider_aanmelding(
    session: Session, principal: Principal, aanmelding_id: int, *, today: dt.date
) -> InboxLine:
    return _inbox_line(store.get_aanmelding(session, principal, aanmelding_id, today=today))


@dataclass(frozen=True)
class Answer:
    """A provider's answer; `kind` is accept, decline, intake, start or decline_after_intake."""

    aanmelding_id: int
    kind: str
    today: dt.date
    planned_intake: dt.date | None = None
    planned_start: dt.date | None = None
    on: dt.date | None = None
    reason: Reason | None = None
    text: str = ""


def answer(session: Session, principal: Principal, a: Answer) -> None:
    aid, today = a.aanmelding_id, a.today
    if a.kind == "accept" and a.planned_intake and a.planned_start:
        store.accept(
            session,
            principal,
            aid,
            planned_intake=a.planned_intake,
            planned_start=a.planned_start,
            today=today,
        )
    elif a.kind in ("decline", "decline_after_intake") and a.reason is not None:
        store.decline(
            session,
            principal,
            aid,
            reason=a.reason,
            text=a.text,
            today=today,
            after_intake=a.kind == "decline_after_intake",
        )
    elif a.kind == "intake" and a.on:
        store.register_intake(session, principal, aid, on=a.on, today=today)
    elif a.kind == "start" and a.on:
        store.register_start(session, principal, aid, on=a.on, today=today)
    else:
        raise cases.ReferralError("antwoord", "Vul alle velden van dit antwoord in.")


def withdraw(session: Session, principal: Principal, aanmelding_id: int, *, today: dt.date) -> None:
    store.withdraw(session, principal, aanmelding_id, today=today)


FORECAST_SELF = "de opgave van de aanbieder"
FORECAST_MEASURED = "de gemeten wachttijd (8 van de 10 binnen)"


@dataclass(frozen=True)
class MeasuredWaitLine:
    """The measured wait (aanmelding to real start, last six months) beside the
    provider's own figure.  The start forecast (`matcher.forecast`) is built from
    places, release schedule and intake time with the provider's own wait as its
    bound until a measured wait is shown; from then on the search's expected start
    uses the measured 80th percentile (`services.search.stated_wait_days`)."""

    offering_id: int
    offering_ext_id: str
    provider: str
    care_type: str
    gemeente: str
    self_reported_days: int
    count: int
    median_days: float | None
    p80_days: int | None
    differs: bool
    used_by_forecast: str = FORECAST_SELF


def wait_overview(
    session: Session,
    principal: Principal,
    *,
    today: dt.date,
    margin: int,
    offering_ids: set[int] | None = None,
) -> list[MeasuredWaitLine]:
    """Every offering with a start in the last six months (or the given ones)."""
    measured = waits.measured_waits(session, today=today)
    ids = set(measured) if offering_ids is None else offering_ids
    gem = reference.gemeenten()
    out = []
    for oid in sorted(ids):
        o = get_offering(session, principal, oid)
        m = measured.get(oid) or waits.summarise(oid, [])
        out.append(
            MeasuredWaitLine(
                offering_id=oid,
                offering_ext_id=o.ext_id,
                provider=o.provider_name,
                care_type=need_label(o.care_type),
                gemeente=gem[o.gemeente_code].name if o.gemeente_code in gem else o.gemeente_code,
                self_reported_days=o.expected_wait_days,
                count=m.count,
                median_days=m.median_days,
                p80_days=m.p80_days,
                differs=waits.differs(o.expected_wait_days, m, margin),
                used_by_forecast=FORECAST_MEASURED if m.p80_days is not None else FORECAST_SELF,
            )
        )
    out.sort(key=lambda x: (x.provider, x.care_type, x.offering_ext_id))
    return out
