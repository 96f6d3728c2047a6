import numpy as np
import pytest

from matcher import ProblemBuilder, ProblemValidationError, Sense
from matcher.problem import AssignmentProblem


def small() -> AssignmentProblem:
    b = ProblemBuilder()
    b.item("a")
    b.item("b", must_assign=True)
    b.resource("r", 1)
    b.arc("a", "x", 5, {"r": 1})
    b.arc("b", "x", 3, {"r": 1})
    b.arc("b", "y", 1)
    return b.build()


def test_builder_builds_columns() -> None:
    p = small()
    assert p.n_items == 2
    assert p.n_arcs == 3
    assert p.option_ids == ("x", "y")
    assert p.arc_uses(0) == {"r": 1}
    assert p.arc_uses(2) == {}
    assert p.is_transportation()
    assert p.sense is Sense.MAXIMIZE


def test_validation_reports_every_problem_at_once() -> None:
    b = ProblemBuilder()
    b.item("a")
    b.item("a")
    b.resource("r", -1)
    b.arc("zz", "x", 1, {"r": 1})
    b.arc("a", "x", 1, {"nope": 1})
    with pytest.raises(ProblemValidationError) as exc:
        b.build()
    text = str(exc.value)
    assert "duplicate item id 'a'" in text
    assert "unknown item 'zz'" in text
    assert "unknown resource 'nope'" in text


def test_negative_capacity_and_duplicate_arc_reported_together() -> None:
    b = ProblemBuilder()
    b.item("a")
    b.resource("r", -2)
    b.arc("a", "x", 1, {"r": 1})
    b.arc("a", "x", 2)
    with pytest.raises(ProblemValidationError) as exc:
        b.build()
    msgs = [i.message for i in exc.value.issues]
    assert any("negative" in m for m in msgs)
    assert any("duplicate arc" in m for m in msgs)


def test_must_assign_without_open_arc_is_invalid() -> None:
    b = ProblemBuilder()
    b.item("a", must_assign=True)
    b.arc("a", "x", 1, forbidden=True)
    with pytest.raises(ProblemValidationError, match="no arc that is not forbidden"):
        b.build()


def test_with_pins_rejects_unknown_pair() -> None:
    p = small()
    with pytest.raises(ProblemValidationError, match="no arc"):
        p.with_pins(pinned=[("a", "y")])
    q = p.with_pins(pinned=[("b", "y")], forbidden=[("a", "x")])
    assert q.pinned.tolist() == [False, False, True]
    assert q.forbidden.tolist() == [True, False, False]
    assert not np.shares_memory(q.pinned, p.pinned)
