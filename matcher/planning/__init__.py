"""Capacity planning for inkoop: which purchases bring most children within the norm?

The model lives on the arc level (`AssignmentProblem`), so any layer that can
compile to arcs can feed it: the domain compile (`bridge.py`), or the
synthetic regional instance (`synthetic.py`).  A candidate purchase adds
places to one or more resources per unit bought (a new release group of an
offering, or the places of a provider that has no contract yet and so starts
at zero capacity).  One MIP (HiGHS through OR-Tools MathOpt,
`purchase_mip.py`) holds both the purchase variables and the assignment:

    maximise   sum_a x_a * ((n + 1) * within_norm_a + 1)
    subject to every item at most once, resources <= capacity + bought places,
               sum_p price_p * y_p <= budget,

i.e. first the number of children (needs) placed within the norm, then the
number placed at all; among those optima it spends as little as possible.
What each purchase buys is measured by re-solving without it (marginal
value, `advice.py`), not guessed.  The naive rule "buy where the waiting
list is longest" is implemented for comparison (`baseline.py`).

Modules: `model` (the problem and its checks), `purchase_mip` (the MIP),
`advice` (evaluation and the plan), `baseline` (the naive rule),
`synthetic` (generated regions), `bridge` (from a domain `Scenario`).
"""

from matcher.planning.advice import (
    Evaluation,
    PurchaseEffect,
    PurchasePlan,
    evaluate,
    explain_units,
    plan_purchases,
)
from matcher.planning.baseline import naive_plan, naive_units, waiting_lists
from matcher.planning.bridge import OfferingPurchase, planning_from_scenario
from matcher.planning.model import (
    CENTS_PER_MILLION_EURO,
    EPS_SCALE,
    PLAN_OPTIONS,
    CandidatePurchase,
    PlanningInputError,
    PlanningProblem,
    per_million,
)
from matcher.planning.synthetic import (
    CARE_MIX,
    MONTH_DAYS,
    PlanChild,
    PlanOffering,
    PlanPurchaseSpec,
    RegionInstance,
    compile_region,
    inflow_children,
    inflow_scenarios,
    region_waiting_summary,
    synthetic_region,
)

__all__ = [
    "CARE_MIX",
    "CENTS_PER_MILLION_EURO",
    "EPS_SCALE",
    "MONTH_DAYS",
    "PLAN_OPTIONS",
    "CandidatePurchase",
    "Evaluation",
    "OfferingPurchase",
    "PlanChild",
    "PlanOffering",
    "PlanPurchaseSpec",
    "PlanningInputError",
    "PlanningProblem",
    "PurchaseEffect",
    "PurchasePlan",
    "RegionInstance",
    "compile_region",
    "evaluate",
    "explain_units",
    "inflow_children",
    "inflow_scenarios",
    "naive_plan",
    "naive_units",
    "per_million",
    "plan_purchases",
    "planning_from_scenario",
    "region_waiting_summary",
    "synthetic_region",
    "waiting_lists",
]
