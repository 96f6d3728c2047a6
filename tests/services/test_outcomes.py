"""Outcomes per group as the pages show them, and small cells hidden for inkoop."""

from __future__ import annotations

from matcher.domain.match import match
from services.outcomes import group_outcomes, hide_small_cells
from tests.domain.helpers import child, scenario
from tests.domain.test_outcomes import starving_list


def test_the_page_rows_carry_both_methods_and_the_flag() -> None:
    g = group_outcomes(match(starving_list()))
    lvb = next(r for r in g.rows if r.dimension == "lvb" and r.group == "met LVB")
    assert lvb.children == 5
    assert lvb.matching.unplaced == 5
    assert lvb.matching.flagged
    assert "Achterstand" in lvb.matching.flag_text
    assert lvb.fcfs.within_norm == 5
    assert not lvb.fcfs.flagged
    assert [r.group for r in g.flagged] == ["met LVB"]


def test_small_cells_are_hidden_and_a_second_row_with_them() -> None:
    sc = starving_list()
    few = [child(f"G{i}", gemeente="GM0597") for i in range(2)]
    sc = scenario([*sc.children, *few], sc.offerings, budgets=sc.budgets)
    shown = group_outcomes(match(sc))
    hidden = hide_small_cells(shown)
    gemeente = [r for r in hidden.rows if r.dimension == "gemeente"]
    assert len(gemeente) == 2
    # one row of 2 children is small; the other would give it back from the total
    assert all(r.hidden and r.children is None for r in gemeente)
    assert all(r.matching.within_norm is None and r.fcfs.unplaced is None for r in gemeente)
    assert all(r.matching.flag_text == "" for r in gemeente)
    # a dimension with one group of 17 children and no small count stays shown
    age = next(r for r in hidden.rows if r.dimension == "leeftijd")
    assert not age.hidden
    assert age.children == 17
    assert age.matching.within_norm == shown.rows[2].matching.within_norm
    assert hidden.hidden_rows == 4


def test_the_floor_summary_names_its_price_in_children() -> None:
    from services.matching import with_floor

    result, summary = with_floor(match(starving_list()), "lvb", 40)
    assert summary.met
    assert (summary.within_without, summary.within_with, summary.cost) == (10, 8, 2)
    assert "Dat kost 2 kinderen binnen de norm" in summary.text
    assert "zonder ondergrens 10 kinderen" in summary.text
    lvb = next(r for r in group_outcomes(result).rows if r.group == "met LVB")
    assert lvb.matching.within_norm == 2


def test_inkoop_sees_no_small_count_in_the_floor_sentence() -> None:
    from services.matching import with_floor
    from services.what_if import hide_small_floor

    _, summary = with_floor(match(starving_list()), "lvb", 40)
    hidden = hide_small_floor(summary)  # the cost is 2 children: a small cell
    assert hidden.met
    assert hidden.cost is None
    assert hidden.within_with is None
    assert "minder dan 5 kinderen" in hidden.text
    rest = hidden.text.replace("40%", "").replace("minder dan 5 kinderen", "")
    assert not any(ch.isdigit() for ch in rest)


def test_rows_read_in_a_natural_order() -> None:
    from tests.domain.test_outcomes import child, scenario

    kids = [child("A", age_years=12), child("B", age_years=4), child("C", age_years=17)]
    rows = group_outcomes(match(scenario(kids, []))).rows
    ages = [r.group for r in rows if r.dimension == "leeftijd"]
    assert ages == ["0-5 jaar", "12-15 jaar", "16-17 jaar"]
    dims = [r.dimension for r in rows]
    assert dims == sorted(dims, key=["gemeente", "leeftijd", "lvb", "maatregel", "zorgvorm"].index)
