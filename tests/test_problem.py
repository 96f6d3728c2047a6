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


def test_derived_maps_are_built_once_and_never_pickled() -> None:
    import pickle

    b = ProblemBuilder()
    b.item("i1")
    b.item("i2")
    b.resource("r", 1)
    b.arc("i1", "o1", 3, {"r": 1})
    b.arc("i2", "o1", 2, {"r": 1})
    b.arc("i2", "o2", 1, {})
    p = b.build()
    assert p.item_index() is p.item_index() == {"i1": 0, "i2": 1}
    assert p.option_index() == {"o1": 0, "o2": 1}
    assert p.resource_index() == {"r": 0}
    use_arc = p.use_arc_index()
    assert use_arc is p.use_arc_index()
    assert use_arc.tolist() == [0, 1]
    with pytest.raises(ValueError, match="read-only"):
        use_arc[0] = 1
    copy = pickle.loads(pickle.dumps(p))
    assert not {"_item_pos", "_option_pos", "_resource_pos", "_use_arc"} & set(copy.__dict__)
    assert copy.item_index() == p.item_index()
    assert copy.use_arc_index().tolist() == [0, 1]


def test_item_arc_ptr_only_for_arcs_grouped_by_item() -> None:
    b = ProblemBuilder()
    for it in ("i1", "i2", "i3"):
        b.item(it)
    b.arc("i1", "o1", 3)
    b.arc("i1", "o2", 2)
    b.arc("i3", "o1", 1)
    p = b.build()
    ptr = p.item_arc_ptr()
    assert ptr is not None
    assert ptr.tolist() == [0, 2, 2, 3]  # i2 has no arc
    assert ptr is p.item_arc_ptr()
    mixed = b.build()
    object.__setattr__(mixed, "arc_item", mixed.arc_item[::-1].copy())
    assert mixed.item_arc_ptr() is None
