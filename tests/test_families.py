"""Every instance family of benchmarks/families.py gives a valid problem that solves
and verifies at a tiny size, and has the shape its name promises."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.families import FAMILIES, domain_problem, generate_family
from matcher.problem import AssignmentProblem, validate_arrays
from matcher.solution import SolveOptions, verify
from matcher.solve import solve

OPTS = SolveOptions(time_limit_s=2.0)


def _uses_per_arc(p: AssignmentProblem) -> set[int]:
    return set(np.diff(p.use_ptr).tolist())


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_family_is_valid_and_solves(name: str) -> None:
    p = generate_family(name, 80, 20, seed=3)
    assert validate_arrays(p) == []
    assert p.n_arcs > 0
    sol = solve(p, OPTS)
    assert sol.status.has_solution
    verify(p, sol)
    cfg = FAMILIES[name]
    assert _uses_per_arc(p) == {cfg.resources}
    assert any(r.startswith("perceel:") for r in p.resource_ids) == (cfg.resources == 4)
    must = int(p.must_assign.sum())
    assert (must > 0) == (cfg.urgent > 0)
    assert all(k in sol.assignments for k, m in zip(p.item_ids, p.must_assign, strict=True) if m)
    place_amounts = p.use_amount[p.use_ptr[:-1]]
    assert (place_amounts.max() > 1) == (cfg.bundles > 0)
    assert any(o.endswith("@1") for o in p.option_ids) == cfg.late


def test_the_same_seed_gives_the_same_problem() -> None:
    a = generate_family("all4", 60, 15, seed=5)
    b = generate_family("all4", 60, 15, seed=5)
    c = generate_family("all4", 60, 15, seed=6)
    assert a.arc_value.tolist() == b.arc_value.tolist()
    assert a.capacity.tolist() == b.capacity.tolist()
    assert a.arc_value.tolist() != c.arc_value.tolist()


def test_domain_family_compiles_a_demo_region() -> None:
    p = domain_problem("region", seed=2, children=20)
    assert validate_arrays(p) == []
    verify(p, solve(p, OPTS))
