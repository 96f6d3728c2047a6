"""Use case: the tafel sends aanmeldingen for the placements a matching run proposed.

The aanmeldingen themselves go through the referral loop's batch use case
(`services.referrals.request_places`), which is all or nothing.  So the rows that
would certainly be refused (no case, a need that already has an active aanmelding,
an offering of other help) are sorted out first, each with the reason in words; the
rest go in one batch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from providers.store import access
from providers.store.access import NotFound, Principal
from services import referrals
from services.matching import NeedRow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

NO_CASE = "Er is geen casus voor dit kind. Zonder casus kan de tafel niet aanmelden."
NEED_GONE = "Deze hulpvraag staat niet meer in de casus."
OFFERING_GONE = "Dit aanbod bestaat niet meer."
OTHER_HELP = (
    "Dit aanbod biedt andere hulp dan de hulpvraag vraagt. Meld dit kind aan vanuit de casus."
)
ONE_PER_CHILD = (
    "Per keer meldt de tafel één hulpvraag per kind aan. Meld de andere hulpvraag daarna aan."
)
NOT_PLACED = "Dit kind heeft in deze berekening geen plek. Er is niets om aan te melden."


@dataclass(frozen=True)
class ProposalLine:
    """One chosen row after the action: the aanmelding sent, or why not."""

    child_ref: str
    care_type_label: str
    offering_name: str
    case_need_id: int | None = None
    aanmelding_id: int | None = None
    reason: str = ""

    @property
    def sent(self) -> bool:
        return self.aanmelding_id is not None


def _seq(need_id: str) -> int:
    """The need's place in the case: a run's need ids are "<ref>/<n>" (n from 1)."""
    tail = need_id.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def send_proposal(
    session: Session,
    principal: Principal,
    rows: Sequence[NeedRow],
    *,
    today: dt.date,
    answer_days: int,
) -> list[ProposalLine]:
    """An aanmelding per chosen row at the offering the run proposed.  The caller
    commits; a refusal of the batch (someone else was just faster) raises the referral
    loop's error and nothing is sent."""
    offerings = {o.ext_id: o for o in access.search_offerings(session, principal)}
    lines: list[ProposalLine] = []
    batch: list[tuple[int, referrals.PlaceRequest]] = []
    seen: set[str] = set()
    for row in rows:
        name = f"{row.provider} ({row.location})" if row.placed else ""

        def refused(reason: str, need: int | None = None, r: NeedRow = row, n: str = name) -> None:
            lines.append(ProposalLine(r.child_ref, r.care_type_label, n, need, reason=reason))

        if not row.placed or not row.offering:
            refused(NOT_PLACED)
            continue
        try:
            case = referrals.case_page(session, principal, row.child_ref, today=today)
        except NotFound:
            refused(NO_CASE)
            continue
        seq = _seq(row.need_id)
        if not 0 < seq <= len(case.needs):
            refused(NEED_GONE)
            continue
        need = case.needs[seq - 1]
        offering = offerings.get(row.offering)
        if not need.can_request:
            refused(need.why_not, need.id)
        elif offering is None:
            refused(OFFERING_GONE, need.id)
        elif offering.care_type != need.care_type:
            refused(OTHER_HELP, need.id)
        elif row.child_ref in seen:
            refused(ONE_PER_CHILD, need.id)
        else:
            seen.add(row.child_ref)
            lines.append(ProposalLine(row.child_ref, row.care_type_label, name, need.id))
            batch.append(
                (
                    len(lines) - 1,
                    referrals.PlaceRequest(
                        ref=row.child_ref,
                        need_id=need.id,
                        offering_id=offering.id,
                        context="",
                        today=today,
                        answer_days=answer_days,
                    ),
                )
            )
    if batch:
        ids = referrals.request_places(session, principal, tuple(r for _, r in batch))
        for (at, _), aid in zip(batch, ids, strict=True):
            line = lines[at]
            lines[at] = ProposalLine(
                line.child_ref, line.care_type_label, line.offering_name, line.case_need_id, aid
            )
    return sorted(lines, key=lambda x: (not x.sent, x.child_ref))
