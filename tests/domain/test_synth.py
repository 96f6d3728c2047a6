from __future__ import annotations

from matcher.domain.scenario_file import scenario_issues
from matcher.domain.synth import generate


def test_seeded_and_valid():
    a = generate(120, 60, seed=7)
    assert a == generate(120, 60, seed=7)
    assert a != generate(120, 60, seed=8)
    assert len(a.children) == 120
    assert len(a.offerings) == 60
    assert scenario_issues(a) == []
    assert a.budgets
    assert not generate(50, 20, seed=1, budgets=False).budgets


def test_regional_size_has_the_expected_shape():
    sc = generate()
    assert (len(sc.children), len(sc.offerings)) == (600, 300)
    assert any(c.attributes for c in sc.children)
    assert any(o.contra_indications for o in sc.offerings)
    assert any(o.region != "JZ90" for o in sc.offerings)
    assert sc.bundles
