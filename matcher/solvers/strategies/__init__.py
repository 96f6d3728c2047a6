"""Solver strategies behind one interface (`base.Strategy`), by name.

`REGISTRY` holds every strategy that can be forced; ``auto`` (auto.py) is
the rule that picks one of them.  `STRATEGIES` (the names `SolveOptions`
accepts and the CLI offers) comes from the registry.
"""

from __future__ import annotations

from matcher.solvers.strategies.auto import AUTO, choose
from matcher.solvers.strategies.base import Outcome, Registry, Strategy
from matcher.solvers.strategies.cpsat import CpSatStrategy
from matcher.solvers.strategies.cpsat_plain import CpSatPlainStrategy
from matcher.solvers.strategies.flow import FlowStrategy
from matcher.solvers.strategies.gap import GapStrategy
from matcher.solvers.strategies.mip import MipStrategy

REGISTRY = Registry(
    (FlowStrategy(), CpSatStrategy(), GapStrategy(), MipStrategy(), CpSatPlainStrategy())
)

STRATEGIES: tuple[str, ...] = (AUTO, *REGISTRY)

__all__ = ["AUTO", "REGISTRY", "STRATEGIES", "Outcome", "Registry", "Strategy", "choose"]
