"""Use case: a tafel's waiting list, filtered, sorted and one page at a time.

The children come through the data layer's scoped, audited read
(`providers.store.access.waiting_list`: a tafel sees its own region, beheer all), so
no filter here can widen what the signed-in role may see.  Deadlines and days late are
the domain's (`matcher.domain.clocks`).
"""

from __future__ import annotations

import datetime as dt
import math
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from matcher.domain.caretypes import care_type_label
from matcher.domain.clocks import (
    deadline_norm1,
    deadline_norm2,
    deadline_norm3,
    norm3_deadline_for,
)
from matcher.domain.eligibility import ScenarioIndex, candidates, check_pair
from matcher.domain.reasons import reason_text, warning_text
from providers import reference
from providers.convert import scenario_from_db
from providers.store import access
from providers.store.access import ChildView, Principal
from services.matching import Choice

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

PAGE_SIZES = (25, 50, 100)
SOON_DAYS = 30


class Sort(StrEnum):
    DEADLINE = "deadline"
    REF = "kind"
    GEMEENTE = "gemeente"
    AGE = "leeftijd"


class NormFilter(StrEnum):
    ALL = ""
    LATE = "te_laat"
    SOON = "binnenkort"
    ON_TIME = "op_tijd"


class ListRequest(BaseModel):
    """What the table asks for; every field has a default that shows the whole list."""

    gemeente: str = Field(default="", description="CBS gemeente code; empty: all")
    care_type: str = Field(default="", description="care type code of one of the needs; empty: all")
    status: NormFilter = NormFilter.ALL
    min_days_late: int | None = Field(
        default=None, ge=0, description="at least this many days late"
    )
    search: str = Field(default="", description="part of a child's ref")
    sort: Sort = Sort.DEADLINE
    descending: bool = False
    page: int = Field(default=1, ge=1)
    page_size: int = Field(default=PAGE_SIZES[1], ge=1, le=max(PAGE_SIZES))


class WaitingRow(BaseModel):
    ref: str
    gemeente_code: str
    gemeente: str
    age: int
    measure: str
    ruling_date: dt.date
    deadline: dt.date
    days_to_deadline: int = Field(description="negative: the deadline has passed")
    needs: list[str] = Field(description="care-type labels")
    need_codes: list[str]
    attributes: list[str] = Field(description="Dutch labels")


class Option(BaseModel):
    value: str
    label: str


class WaitingListResult(BaseModel):
    region: str | None
    today: dt.date
    request: ListRequest
    total: int = Field(description="waiting children this role may see, before filters")
    matched: int = Field(description="children left after the filters")
    page: int = Field(description="the page shown, within 1..pages")
    pages: int
    rows: list[WaitingRow] = Field(description="the children of this page")
    matched_refs: list[str] = Field(description="every child left after the filters, in order")
    gemeenten: list[Option]
    care_types: list[Option]


def _age(birth_month: str, today: dt.date) -> int:
    year, month = (int(x) for x in birth_month.split("-")[:2])
    return today.year - year - (1 if today.month < month else 0)


def _row(c: ChildView, today: dt.date, names: dict[str, str]) -> WaitingRow:
    attrs = {code: info.label for code, info in reference.attributes().items()}
    measures = {code: info.label for code, info in reference.measures().items()}
    deadline = norm3_deadline_for(c.ruling_date, c.urgent_deadline)
    return WaitingRow(
        ref=c.ref,
        gemeente_code=c.gemeente_code,
        gemeente=names.get(c.gemeente_code, c.gemeente_code),
        age=_age(c.birth_month, today),
        measure=measures.get(c.measure, c.measure),
        ruling_date=c.ruling_date,
        deadline=deadline,
        days_to_deadline=(deadline - today).days,
        needs=[care_type_label(n) for n in c.needs],
        need_codes=list(c.needs),
        attributes=[attrs.get(a, a) for a in c.attributes],
    )


def _keep(r: WaitingRow, req: ListRequest) -> bool:
    if req.gemeente and r.gemeente_code != req.gemeente:
        return False
    if req.care_type and req.care_type not in r.need_codes:
        return False
    if req.search and req.search.strip().casefold() not in r.ref.casefold():
        return False
    late = -r.days_to_deadline
    if req.min_days_late is not None and late < req.min_days_late:
        return False
    if req.status is NormFilter.LATE:
        return late > 0
    if req.status is NormFilter.SOON:
        return 0 <= r.days_to_deadline <= SOON_DAYS
    if req.status is NormFilter.ON_TIME:
        return r.days_to_deadline > SOON_DAYS
    return True


def _sort_key(sort: Sort) -> object:
    if sort is Sort.REF:
        return lambda r: (r.ref,)
    if sort is Sort.GEMEENTE:
        return lambda r: (r.gemeente, r.days_to_deadline, r.ref)
    if sort is Sort.AGE:
        return lambda r: (r.age, r.days_to_deadline, r.ref)
    return lambda r: (r.days_to_deadline, r.ref)


def waiting_list(
    session: Session, principal: Principal, request: ListRequest, *, today: dt.date
) -> WaitingListResult:
    """The waiting children of the principal's scope that pass the request's filters,
    sorted, with the requested page (a page past the end shows the last one)."""
    children = access.waiting_list(session, principal, purpose="tafel: wachtlijst")
    names = {code: g.name for code, g in reference.gemeenten().items()}
    rows = [_row(c, today, names) for c in children]
    gemeenten = sorted({(r.gemeente, r.gemeente_code) for r in rows})
    codes = sorted({code for r in rows for code in r.need_codes}, key=care_type_label)
    kept = [r for r in rows if _keep(r, request)]
    kept.sort(key=_sort_key(request.sort), reverse=request.descending)  # type: ignore[arg-type]
    pages = max(1, math.ceil(len(kept) / request.page_size))
    page = min(request.page, pages)
    start = (page - 1) * request.page_size
    return WaitingListResult(
        region=principal.region_code,
        today=today,
        request=request,
        total=len(rows),
        matched=len(kept),
        page=page,
        pages=pages,
        rows=kept[start : start + request.page_size],
        matched_refs=[r.ref for r in kept],
        gemeenten=[Option(value=code, label=name) for name, code in gemeenten],
        care_types=[Option(value=code, label=care_type_label(code)) for code in codes],
    )


# ------------------------------------------------------------------ one child


class OfferingCheck(BaseModel):
    offering: str = Field(description="offering id, for a pin or a forbid")
    provider: str
    location: str
    care_type_label: str
    eligible: bool
    earliest_start: dt.date | None = None
    in_time: bool = Field(
        default=False, description="the earliest start is on or before the deadline"
    )
    reasons: list[str] = Field(default_factory=list, description="why it does not fit (B1)")
    warnings: list[str] = Field(default_factory=list)


class NeedDetail(BaseModel):
    need_id: str
    care_type_label: str
    eligible: list[OfferingCheck]
    other: list[OfferingCheck]


class Clock(BaseModel):
    label: str
    deadline: dt.date | None
    days_to_deadline: int | None = Field(description="negative: the deadline has passed")


class ChildDetail(BaseModel):
    today: dt.date
    row: WaitingRow
    gi: str
    clocks: list[Clock]
    needs: list[NeedDetail]
    waiting_refs: list[str] = Field(description="the waiting list a run with a pin matches")


def child_detail(
    session: Session, principal: Principal, ref: str, *, today: dt.date
) -> ChildDetail:
    """One waiting child: its norm clocks, its needs, and per need every candidate
    offering, eligible or with the reasons why not.  Raises the data layer's `NotFound`
    for a child outside the principal's scope, as for an unknown ref."""
    child_view = access.get_child(session, principal, ref)
    names = {code: g.name for code, g in reference.gemeenten().items()}
    row = _row(child_view, today, names)
    scenario = scenario_from_db(
        session, principal, evaluation_date=today, region_code=child_view.region_code
    )
    providers = access.provider_names(session)
    child = scenario.child_by_ref.get(ref)

    def days(d: dt.date | None) -> int | None:
        return None if d is None else (d - today).days

    clocks: list[Clock] = []
    needs: list[NeedDetail] = []
    if child is not None:
        policy = scenario.policy
        for label, deadline in (
            (
                "Vaste jeugdbeschermer (norm 1, 5 werkdagen na de melding)",
                deadline_norm1(child, policy),
            ),
            ("Gedragen koers (norm 2, 6 weken)", deadline_norm2(child, policy)),
            ("Passende hulp begonnen (norm 3, 3 maanden na de uitspraak)", deadline_norm3(child)),
        ):
            clocks.append(Clock(label=label, deadline=deadline, days_to_deadline=days(deadline)))
        index = ScenarioIndex(scenario)
        target = deadline_norm3(child)
        for need in child.needs:
            eligible: list[OfferingCheck] = []
            other: list[OfferingCheck] = []
            for o in candidates(scenario, need, index):
                check = check_pair(scenario, child, need, o, index, full=True)
                main = providers.get(check.via_main_contractor or "", check.via_main_contractor)
                item = OfferingCheck(
                    offering=o.id,
                    provider=providers.get(o.provider, o.provider),
                    location=names.get(o.location_gemeente, o.location_gemeente),
                    care_type_label=care_type_label(o.care_type.value),
                    eligible=check.eligible,
                    earliest_start=check.earliest_start,
                    in_time=bool(
                        check.earliest_start and target and check.earliest_start <= target
                    ),
                    reasons=[
                        reason_text(
                            r, contra=check.contra_indications, age_min=o.age_min, age_max=o.age_max
                        )
                        for r in check.reasons
                    ],
                    warnings=[warning_text(w, main=main) for w in check.warnings],
                )
                (eligible if check.eligible else other).append(item)
            eligible.sort(key=lambda c: (c.earliest_start or dt.date.max, c.provider))
            other.sort(key=lambda c: (c.provider, c.location))
            needs.append(
                NeedDetail(
                    need_id=need.id,
                    care_type_label=care_type_label(need.care_type.value),
                    eligible=eligible,
                    other=other,
                )
            )
    else:
        deadline = row.deadline
        clocks.append(
            Clock(
                label="Passende hulp begonnen (norm 3, 3 maanden na de uitspraak)",
                deadline=deadline,
                days_to_deadline=days(deadline),
            )
        )
    return ChildDetail(
        today=today,
        row=row,
        gi=child_view.gi,
        clocks=clocks,
        needs=needs,
        waiting_refs=[c.ref for c in scenario.children],
    )


def choices_from_keys(keys: list[str], refs: list[str]) -> list[Choice]:
    """Pins or forbids sent from a child's page as "child|need|offering" keys; a key of
    a child outside the run, or not of that form, is left out.  Whether the offering is
    still in the data is checked when the run builds its scenario (`with_choices`)."""
    chosen = set(refs)
    out: list[Choice] = []
    for key in keys:
        parts = key.split("|")
        if len(parts) == 3 and all(0 < len(p) <= 64 for p in parts) and parts[0] in chosen:
            out.append(Choice(child_ref=parts[0], need_id=parts[1], offering=parts[2]))
    return out
