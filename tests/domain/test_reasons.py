"""The reason catalogue: every member has a code decision, a B1 sentence and a group."""

from __future__ import annotations

import re
from datetime import date

import pytest

from matcher.domain.caretypes import CareType, care_type_label
from matcher.domain.explain import delta_nl, explain, reason_nl, sentences
from matcher.domain.match import match
from matcher.domain.model import ChildAttribute, Forbid, Pin
from matcher.domain.reasons import (
    ATTRIBUTE_LABELS,
    REASONS,
    SUMMARIES,
    WARNINGS,
    Entry,
    Group,
    PairWarning,
    Reason,
    attribute_label,
    attribute_list,
    group_of,
    reason_text,
    summary_codes,
    summary_of,
    summary_text,
    warning_text,
    wj759,
)
from matcher.domain.whatif import (
    AddPlaces,
    AllowOutOfRegion,
    ChangeCeiling,
    LiftIntakeStop,
    WaiveContraIndication,
)

from .conftest import FIXTURES, scenario

WJ759_CODES = {str(n) for n in range(1, 10)}  # iJw 3.2 list (../shared/ref)

# Raw codes that must never reach a reader: every enum value with an underscore or in
# upper case, and the English attribute codes.
RAW = sorted(
    {
        m.value
        for enum in (Reason, PairWarning, ChildAttribute, CareType)
        for m in enum
        if "_" in m.value or (m.value.isupper() and len(m.value) > 3)
    }
    | {"aggression", "externalising", "addiction", "suicidality", "lvb"}
)
PLURAL_HACK = re.compile(r"\((ken|en|s)\)")


def assert_readable(text: str) -> None:
    assert text.strip(), "empty sentence"
    for raw in RAW:
        assert not re.search(rf"\b{re.escape(raw)}\b", text), f"raw code {raw!r} in {text!r}"
    assert not PLURAL_HACK.search(text), f"plural hack in {text!r}"


def all_entries() -> list[tuple[object, Entry]]:
    return [*REASONS.items(), *WARNINGS.items(), *SUMMARIES.items()]


@pytest.mark.parametrize("reason", list(Reason))
def test_every_reason_has_a_code_decision_a_sentence_and_a_group(reason):
    entry = REASONS[reason]  # a member added without an entry fails here
    assert entry.wj759 is None or entry.wj759 in WJ759_CODES
    assert wj759(reason) == entry.wj759
    assert isinstance(entry.group, Group)
    assert_readable(entry.sentence)
    assert_readable(reason_text(reason))


@pytest.mark.parametrize("warning", list(PairWarning))
def test_every_warning_has_a_code_decision_a_sentence_and_a_group(warning):
    entry = WARNINGS[warning]
    assert entry.wj759 is None or entry.wj759 in WJ759_CODES
    assert isinstance(entry.group, Group)
    assert_readable(warning_text(warning))
    assert_readable(warning_text(warning, main="Hoofd BV"))


def test_every_summary_has_a_sentence_and_a_group():
    codes = summary_codes()
    assert set(codes) == set(SUMMARIES)
    assert "MIXED" in codes
    assert "ALL_CANDIDATES_CONTRA_INDICATION" in codes
    for reason in Reason:
        assert summary_of([reason, reason]) in SUMMARIES
    assert summary_of([Reason.NO_CAPACITY, Reason.INTAKE_STOP]) == "MIXED"
    for code in codes:
        entry = SUMMARIES[code]
        assert entry.wj759 is None or entry.wj759 in WJ759_CODES
        assert_readable(summary_text(code))
        assert group_of(code) is entry.group
    assert summary_text("ALL_CANDIDATES_CONTRA_INDICATION").startswith("Bij alle aanbieders")


def test_codes_where_they_fit():
    assert wj759(Reason.BUDGET_CEILING_REACHED) == "2"
    assert wj759(Reason.NOT_PURCHASED) == "3"
    assert wj759(Reason.CONTRA_INDICATION) == "7"
    assert wj759(Reason.AGE_OUT_OF_RANGE) == "9"
    assert wj759(Reason.NO_CAPACITY) is None
    assert wj759(Reason.EXCLUDED_BY_TABLE) is None
    assert SUMMARIES["ALL_CANDIDATES_CONTRA_INDICATION"].wj759 == "7"
    assert SUMMARIES["MIXED"].wj759 is None


def test_a_table_exclusion_is_its_own_group_not_full():
    assert group_of(Reason.EXCLUDED_BY_TABLE) is Group.EXCLUDED_BY_TABLE
    assert group_of(Reason.EXCLUDED_BY_TABLE) is not group_of(Reason.NO_CAPACITY)
    assert "tafel" in reason_text(Reason.EXCLUDED_BY_TABLE).lower()
    assert Group.EXCLUDED_BY_TABLE.label == "Uitgesloten door de tafel"


def test_groups_have_labels():
    for group in Group:
        assert group.label
        assert group.label[0].isupper()


def test_sentences_with_parameters():
    text = reason_text(
        Reason.CONTRA_INDICATION,
        contra=[ChildAttribute.ZEDENVERLEDEN, ChildAttribute.AGGRESSION],
    )
    expected = "De aanbieder noemt een contra-indicatie: geen kinderen met "
    assert text == expected + "agressie en een zedenverleden"
    assert reason_text(Reason.CONTRA_INDICATION) == REASONS[Reason.CONTRA_INDICATION].sentence
    age = reason_text(Reason.AGE_OUT_OF_RANGE, age_min=12, age_max=18)
    assert age == "De leeftijd past niet: deze hulp is voor 12 tot en met 18 jaar"
    assert reason_text(Reason.AGE_OUT_OF_RANGE) == REASONS[Reason.AGE_OUT_OF_RANGE].sentence
    assert warning_text(PairWarning.VIA_MAIN_CONTRACTOR, main="Hoofd BV").endswith("Hoofd BV")
    for attrs in ([], list(ChildAttribute)):
        assert_readable(reason_text(Reason.CONTRA_INDICATION, contra=attrs))
    assert reason_nl(Reason.NO_CAPACITY)[0].islower()


def test_every_attribute_has_a_dutch_label():
    for attribute in ChildAttribute:
        label = ATTRIBUTE_LABELS[attribute]
        assert_readable(label)
        assert attribute_label(attribute, capital=True)[0].isupper()
    assert attribute_list([ChildAttribute.AGGRESSION]) == "agressie"
    assert attribute_list([]) == ""
    many = attribute_list([ChildAttribute.AGGRESSION, ChildAttribute.ADDICTION, ChildAttribute.LVB])
    assert many == "een verslaving, agressie en een licht verstandelijke beperking (LVB)"


def test_one_care_type_label():
    for ct in CareType:
        assert care_type_label(ct) == ct.label_nl
        assert care_type_label(ct.value) == ct.label_nl
        assert not care_type_label(ct, capital=True)[0].islower()
        assert_readable(care_type_label(ct))
    assert care_type_label("ONBEKEND_PRODUCT") == "ONBEKEND_PRODUCT"


def test_change_sentences_are_readable():
    changes = [
        AddPlaces("O", 1),
        AddPlaces("O", 3),
        ChangeCeiling("B1", 100_000),
        WaiveContraIndication("O", ChildAttribute.AGGRESSION),
        LiftIntakeStop("O"),
        AllowOutOfRegion(True),
        Pin("K", "n", "O"),
        Forbid("K", "n", "O"),
    ]
    texts = [delta_nl(d) for d in changes]
    for text in texts:
        assert_readable(text)
    assert "1 plek bij" in texts[0]
    assert "3 plekken bij" in texts[1]
    assert "agressie" in texts[3]


SCENARIOS = sorted(p.name for p in FIXTURES.glob("*.json") if p.name != "t8_uitvraag.json")


@pytest.mark.parametrize("name", SCENARIOS)
def test_explanations_of_the_fixtures_are_readable(name):
    r = match(scenario(name))
    for ne in explain(r, search=False).needs:
        doc = ne.to_json()
        for line in [*sentences(ne), doc["summary_text"], *(c["text"] for c in doc["candidates"])]:
            assert_readable(line)
        assert doc["group"] in {g.value for g in Group}
    for p in r.placements.values():
        for w in p.warnings:
            assert_readable(warning_text(w))


def test_placement_dates_stay_dates():
    r = match(scenario("overdue_child.json"))
    for p in r.placements.values():
        assert isinstance(p.start, date)
        assert isinstance(p.deadline, date)
