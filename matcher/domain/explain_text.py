"""Explanations as short B1 Dutch sentences (`matcher.domain.explain`): a candidate's
reason, a change ("Als er bij X 3 plekken bij komen, ..."), and the sentences of one
unplaced need."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from matcher.domain.caretypes import care_type_label
from matcher.domain.dates import date_text
from matcher.domain.eligibility import Reason
from matcher.domain.helps import SmallestChange
from matcher.domain.model import ChildAttribute
from matcher.domain.reasons import (
    NOT_OFFERED_IN_REGION,
    attribute_label,
    decisive_text,
    euro_text,
    plural,
    reason_text,
)
from matcher.domain.whatif import (
    AddPlaces,
    AllowLate,
    AllowOutOfRegion,
    ChangeCeiling,
    Delta,
    Forbid,
    LiftIntakeStop,
    Pin,
    WaiveContraIndication,
)

if TYPE_CHECKING:
    from matcher.domain.explain import CandidateReason, NeedExplanation

__all__ = ["candidate_text", "change_text", "delta_nl", "reason_nl", "sentences"]


def reason_nl(reason: Reason) -> str:
    """Old name of `reasons.reason_text` (starting lower case), kept for
    wijzer.views.rapportage until it calls the catalogue."""
    text = reason_text(reason)
    return text[:1].lower() + text[1:]


def candidate_text(c: CandidateReason) -> str:
    """The catalogue sentence of a candidate's reason, with its contra-indications or
    age range filled in."""
    contra = [ChildAttribute(v) for v in c.detail.get("contra_indications", ())]
    age = c.detail.get("age_range") or (None, None)
    return reason_text(c.reason, contra=contra, age_min=age[0], age_max=age[1])


def delta_nl(
    d: Delta,
    name_of: Callable[[str], str] | None = None,
    budget_name: Callable[[str], str] | None = None,
) -> str:
    """A change as the middle of "Als ..., ..." (B1): names for offerings via `name_of`,
    ceilings via `budget_name` (default: `name_of`; without either, the ids)."""
    name = name_of or (lambda offering: offering)
    budget = budget_name or name
    if isinstance(d, AddPlaces):
        return f"er bij {name(d.offering)} {plural(d.places, 'plek', 'plekken')} bij komt"
    if isinstance(d, ChangeCeiling):
        ceiling = budget(d.budget)
        # a named ceiling ("Plafond Dordrecht 2027") stands on its own, an id does not
        what = ceiling if ceiling.startswith("Plafond ") else f"het budgetplafond {ceiling}"
        return f"{what} met {euro_text(d.amount_cents)} omhoog gaat"
    if isinstance(d, WaiveContraIndication):
        what = attribute_label(d.attribute)
        return f"{name(d.offering)} de contra-indicatie {what} laat vallen (maatwerk)"
    if isinstance(d, LiftIntakeStop):
        return f"de opnamestop bij {name(d.offering)} wordt opgeheven"
    if isinstance(d, AllowOutOfRegion):
        return "een plek buiten de regio is toegestaan"
    if isinstance(d, AllowLate):
        return "een start na de uiterste datum is toegestaan"
    if isinstance(d, Pin):
        return (
            f"de tafel hulpvraag {d.need_id} van kind {d.child_ref} vastzet bij {name(d.offering)}"
        )
    if isinstance(d, Forbid):
        return (
            f"de tafel hulpvraag {d.need_id} van kind {d.child_ref} uitsluit bij {name(d.offering)}"
        )
    return str(d)


def change_text(
    change: SmallestChange,
    name_of: Callable[[str], str] | None = None,
    budget_name: Callable[[str], str] | None = None,
) -> str:
    """ "Als er bij X 3 plekken bij komen, kan het kind starten bij X." (B1); a late
    start says "te laat" and the day."""
    name = name_of or (lambda offering: offering)
    what = " en ".join(delta_nl(d, name, budget_name) for d in change.deltas)
    where = name(change.placed_at)
    if change.late:
        when = f" op {date_text(change.start)}" if change.start else ""
        return f"Als {what}, kan het kind starten bij {where}{when}, maar dat is te laat."
    return f"Als {what}, kan het kind starten bij {where}."


def sentences(ne: NeedExplanation, name_of: Callable[[str], str] | None = None) -> list[str]:
    """Short B1 sentences; `name_of` turns an offering id into what the reader
    knows it by (a web page names provider and place; the default is the provider's
    name from the scenario, else the id)."""
    name = name_of or ne._name
    label = care_type_label(ne.care_type)
    out = [f"Kind {ne.child_ref} heeft nog geen plek voor {label}."]
    if ne.decisive is not None:
        out.append(ne.decisive.text if name_of is None else _renamed(ne, name))
    for c in ne.candidates:
        text = candidate_text(c)
        out.append(f"{name(c.offering)}: {text[:1].lower()}{text[1:]}.")
    for b in ne.binding:
        if b.taken_by:
            what = "De plekken" if b.kind == "places" else "Het budget"
            verb = "gingen" if b.kind == "places" else "ging"
            bid = b.resource.removeprefix("budget:")
            where = name(b.offering) if b.offering else ne._name(bid)
            out.append(f"{what} bij {where} {verb} naar: {', '.join(b.taken_by)}.")
    if ne.suggest_discretionary_request:
        out.append(
            "Vraag de gemeente om een uitzondering op het budgetplafond "
            "(een discretionaire aanvraag). Stuur daarbij geen privacygevoelige gegevens mee."
        )
    if ne.escalate:
        out.append(
            f"Dit kind is nu {ne.times_discussed_after} keer besproken. "
            "Schakel op naar wie doorzettingsmacht heeft."
        )
    if ne.smallest_change is not None:
        out.append(change_text(ne.smallest_change, name, ne._name))
    elif ne.search_note:
        out.append(ne.search_note)
    return out


def _renamed(ne: NeedExplanation, name: Callable[[str], str]) -> str:
    """The decisive sentence with the caller's names for the offerings."""
    d = ne.decisive
    assert d is not None
    contra = sorted(
        {ChildAttribute(v) for c in ne.candidates for v in c.detail.get("contra_indications", ())},
        key=lambda a: a.value,
    )
    return decisive_text(
        d.code,
        care_label=care_type_label(ne.care_type),
        reason=d.reason,
        names=[name(o) for o in d.offerings] if d.near or d.code == NOT_OFFERED_IN_REGION else (),
        parts=d.parts,
        contra=contra if d.reason is Reason.CONTRA_INDICATION else (),
    )
