"""The domain level of the matcher: children, needs, offerings, norms and explanations.

from matcher.domain import io, match, explain, what_if, AddPlaces
sc = io.load("scenario.json")
result = match(sc)
why = explain(result)
w = what_if(sc, [AddPlaces("O12", 1)], base=result)
"""

from matcher.domain import io
from matcher.domain.caretypes import CareCategory, CareType
from matcher.domain.clocks import NormStatus
from matcher.domain.compile import Compiled, compile_scenario
from matcher.domain.eligibility import PairCheck, PairWarning, Reason, check_pair, evaluate
from matcher.domain.explain import Explanation, NeedExplanation, explain
from matcher.domain.match import MatchResult, Placement, PlacementKind, match
from matcher.domain.model import (
    Budget,
    CareNeed,
    Child,
    ChildAttribute,
    Contract,
    Expertise,
    FamilyBundle,
    MeasureType,
    Mode,
    Norm2Anchor,
    Offering,
    Policy,
    Refusal,
    Region,
    RegionalNorm,
    RegionalNormAnchor,
    Release,
    Scenario,
    Subcontract,
    Weights,
)
from matcher.domain.whatif import (
    AddChildren,
    AddContract,
    AddPlaces,
    AllowLate,
    AllowOutOfRegion,
    ChangeCeiling,
    Comparison,
    Delta,
    GemeenteLeaves,
    LiftIntakeStop,
    RemoveChildren,
    SetReleases,
    WaiveContraIndication,
    WhatIf,
    apply,
    apply_all,
    compare,
    what_if,
)

solve = match  # the domain entry point under the name the design uses

__all__ = [
    "AddChildren",
    "AddContract",
    "AddPlaces",
    "AllowLate",
    "AllowOutOfRegion",
    "Budget",
    "CareCategory",
    "CareNeed",
    "CareType",
    "ChangeCeiling",
    "Child",
    "ChildAttribute",
    "Comparison",
    "Compiled",
    "Contract",
    "Delta",
    "Expertise",
    "Explanation",
    "FamilyBundle",
    "GemeenteLeaves",
    "LiftIntakeStop",
    "MatchResult",
    "MeasureType",
    "Mode",
    "NeedExplanation",
    "Norm2Anchor",
    "NormStatus",
    "Offering",
    "PairCheck",
    "PairWarning",
    "Placement",
    "PlacementKind",
    "Policy",
    "Reason",
    "Refusal",
    "Region",
    "RegionalNorm",
    "RegionalNormAnchor",
    "Release",
    "RemoveChildren",
    "Scenario",
    "SetReleases",
    "Subcontract",
    "WaiveContraIndication",
    "Weights",
    "WhatIf",
    "apply",
    "apply_all",
    "check_pair",
    "compare",
    "compile_scenario",
    "evaluate",
    "explain",
    "io",
    "match",
    "solve",
    "what_if",
]
