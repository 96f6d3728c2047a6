"""The norm verdict in words, the same on every page, export and API answer.

The verdict itself is the domain's (`matcher.domain.clocks.start_verdict`): "binnen de
norm" means a start on or before the legal deadline and nothing else.  This module only
adds the days late to the domain's sentence where the reader needs them, and the solver
status in words.
"""

from __future__ import annotations

from matcher.domain.clocks import NormStatus, NormVerdict, Verdict
from matcher.solution import Status


def days_text(n: int) -> str:
    """ "1 dag", "2 dagen"."""
    return "1 dag" if n == 1 else f"{n} dagen"


def places_text(n: int) -> str:
    """ "1 plek", "2 plekken"."""
    return "1 plek" if n == 1 else f"{n} plekken"


def children_text(n: int) -> str:
    """ "1 kind", "2 kinderen"."""
    return "1 kind" if n == 1 else f"{n} kinderen"


def verdict_text(verdict: NormVerdict) -> str:
    """The domain's sentence; a start after a deadline that has passed says how late."""
    if verdict.verdict is Verdict.PAST_DEADLINE and verdict.days_late > 0:
        if verdict.planned_start is not None:
            return f"Te laat: start {days_text(verdict.days_late)} na de deadline"
        return f"Te laat: de deadline is {days_text(verdict.days_late)} voorbij"
    return verdict.text


STATUS_TEXT: dict[Status, str] = {
    Status.OPTIMAL: "de beste uitkomst, bewezen",
    Status.FEASIBLE: "een goede uitkomst, niet bewezen de beste",
    Status.INFEASIBLE: "geen uitkomst mogelijk",
    Status.NO_SOLUTION_IN_TIME: "geen uitkomst binnen de tijd",
    Status.MODEL_INVALID: "de berekening klopt niet",
}


def status_text(status: str) -> str:
    """The solver status (a `Status` value) in words; an unknown value in neutral words."""
    try:
        return STATUS_TEXT[Status(status)]
    except ValueError:
        return "onbekende uitkomst"


NORM_STATUS_TEXT = {
    NormStatus.ON_TIME.value: "Binnen de norm",
    NormStatus.LATE.value: "Te laat",
    NormStatus.LATE_EXPLAINED.value: "Te laat, met reden",
    NormStatus.LATE_RESOLVED_BY_BREAKTHROUGH.value: "Te laat, opgelost",
    NormStatus.PENDING.value: "Wacht, deadline nog niet voorbij",
    NormStatus.UNKNOWN.value: "Onbekend",
}


def norm_status_text(status: str, days_late: int) -> str:
    """A waiting child's norm status in words; a late one with its days late."""
    text = NORM_STATUS_TEXT.get(status, "Onbekend")
    return f"{text} ({days_text(days_late)})" if days_late > 0 else text
