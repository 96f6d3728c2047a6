"""Aanbieder: a provider keeps its own offerings up to date.

Every save carries the version the form was loaded with; the data layer
writes only if nobody saved in between (optimistic concurrency), so two people
editing at once never overwrite each other without knowing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from providers import reference
from services import aanbieder as use_case
from wijzer.auth import Role, SessionUser
from wijzer.forms import DB_INT_MAX, FormErrors, parse_decimal, parse_int
from wijzer.views.zoeken import attribute_options, care_type_labels

MAX_PLACES = 10_000
MAX_DAYS = 3 * 365
MAX_RELEASE_PER_WEEK = 100.0
MAX_AGE = 23
# The release schedule: rows the form offers (the data layer allows as many) and how
# many empty ones follow the stored dates.
MAX_RELEASE_ROWS = 20
EMPTY_RELEASE_ROWS = 3

CONFLICT_MESSAGE = (
    "Iemand anders heeft dit aanbod net gewijzigd. Uw wijziging is niet opgeslagen. "
    "Hieronder ziet u wat nu is opgeslagen en wat u invulde. Pas uw invoer aan en sla "
    "opnieuw op."
)


class ScheduledRelease(BaseModel):
    """Places that free on a date (an object, not a pair: the API schema states it)."""

    date: dt.date
    places: int


class OfferingRow(BaseModel):
    id: int
    ext_id: str
    provider: str
    care_type: str
    care_type_label: str
    location: str
    places_free: int
    release_per_week: float
    expected_wait_days: int
    intake_days: int
    intake_stop: bool
    lvb_expertise: bool
    age_min: int
    age_max: int
    contra_indications: list[str]
    confirmed_by: str
    confirmed_at: dt.datetime
    stale: bool
    version: int
    release_schedule: list[ScheduledRelease] = Field(default_factory=list)


class OfferingList(BaseModel):
    offerings: list[OfferingRow]
    saved_id: int | None = None
    stale_after_days: int
    # A list of several providers' offerings (beheer) names the provider on each row.
    show_provider: bool = False
    # Only the aanbieder itself confirms its figures in one go ("alles klopt nog").
    can_confirm_all: bool = False
    confirmed_count: int | None = None


class OfferingForm(BaseModel):
    """What the user typed, as text, so a wrong value can be shown back."""

    version: str = ""
    places_free: str = ""
    release_per_week: str = ""
    expected_wait_days: str = ""
    intake_days: str = ""
    intake_stop: bool = False
    lvb_expertise: bool = False
    age_min: str = ""
    age_max: str = ""
    contra_indications: list[str] = Field(default_factory=list)
    # The release schedule by date: one (date, places) pair of texts per row of the form.
    # None when the form had no schedule part (it then stays as stored).
    release_rows: list[tuple[str, str]] | None = None


class EditContext(BaseModel):
    offering: OfferingRow
    form: OfferingForm
    errors: FormErrors = Field(default_factory=FormErrors)
    conflict: bool = False
    conflict_message: str = ""


def row_of(view: use_case.OfferingView) -> OfferingRow:
    location = reference.gemeenten().get(view.gemeente_code)
    return OfferingRow(
        id=view.id,
        ext_id=view.ext_id,
        provider=view.provider_name,
        care_type=view.care_type,
        care_type_label=care_type_labels().get(view.care_type, view.care_type),
        location=location.name if location else view.gemeente_code,
        places_free=view.places_free,
        release_per_week=view.release_per_week,
        expected_wait_days=view.expected_wait_days,
        intake_days=view.intake_days,
        intake_stop=view.intake_stop,
        lvb_expertise=view.lvb_expertise,
        age_min=view.age_min,
        age_max=view.age_max,
        contra_indications=list(view.contra_indications),
        confirmed_by=view.confirmed_by,
        confirmed_at=view.confirmed_at,
        stale=view.stale,
        version=view.version,
        release_schedule=[ScheduledRelease(date=d, places=n) for d, n in view.release_schedule],
    )


def list_own(
    session: Session,
    user: SessionUser,
    *,
    stale_after_days: int,
    saved_id: int | None = None,
    confirmed_count: int | None = None,
) -> OfferingList:
    views = use_case.offerings_for_edit(session, user)
    rows = [
        row_of(v).model_copy(
            update={"stale": use_case.is_stale(v.confirmed_at, max_age_days=stale_after_days)}
        )
        for v in views
    ]
    several = len({r.provider for r in rows}) > 1
    if several:
        rows.sort(key=lambda r: (r.provider, r.care_type_label, r.location, r.id))
    else:
        rows.sort(key=lambda r: (r.care_type_label, r.location, r.id))
    return OfferingList(
        offerings=rows,
        saved_id=saved_id,
        stale_after_days=stale_after_days,
        show_provider=several,
        can_confirm_all=user.role is Role.AANBIEDER and bool(rows),
        confirmed_count=confirmed_count,
    )


def own_offering(session: Session, user: SessionUser, offering_id: int) -> OfferingRow | None:
    """The offering if this user may edit it; None otherwise (we do not say whose it is)."""
    for view in use_case.offerings_for_edit(session, user):
        if view.id == offering_id:
            return row_of(view)
    return None


def form_of(row: OfferingRow) -> OfferingForm:
    return OfferingForm(
        version=str(row.version),
        places_free=str(row.places_free),
        release_per_week=f"{row.release_per_week:g}",
        expected_wait_days=str(row.expected_wait_days),
        intake_days=str(row.intake_days),
        intake_stop=row.intake_stop,
        lvb_expertise=row.lvb_expertise,
        age_min=str(row.age_min),
        age_max=str(row.age_max),
        contra_indications=list(row.contra_indications),
        release_rows=[(r.date.isoformat(), str(r.places)) for r in row.release_schedule],
    )


def form_rows(form: OfferingForm) -> list[tuple[str, str]]:
    """The schedule rows to show: those typed or stored, then empty ones to fill in."""
    rows = list(form.release_rows or [])
    return (rows + [("", "")] * EMPTY_RELEASE_ROWS)[: max(len(rows), MAX_RELEASE_ROWS)]


def _release_rows(values: Mapping[str, Any]) -> list[tuple[str, str]] | None:
    count = parse_int(str(values.get("vrij_rijen", "")), 0, MAX_RELEASE_ROWS)
    if count is None:
        return None
    rows = []
    for i in range(1, count + 1):
        day, places = values.get(f"vrij_datum_{i}", ""), values.get(f"vrij_plekken_{i}", "")
        day = day.strip()[:20] if isinstance(day, str) else ""
        places = places.strip()[:20] if isinstance(places, str) else ""
        if day or places:
            rows.append((day, places))
    return rows


def parse_form(values: Mapping[str, Any], multi: Sequence[str]) -> OfferingForm:
    def text(name: str) -> str:
        v = values.get(name, "")
        return v.strip() if isinstance(v, str) else ""

    def flag(name: str) -> bool:
        return text(name) in ("1", "on", "true", "ja")

    return OfferingForm(
        version=text("version"),
        places_free=text("places_free"),
        release_per_week=text("release_per_week").replace(",", "."),
        expected_wait_days=text("expected_wait_days"),
        intake_days=text("intake_days"),
        intake_stop=flag("intake_stop"),
        lvb_expertise=flag("lvb_expertise"),
        age_min=text("age_min"),
        age_max=text("age_max"),
        contra_indications=[c for c in multi if c],
        release_rows=_release_rows(values),
    )


def _whole(
    errors: FormErrors, field: str, value: str, label: str, low: int, high: int
) -> int | None:
    if not value:
        errors.add(field, f"Vul {label} in.")
        return None
    n = parse_int(value, low, high)
    if n is None:
        errors.add(field, f"Vul bij {label} een heel getal in van {low} tot en met {high}.")
    return n


def _check_schedule(
    errors: FormErrors, rows: list[tuple[str, str]], today: dt.date
) -> list[tuple[dt.date, int]]:
    out: dict[dt.date, int] = {}
    for i, (day_text, places_text) in enumerate(rows, start=1):
        field = f"vrij_datum_{i}"
        try:
            day = dt.date.fromisoformat(day_text)
        except ValueError:
            errors.add(field, f"Vul in rij {i} een bestaande datum in, bijvoorbeeld 2027-02-01.")
            continue
        if day <= today:
            errors.add(field, f"Kies in rij {i} een datum na vandaag.")
            continue
        if day in out:
            errors.add(field, f"De datum in rij {i} staat er al. Zet de plekken op één rij.")
            continue
        places = parse_int(places_text, 1, MAX_PLACES)
        if places is None:
            errors.add(
                f"vrij_plekken_{i}",
                f"Vul in rij {i} het aantal plekken in: een heel getal van 1 tot en met "
                f"{MAX_PLACES}.",
            )
            continue
        out[day] = places
    return sorted(out.items())


def check_offering_form(
    form: OfferingForm, *, today: dt.date | None = None
) -> tuple[dict[str, object] | None, int | None, FormErrors]:
    """(changes for the data layer, the version the form was loaded with, errors)."""
    errors = FormErrors()
    places = _whole(
        errors, "places_free", form.places_free, "het aantal vrije plekken", 0, MAX_PLACES
    )
    release = parse_decimal(form.release_per_week, 0.0, MAX_RELEASE_PER_WEEK)
    if release is None:
        errors.add(
            "release_per_week",
            "Vul bij plekken die per week vrijkomen een getal in van 0 tot en met 100, "
            "bijvoorbeeld 0,5.",
        )
    wait = _whole(
        errors, "expected_wait_days", form.expected_wait_days, "de wachttijd", 0, MAX_DAYS
    )
    intake = _whole(errors, "intake_days", form.intake_days, "de tijd tot de start", 0, MAX_DAYS)
    age_min = _whole(errors, "age_min", form.age_min, "de jongste leeftijd", 0, MAX_AGE)
    age_max = _whole(errors, "age_max", form.age_max, "de oudste leeftijd", 0, MAX_AGE)
    if age_min is not None and age_max is not None and age_min > age_max:
        errors.add("age_max", "De oudste leeftijd moet even hoog of hoger zijn dan de jongste.")
    known = {code for code, _ in attribute_options()}
    if any(c not in known for c in form.contra_indications):
        errors.add("contra_indications", "Een van de contra-indicaties kennen we niet.")
    schedule = None
    if form.release_rows is not None:
        schedule = _check_schedule(errors, form.release_rows, today or dt.date.today())
    version = parse_int(form.version, 0, DB_INT_MAX)
    if version is None:
        errors.add("places_free", "Het formulier is niet compleet. Open het aanbod opnieuw.")
    if errors:
        return None, version, errors
    changes: dict[str, object] = {
        "places_free": places,
        "release_per_week": release,
        "expected_wait_days": wait,
        "intake_days": intake,
        "intake_stop": form.intake_stop,
        "lvb_expertise": form.lvb_expertise,
        "age_min": age_min,
        "age_max": age_max,
        "contra_indications": sorted(form.contra_indications),
    }
    if schedule is not None:
        changes["release_schedule"] = schedule
    return changes, version, errors
