"""The objective scale of the HiGHS model (`matcher.solvers.mip_model.objective_scale`).

HiGHS' dual simplex stops with "excessive dual values" on the domain path's tiered
weights (up to 6e10): the national demo's LP failed, and the route fell back to the
Lagrangian bound of the budget rows, 17.5 % from its answer at 10 s where the plain LP
is 0.3 % from it.  The model therefore gets its weights divided by a power of two, and
every value read back is multiplied again.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from benchmarks.families import domain_problem, generate_family
from matcher.solvers import mip, mip_model
from matcher.solvers.core import build_core


def test_scale_is_one_for_small_weights_and_a_power_of_two_that_fits_for_large() -> None:
    p = generate_family("perceel4", 60, 15, seed=3)
    assert mip_model.objective_scale(build_core(p)) == 1.0
    for factor in (2**10, 3**17, 2**40):
        big = dataclasses.replace(p, arc_value=p.arc_value * factor)
        core = build_core(big)
        s = mip_model.objective_scale(core)
        assert s < 1.0
        assert math.log2(s) == int(math.log2(s))
        top = float(np.abs(core.weight).max())
        assert top * s <= mip_model.MAX_MODEL_WEIGHT < 2 * top * s


def test_scaled_model_reads_back_the_values_of_the_unscaled_one() -> None:
    """The same LP with every value times 2^16: bound, duals and reduced costs are
    those of the small one times 2^16 (a power of two: exact)."""
    p = generate_family("perceel4", 200, 40, seed=2)
    f = 2**16
    big = dataclasses.replace(
        p, arc_value=p.arc_value * f, unassigned_penalty=p.unassigned_penalty * f
    )
    small_core, big_core = build_core(p), build_core(big)
    assert mip_model.objective_scale(small_core) == 1.0
    assert mip_model.objective_scale(big_core) < 1.0
    args = {"time_limit_s": 30.0, "relative_gap": 0.0, "relax": True, "in_process": True}
    a = mip.solve_mip(small_core, **args)
    b = mip.solve_mip(big_core, **args)
    assert a.bound is not None
    assert b.bound is not None
    assert b.bound == pytest.approx(a.bound * f, rel=1e-9)
    assert np.allclose(b.duals, a.duals * f, rtol=1e-6, atol=1e-6 * f)
    assert np.allclose(b.reduced_costs, a.reduced_costs * f, rtol=1e-6, atol=1e-6 * f)
    # and the MIP's answer and bound likewise
    m_a = mip.solve_mip(small_core, time_limit_s=30.0, relative_gap=0.0, in_process=True)
    m_b = mip.solve_mip(big_core, time_limit_s=30.0, relative_gap=0.0, in_process=True)
    assert m_a.chosen is not None
    assert m_b.chosen is not None
    assert big_core.value(m_b.chosen) == small_core.value(m_a.chosen) * f


def test_the_national_demo_lp_solves() -> None:
    """The regression: HiGHS failed on this LP before the scale."""
    core = build_core(domain_problem("national", seed=1))
    assert mip_model.objective_scale(core) < 1.0
    r = mip.solve_mip(core, time_limit_s=60.0, relative_gap=0.0, relax=True, in_process=True)
    assert r.bound is not None, r.stats
    assert r.x is not None
    # the LP's bound is at least the value of its own point (max form), and a
    # rounding of it is far below it only if the LP were wrong
    assert r.bound >= core.const + float(core.weight @ r.x) - 1e-6 * abs(r.bound)
