"""The referral loop's recorded refusals as the matching's `Refusal`s."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from matcher.domain import Offering, Refusal
from matcher.domain.reasons import Reason
from providers.codes import ATTRIBUTE_BY_CODE
from providers.store.aanmeldingen import declines as loop_declines
from providers.store.access import Principal


def refusals_from_loop(
    session: Session,
    principal: Principal,
    region: str | None,
    refs: set[str],
    offerings: Sequence[Offering],
) -> list[Refusal]:
    """A provider's recorded no (afgewezen, also after intake) is a refusal of that child
    at that offering.  A no for a contra-indication names the shared attribute that the
    offering declares, so the matching reports it as a contra-indication; any other no
    is a refusal without one (ADVISORY: not proposed again; BINDING: acceptance duty)."""
    declared = {o.id: o.contra_indications for o in offerings}
    out: list[Refusal] = []
    for ext, ref, reason, shared in loop_declines(session, principal, region_code=region):
        if ref not in refs or ext not in declared:
            continue
        contra = None
        if reason is Reason.CONTRA_INDICATION:
            attrs = [ATTRIBUTE_BY_CODE[a] for a in shared if a in ATTRIBUTE_BY_CODE]
            contra = next((a for a in attrs if a in declared[ext]), attrs[0] if attrs else None)
        out.append(
            Refusal(
                offering=ext,
                child_ref=ref,
                contra_indication=contra,
                note=reason.name if reason else "",
            )
        )
    return out
