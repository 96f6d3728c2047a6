"""Inkoop scenarios: the form (what a user may ask, read and checked in B1 Dutch).

The form and the API share one check per row of extra places (`place_issue`).
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, Field

from matcher.domain import CareType
from matcher.domain.caretypes import care_type_label
from providers import reference
from services import what_if as data
from services.matching import FLOOR_CHOICES
from wijzer.forms import DB_INT_MAX, FormErrors, parse_int

PLACE_ROWS = 3
MAX_PLACES = 500
MAX_EURO = 100_000_000
NOT_PLACEABLE = (
    "Voor deze hulpvorm is in deze regio geen ingekocht aanbod zonder opnamestop. "
    "Kies een andere hulpvorm of regio."
)
NEW_SUFFIX = " (nog niet ingekocht)"

# --------------------------------------------------------------------- form


class PlaceRow(BaseModel):
    index: int
    care_type: str = ""
    region: str = ""
    places: str = ""
    price: str = ""  # euro per traject; only for a care type not purchased yet


class CeilingRow(BaseModel):
    index: int
    budget: str
    name: str = ""
    left_euro: int
    amount: str = ""


class ScenarioForm(BaseModel):
    places: list[PlaceRow]
    ceilings: list[CeilingRow]
    leave: list[str] = Field(default_factory=list)
    floor_dimension: str = ""
    floor_percent: str = ""


class Option(BaseModel):
    value: str
    label: str


class FormContext(BaseModel):
    region: str
    care_types: list[Option]  # purchased in the region
    new_care_types: list[Option] = Field(default_factory=list)  # not purchased: a new purchase
    regions: list[Option]
    gemeenten: list[Option]
    form: ScenarioForm
    errors: FormErrors = Field(default_factory=FormErrors)
    advice_budget: str = ""
    advice_places: str = "10"
    # Beheer chooses the region (every region); inkoop has its own only, so no choice.
    region_choices: list[Option] = Field(default_factory=list)
    floor_choices: list[Option] = Field(
        default_factory=lambda: [Option(value=v, label=lb) for v, lb in FLOOR_CHOICES]
    )

    @property
    def region_name(self) -> str:
        return data.region_name(self.region)

    @property
    def region_choice_pairs(self) -> list[tuple[str, str]]:
        return [(o.value, o.label) for o in self.region_choices]

    @property
    def floor_pairs(self) -> list[tuple[str, str]]:
        return [(o.value, o.label) for o in self.floor_choices]

    @property
    def care_type_pairs(self) -> list[tuple[str, str]]:
        return [(o.value, o.label) for o in (*self.care_types, *self.new_care_types)]

    @property
    def region_pairs(self) -> list[tuple[str, str]]:
        return [(o.value, o.label) for o in self.regions]


def gemeente_name(code: str) -> str:
    g = reference.gemeenten().get(code)
    return g.name if g else code


def care_label(code: str) -> str:
    return care_type_label(code, capital=True)


def _region_label(code: str, *, own: bool) -> str:
    name = data.region_name(code)
    return f"{name} (eigen regio)" if own else name


def empty_form(opts: data.RegionOptions) -> ScenarioForm:
    return ScenarioForm(
        places=[PlaceRow(index=i, region=opts.region) for i in range(1, PLACE_ROWS + 1)],
        ceilings=[
            CeilingRow(index=i, budget=b, name=opts.budget_names.get(b, ""), left_euro=left // 100)
            for i, (b, left) in enumerate(opts.budgets, start=1)
        ],
    )


def region_choices(codes: tuple[str, ...]) -> list[Option]:
    """Regions by name for beheer's choice."""
    return sorted(
        (Option(value=c, label=data.region_name(c)) for c in codes), key=lambda o: o.label
    )


def form_context(
    opts: data.RegionOptions,
    form: ScenarioForm | None = None,
    errors: FormErrors | None = None,
    choices: list[Option] | None = None,
) -> FormContext:
    return FormContext(
        region_choices=choices or [],
        region=opts.region,
        care_types=[
            Option(value=c, label=care_label(c)) for c in sorted(opts.care_types, key=care_label)
        ],
        # a care type not purchased yet can be tried as a new purchase
        new_care_types=[
            Option(value=c, label=care_label(c) + NEW_SUFFIX)
            for c in sorted(
                (ct.value for ct in CareType if ct.value not in opts.care_types), key=care_label
            )
        ],
        # the own region first: it is what a browser sends when nothing is chosen
        regions=[
            Option(value=r, label=_region_label(r, own=r == opts.region))
            for r in sorted(opts.regions, key=lambda r: (r != opts.region, r))
        ],
        gemeenten=[
            Option(value=g, label=gemeente_name(g))
            for g in sorted(opts.gemeenten, key=gemeente_name)
        ],
        form=form or empty_form(opts),
        errors=errors or FormErrors(),
    )


def whole_number(text: str) -> int | None:
    # Any whole number, also 50.000; each caller checks its own range.
    return parse_int(text.replace(" ", ""), 0, DB_INT_MAX, thousands=True)


def read_form(
    values: Mapping[str, str], leave: list[str], opts: data.RegionOptions
) -> ScenarioForm:
    """The raw form as typed (kept for showing it again with errors)."""
    form = empty_form(opts)
    for row in form.places:
        row.care_type = values.get(f"zorgvorm_{row.index}", "")
        row.region = values.get(f"regio_{row.index}", row.region)
        row.places = values.get(f"plekken_{row.index}", "")
        row.price = values.get(f"prijs_{row.index}", "")
    for c in form.ceilings:
        c.amount = values.get(f"plafond_{c.index}", "")
    form.leave = leave
    form.floor_dimension = values.get("ondergrens_groep", "")
    form.floor_percent = values.get("ondergrens_procent", "")
    return form


def place_issue(
    care_type: str, region: str, price_cents: int | None, opts: data.RegionOptions
) -> tuple[str, str] | None:
    """What is wrong with one row of extra places, as (field, B1 message): the form
    and the API name the field their own way.  A care type that nobody offers in the
    user's region yet is a new purchase, which needs a price."""
    if care_type not in {ct.value for ct in CareType}:
        return "zorgvorm", "Kies een hulpvorm uit de lijst."
    if region not in opts.regions and region != opts.region:
        return "regio", "Kies een regio uit de lijst."
    if (care_type, region) in opts.placeable:
        return None
    if care_type in opts.care_types or region != opts.region:
        return "zorgvorm", NOT_PLACEABLE
    if price_cents is None:
        return "prijs", (
            f"{care_label(care_type)} is in uw regio nog niet ingekocht. Vul de prijs per "
            "traject in, dan rekenen we met nieuw aanbod."
        )
    return None


def check_scenario_form(
    form: ScenarioForm, opts: data.RegionOptions
) -> tuple[data.ScenarioRequest | None, FormErrors]:
    errors = FormErrors()
    extra: list[data.ExtraPlaces] = []
    for row in form.places:
        if not row.places.strip() and not row.care_type:
            continue
        n = whole_number(row.places) if row.places.strip() else None
        if n is None or n > MAX_PLACES:
            errors.add(
                f"plekken_{row.index}",
                f"Vul bij extra plekken een heel getal in van 1 tot {MAX_PLACES}.",
            )
            continue
        if not row.care_type:
            errors.add(f"zorgvorm_{row.index}", "Kies de hulpvorm voor de extra plekken.")
            continue
        price_cents = None
        if row.price.strip():
            euro = whole_number(row.price)
            if euro is None or not 0 < euro <= MAX_EURO:
                errors.add(
                    f"prijs_{row.index}",
                    "Vul de prijs per traject in hele euro's in, bijvoorbeeld 45000 of 45.000.",
                )
                continue
            price_cents = euro * 100
        problem = place_issue(row.care_type, row.region, price_cents, opts)
        if problem is not None:
            field, message = problem
            errors.add(f"{field}_{row.index}", message)
            continue
        if n > 0:
            extra.append(data.ExtraPlaces(row.care_type, row.region, n, price_cents))
    lifts: list[data.CeilingLift] = []
    for c in form.ceilings:
        if not c.amount.strip():
            continue
        euro = whole_number(c.amount)
        if euro is None or euro > MAX_EURO:
            errors.add(
                f"plafond_{c.index}",
                "Vul het bedrag in hele euro's in, bijvoorbeeld 50000 of 50.000.",
            )
            continue
        if euro > 0:
            lifts.append(data.CeilingLift(c.budget, euro * 100))
    members = set(opts.gemeenten)
    if any(g not in members for g in form.leave):
        errors.add("gemeenten", "Kies alleen gemeenten uit de lijst.")
    elif len(set(form.leave)) >= len(members) and members:
        errors.add("gemeenten", "Er moet minstens één gemeente in de gezamenlijke inkoop blijven.")
    floor_dimension: str | None = None
    floor_percent: int | None = None
    if form.floor_dimension:
        floor_percent = parse_int(form.floor_percent, 1, 100)
        if form.floor_dimension not in dict(FLOOR_CHOICES):
            errors.add("ondergrens_groep", "Kies de groepen uit de lijst.")
        elif floor_percent is None:
            errors.add(
                "ondergrens_procent",
                "Vul bij de ondergrens een heel getal van 1 tot en met 100 in.",
            )
        else:
            floor_dimension = form.floor_dimension
    req = data.ScenarioRequest(
        tuple(extra),
        tuple(lifts),
        tuple(sorted(set(form.leave))),
        floor_dimension,
        floor_percent if floor_dimension else None,
    )
    if not errors and req.empty:
        errors.add(
            "plekken_1",
            "Kies minstens één wijziging: extra plekken, een hoger plafond, een gemeente "
            "die uitstapt of een ondergrens per groep.",
        )
    return (None if errors else req), errors
