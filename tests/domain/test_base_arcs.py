"""A patched problem's arcs read as runs of the base's and the fresh ones
(matcher.domain.base_arcs.PatchedArcs) behave as the list they stand for."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher.domain.base_arcs import PatchedArcs

SOURCES = {"base": [f"b{i}" for i in range(30)], "fresh": [f"f{i}" for i in range(30)]}


@st.composite
def runs(draw: st.DrawFn) -> list[tuple[list, int, int]]:
    out = []
    for _ in range(draw(st.integers(0, 6))):
        src = SOURCES[draw(st.sampled_from(["base", "fresh"]))]
        lo = draw(st.integers(0, len(src)))
        hi = draw(st.integers(lo, len(src)))
        out.append((src, lo, hi))
    return out


@given(runs(), st.integers(-40, 40), st.integers(-40, 40), st.sampled_from([None, 1, 2, -1]))
def test_reads_as_the_list_it_stands_for(rs, a, b, step) -> None:
    whole = [x for src, lo, hi in rs for x in src[lo:hi]]
    arcs = PatchedArcs(rs)  # type: ignore[arg-type]
    assert len(arcs) == len(whole)
    assert list(arcs) == whole
    assert arcs == whole
    assert arcs[a:b:step] == whole[a:b:step]
    for k in range(-len(whole), len(whole)):
        assert arcs[k] == whole[k]
    for k in (len(whole), -len(whole) - 1):
        with pytest.raises(IndexError):
            arcs[k]


def test_not_equal_to_a_different_list() -> None:
    arcs = PatchedArcs([(SOURCES["base"], 0, 3)])  # type: ignore[list-item]
    assert arcs != ["b0", "b1"]
    assert arcs != ["b0", "b1", "x"]
    assert arcs == ["b0", "b1", "b2"]
