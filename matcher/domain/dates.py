"""The one way a date is written for people: "4 december 2026".

Sentences of the domain (a change that would help, the peildatum of the CLI) and the
web app's pages and exports use this, so a reader never sees "9-2-2027" in one place
and "9 februari 2027" in the next.  Machine fields (JSON, the scenario file) stay ISO.
"""

from __future__ import annotations

from datetime import date

MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)


def date_text(d: date) -> str:
    """ "4 december 2026": day without a leading zero, the month's Dutch name, the year."""
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"
