"""Acceptance fixtures for truthful answers: every child counted, the decisive reason,
and what would help found by search (tests/fixtures/scenarios/u*.json)."""

from __future__ import annotations

import json

from matcher.cli import main
from matcher.domain.explain import explain, sentences
from matcher.domain.match import match
from matcher.domain.model import Policy
from matcher.domain.reasons import NOT_OFFERED_IN_REGION, Reason
from matcher.domain.whatif import (
    AddPlaces,
    AllowLate,
    ChangeCeiling,
    ReferenceCount,
    compare,
    what_if,
)

from .conftest import FIXTURES, scenario
from .test_reasons import assert_readable


def need(expl, ref):
    return next(n for n in expl.needs if n.child_ref == ref)


# ------------------------------------------------ U1: every child is counted


def test_u1_an_unclassified_child_is_counted_never_matched_never_dropped():
    sc = scenario("u1_unclassified_batch.json")
    r = match(sc)
    assert r.unclassified == [("H4", "hulp")]
    assert all(ref != "H4" for ref, _ in [*r.placements, *r.unplaced])
    c = r.child_counts()
    assert (c.total, c.placed, c.unplaced, c.unclassified) == (4, 2, 1, 1)
    assert c.placed + c.unplaced + c.unclassified + c.not_waiting == len(sc.children)
    s = r.summary()
    assert s["needs"] == s["placed"] + s["unplaced"] + s["unclassified"] == 4
    assert s["count_date"] == "2022-01-01"
    assert s["children"]["total"] == 4
    ex = explain(r)
    assert ex.unclassified == [("H4", "hulp")]
    assert ex.to_json()["children"]["unclassified"] == 1
    assert ex.to_json()["count_date"] == "2022-01-01"
    w = what_if(sc, [AddPlaces("K-KW", 1)], base=r)
    cmp = w.comparison
    assert cmp.unclassified == (1, 1)
    assert cmp.children == (4, 4)
    assert cmp.placed[1] + cmp.unplaced[1] + cmp.unclassified[1] == 4


def test_u1_reference_count_shows_the_difference():
    sc = scenario("u1_unclassified_batch.json")
    r = match(sc)
    cmp = compare(r, r, reference=ReferenceCount(5, "De regio"))
    assert cmp.reference_difference == -1
    assert (
        cmp.reference_text()
        == "De regio noemde 5 kinderen; in dit scenario staan 4 kinderen: 1 minder."
    )
    doc = cmp.to_json()
    assert doc["reference"] == {
        "count": 5,
        "label": "De regio",
        "difference": -1,
        "text": cmp.reference_text(),
    }
    assert doc["count_date"] == "2022-01-01"
    assert compare(r, r, reference=ReferenceCount(4)).reference_text().endswith("dat klopt.")


# --------------------------------- U2: the decisive reason is the family's wish


def test_u2_family_preference_is_decisive_not_mixed():
    r = match(scenario("u2_family_preference.json"))
    ne = need(explain(r), "F")
    assert ne.summary == "MIXED"  # per offering the reasons still differ
    d = ne.decisive
    assert d is not None
    assert d.reason is Reason.FAMILY_PREFERS_WAITLIST
    assert d.code == "FAMILY_PREFERS_WAITLIST"
    assert not d.mixed
    assert d.offerings == ("Y-TT",)
    assert "Praktijk Maasoever" in d.text
    assert ne.smallest_change is not None
    assert ne.smallest_change.deltas == (AddPlaces("X-TT", 1),)
    text = sentences(ne)
    assert "Traumacentrum Rotterdam" in text[-1]
    for line in text:
        assert_readable(line)


# --------------------------------------- U3: three places, found by search


def test_u3_third_in_the_queue_needs_three_places():
    sc = scenario("u3_third_in_queue.json")
    r = match(sc)
    ne = need(explain(r), "C")
    ch = ne.smallest_change
    assert ch is not None
    assert ch.deltas == (AddPlaces("G-GH", 3),)
    assert ch.within_norm
    # verified, and one place less does not place C
    assert ("C", "gh") in what_if(sc, [AddPlaces("G-GH", 2)], base=r).result.unplaced
    assert ("C", "gh") in what_if(sc, [AddPlaces("G-GH", 3)], base=r).result.placements
    assert "3 plekken" in sentences(ne)[-1]


# ----------------------------------- U4: the smallest ceiling raise in euros


def test_u4_ceiling_raise_is_the_smallest_whole_euro_amount():
    sc = scenario("u4_ceiling_search.json")
    r = match(sc)
    ne = need(explain(r), "B")
    assert ne.decisive is not None
    assert ne.decisive.reason is Reason.BUDGET_CEILING_REACHED
    ch = ne.smallest_change
    assert ch is not None
    (delta,) = ch.deltas
    assert isinstance(delta, ChangeCeiling)
    assert delta.budget == "DORD-GGZ"
    assert delta.amount_cents % 100 == 0
    assert ("B", "ggz") in what_if(sc, [delta], base=r).result.placements
    less = ChangeCeiling("DORD-GGZ", delta.amount_cents - 100)
    assert ("B", "ggz") in what_if(sc, [less], base=r).result.unplaced
    assert delta.amount_cents == 100_200
    last = sentences(ne)[-1]
    assert "Plafond Dordrecht, jeugd-GGZ 2021" in last
    assert "€ 1.002" in last
    assert "Het budget bij Plafond Dordrecht, jeugd-GGZ 2021 ging naar: A." in sentences(ne)


# ----------------------------------------- U5: only a late start is possible


def test_u5_overdue_child_gets_a_late_change_said_as_late():
    sc = scenario("u5_overdue_late.json")
    r = match(sc)
    ne = need(explain(r), "D")
    ch = ne.smallest_change
    assert ch is not None
    assert ch.late
    assert not ch.within_norm
    assert ch.to_json()["late"] is True
    assert "te laat" in sentences(ne)[-1]
    late = what_if(sc, [AllowLate(True)], base=r).result.placements[("D", "beh")]
    assert late.norm_status.value == "LATE"
    assert late.days_late > 0
    assert ch.deltas == (AddPlaces("L-AB", 1),)


# ------------------------------------------ U6: nobody in the region offers it


def test_u6_nobody_in_region_offers_gezinshuis():
    r = match(scenario("u6_no_gezinshuis_in_region.json"))
    ne = need(explain(r), "G")
    d = ne.decisive
    assert d is not None
    assert d.code == NOT_OFFERED_IN_REGION
    assert d.text.startswith("Niemand in de regio biedt gezinshuis; inkoop kan dit inkopen.")
    assert "Gezinshuis Brabant" in d.text
    assert ne.smallest_change is None
    assert ne.search_note.startswith("Geen wijziging gevonden")


def test_policy_flag_defaults():
    assert Policy().allow_waivers is False


# --------------------------------------------------------------- via the CLI


def test_fixtures_through_the_cli(capsys):
    f = str(FIXTURES / "u1_unclassified_batch.json")
    assert main(["match", f, "--explain", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"]["children"] == {
        "total": 4,
        "placed": 2,
        "unplaced": 1,
        "unclassified": 1,
        "not_waiting": 0,
    }
    assert doc["unclassified"] == [{"child": "H4", "need": "hulp"}]
    assert main(["match", f, "--explain"]) == 0
    out = capsys.readouterr().out
    assert "4 kinderen: 2 met een plek, 1 zonder plek en 1 met hulp die nog niet is bepaald" in out
    assert "Peildatum 1 januari 2022" in out

    assert main(["match", str(FIXTURES / "u2_family_preference.json"), "--explain"]) == 0
    out = capsys.readouterr().out
    assert "Doorslaggevend: het gezin wil op een andere wachtlijst blijven." in out
    assert "MIXED" not in out
    assert "OPTIMAL" not in out
    assert "ON_TIME" not in out

    assert main(["match", str(FIXTURES / "u3_third_in_queue.json"), "--explain", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    by_child = {u["child"]: u for u in doc["explanation"]["unplaced"]}
    change = by_child["C"]["smallest_change"]
    assert change["deltas"] == [{"kind": "add_places", "offering": "G-GH", "places": 3, "on": None}]

    assert main(["match", str(FIXTURES / "u4_ceiling_search.json"), "--explain", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    (b,) = [u for u in doc["explanation"]["unplaced"] if u["child"] == "B"]
    assert b["smallest_change"]["deltas"][0]["amount_cents"] == 100_200
    assert b["decisive"]["reason"] == "BUDGET_CEILING_REACHED"

    assert main(["match", str(FIXTURES / "u5_overdue_late.json"), "--explain"]) == 0
    assert "te laat" in capsys.readouterr().out

    assert main(["match", str(FIXTURES / "u6_no_gezinshuis_in_region.json"), "--explain"]) == 0
    out = capsys.readouterr().out
    assert "Niemand in de regio biedt gezinshuis; inkoop kan dit inkopen." in out


def test_whatif_cli_with_a_reference_count(tmp_path, capsys):
    d = tmp_path / "d.json"
    d.write_text(json.dumps([{"kind": "add_places", "offering": "K-KW", "places": 1}]))
    f = str(FIXTURES / "u1_unclassified_batch.json")
    args = ["whatif", f, str(d), "--reference", "5", "--reference-label", "De regio"]
    assert main([*args, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["comparison"]["reference"]["difference"] == -1
    assert doc["comparison"]["unclassified"] == {"before": 1, "after": 1}
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "De regio noemde 5 kinderen; in dit scenario staan 4 kinderen: 1 minder." in out
    assert "Peildatum: 1 januari 2022" in out


def test_whatif_table_shows_gemeente_names(tmp_path, capsys):
    d = tmp_path / "d.json"
    d.write_text(json.dumps([{"kind": "add_places", "offering": "K-KW", "places": 1}]))
    assert main(["whatif", str(FIXTURES / "u1_unclassified_batch.json"), str(d)]) == 0
    out = capsys.readouterr().out
    assert "Rijswijk" in out
    assert "GM0603" not in out
    assert "kleinschalige woonvoorziening" in out
