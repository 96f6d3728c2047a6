"""Names a reader knows the converted objects by: the regions with their gemeenten's
names (reference list of the year) and a budget ceiling named by its scope and year.
`providers.convert` puts them on the domain objects, so sentences need no codes."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from matcher.domain import CareCategory, Region
from providers import reference
from providers.store.purchase import BudgetRow


@cache
def regions(year: int = reference.DEFAULT_YEAR) -> tuple[Region, ...]:
    gem = reference.gemeenten(year)
    return tuple(
        Region(
            code=r.code,
            gemeenten=tuple(r.gemeente_codes),
            name=r.name,
            gemeente_names=tuple(gem[g].name if g in gem else "" for g in r.gemeente_codes),
        )
        for r in reference.jeugdregios(year).values()
    )


# A perceel named after a care category reads as the category's Dutch name.
PERCEEL_LABEL = {
    CareCategory.RESIDENTIAL.value: "verblijf",
    CareCategory.AMBULANT.value: "ambulante hulp",
    CareCategory.CRISIS.value: "crisishulp",
    CareCategory.DIAGNOSTIC.value: "diagnostiek",
}


def budget_name(
    row: BudgetRow,
    budget_year: int,
    provider_names: Mapping[str, str],
    ref_year: int = reference.DEFAULT_YEAR,
) -> str:
    """The ceiling as a reader knows it: "Plafond" + its scope + the budget year."""
    level = row.level
    if level in ("aanbieder", "perceel") and row.provider:
        scope = provider_names.get(row.provider) or "aanbieder"
    elif level == "gemeente" and row.gemeente:
        g = reference.gemeenten(ref_year).get(row.gemeente)
        scope = g.name if g else "gemeente"
    else:
        r = reference.jeugdregios(ref_year).get(row.region)
        scope = f"regio {r.name}" if r else "regio"
    if level == "perceel" and row.perceel:
        perceel = PERCEEL_LABEL.get(row.perceel.upper(), row.perceel)
        scope = f"{scope}, {perceel}"
    return f"Plafond {scope} {budget_year}"
