"""Allowed values of the code columns, from the reference data of one year."""

from __future__ import annotations

from collections.abc import Mapping

from matcher.domain.caretypes import UNCLASSIFIED_CODE as UNCLASSIFIED_CODE
from matcher.domain.model import ChildAttribute
from providers import reference
from providers.schema import BUDGET_LEVELS

# Reference codes (providers.reference.attributes) -> the domain's child attributes;
# the reference data names the matcher value of each code.
ATTRIBUTE_BY_CODE: dict[str, ChildAttribute] = {
    code: ChildAttribute(info.get("matcher")) for code, info in reference.attributes().items()
}
UNCLASSIFIED_TEXT = "Hulpvraag nog niet bepaald (telt mee, krijgt nog geen plek)"


def code_values(
    name: str,
    year: int = reference.DEFAULT_YEAR,
    care_types: Mapping[str, reference.CareTypeInfo] | None = None,
) -> dict[str, str]:
    """{code: Dutch label} for a code column (`Column.codes`)."""
    if name == "gemeente":
        return {c: f"{g.name} ({g.region_code})" for c, g in reference.gemeenten(year).items()}
    if name == "regio":
        return {c: r.name for c, r in reference.jeugdregios(year).items()}
    if name == "zorgvorm":
        cts = care_types if care_types is not None else reference.care_types()
        return {c: f"{i.label} ({i.category})" for c, i in cts.items()}
    if name == "hulpvraag":  # a waiting child's need: a care type, or not determined yet
        return code_values("zorgvorm", year, care_types) | {UNCLASSIFIED_CODE: UNCLASSIFIED_TEXT}
    if name == "kenmerk":
        return {c: i.label for c, i in reference.attributes().items()}
    if name == "gi":
        return {c: i.label for c, i in reference.gis().items()}
    if name == "maatregel":
        return {c: i.label for c, i in reference.measures().items()}
    if name == "budgetniveau":
        return {v: v for v in BUDGET_LEVELS}
    raise KeyError(name)
