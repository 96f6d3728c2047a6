"""Inkoop scenarios (services.what_if, services.purchase_advice): aggregates only,
small and derivable cells hidden,
deltas that change what they should."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from matcher.domain import match, what_if
from providers.store import access, accounts, aggregates, regional
from providers.store.engine import make_engine, migrate, session_factory
from providers.store.models import AuditEntry, Child, OrganisationKind, Role
from services import purchase_advice as adv
from services import what_if as s
from services.errors import InvalidRequest
from tests.wijzer.overdue import freshen_rulings
from wijzer.demo_site import load_demo_data

from .conftest import REGION, TODAY, principal

# "Binnen de norm" is a start on or before the legal deadline: in the demo region most
# children waited past it, so few can still be placed within the norm and nearly every
# cell would be hidden.  The tables below need a region where many deadlines lie ahead:
# the demo region with every ruling at most 60 days ago (deadlines a month or more away).
FRESH_WITHIN_DAYS = 60


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sessionmaker[Session]]:
    path = tmp_path_factory.mktemp("what_if") / "fresh.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    factory = session_factory(engine)
    load_demo_data(factory, TODAY, io.StringIO())
    with factory.begin() as db:
        freshen_rulings(db, REGION, TODAY, FRESH_WITHIN_DAYS)
        org = accounts.create_organisation(
            db, "inkoop vers", OrganisationKind.REGIO, region_code=REGION
        )
        accounts.create_account(db, f"inkoop-{REGION}", "x" * 12, Role.INKOOP, org)
    yield factory
    engine.dispose()


@pytest.fixture(scope="module")
def outcome(fresh: sessionmaker[Session]) -> s.ScenarioOutcome:
    with fresh.begin() as db:
        user = principal(db, f"inkoop-{REGION}")
        opts = regional.region_options(db, user, today=TODAY)
        ct, region = opts.placeable[0]
        req = s.ScenarioRequest(extra_places=(s.ExtraPlaces(ct, region, 10),))
        return s.run_scenario(db, user, req, today=TODAY)


def _cells(o: s.ScenarioOutcome) -> list[int | None]:
    out: list[int | None] = [o.needs, o.unclassified]
    for row in (o.within_norm, o.blocked, o.placed_late):
        out += [row.baseline, row.scenario]
    for t in (o.by_gemeente, o.by_care_type):
        for g in t.rows:
            out += [g.within.baseline, g.within.scenario, g.blocked.baseline, g.blocked.scenario]
    for r in (*o.blocked_by_reason.rows, o.blocked_by_reason.total):
        out += [r.baseline, r.scenario]
    return out


# ------------------------------------------------------------------ protect


def test_one_small_row_gets_a_complement() -> None:
    hidden = aggregates.protect({"a": (3,), "b": (20,), "c": (7,), "d": (0,)})
    # c is the smallest non-zero row left; the all-zero row protects nothing
    assert hidden == {"a", "c"}


def test_two_small_rows_with_a_small_sum_get_a_complement() -> None:
    # 1 + 2 = 3 would still be a small group: hide one more row
    assert aggregates.protect({"a": (1,), "b": (2,), "c": (9,), "d": (30,)}) == {"a", "b", "c"}


def test_nothing_small_nothing_hidden() -> None:
    assert aggregates.protect({"a": (5,), "b": (0,), "c": (12,)}) == set()


def test_hidden_total_still_hides_a_row() -> None:
    assert aggregates.protect({"a": (6,), "b": (9,)}, margin_hidden=True) == {"a"}


def test_both_columns_count() -> None:
    # row b is small only in the second column; rows are hidden as a whole
    assert aggregates.protect({"a": (8, 8), "b": (9, 2), "c": (40, 40)}) == {"a", "b"}


tables = st.dictionaries(
    st.sampled_from("abcdefg"), st.tuples(st.integers(0, 25), st.integers(0, 25)), min_size=1
)


@given(tables)
def test_total_minus_shown_never_gives_one_row(rows: dict[str, tuple[int, int]]) -> None:
    hidden = aggregates.protect(rows)
    for k, vals in rows.items():
        if any(0 < v < 5 for v in vals):
            assert k in hidden
    nonzero_hidden = [k for k in hidden if any(rows[k])]
    if hidden and len(nonzero_hidden) < len([k for k in rows if any(rows[k])]):
        # Not everything is hidden: the hidden part is at least two rows and not small.
        assert len(nonzero_hidden) >= 2
        for c in range(2):
            total = sum(rows[k][c] for k in hidden)
            assert total == 0 or total >= 10
    elif len(nonzero_hidden) == 1:
        # The only non-zero row: a small cell in it is the column total itself, which
        # is small and so hidden by the caller (see test_every_shown_cell_...).
        k = nonzero_hidden[0]
        for c in range(2):
            if 0 < rows[k][c] < 5:
                assert sum(v[c] for v in rows.values()) == rows[k][c]


# ------------------------------------------------------------------ run_scenario


def test_only_aggregates_leave(fresh: sessionmaker[Session], outcome: s.ScenarioOutcome) -> None:
    with fresh() as db:
        refs = list(db.scalars(select(Child.ref)))
    text = repr(outcome)
    assert refs
    assert not any(ref in text for ref in refs)
    # The outcome holds counts, codes and labels only: no field can hold a child.
    for f in dataclasses.fields(s.ScenarioOutcome):
        assert f.name in {
            "region",
            "evaluation_date",
            "needs",
            "within_norm",
            "blocked",
            "by_gemeente",
            "by_care_type",
            "blocked_by_reason",
            "applied",
            "forecast",  # days to a start, per care type: no child in it
            "placed_late",
            "groups",  # outcomes per group: counts and group labels, small cells hidden
            "floor",  # the group floor's totals and sentence, small counts left out
            "unclassified",  # a count of needs not classified yet, hidden when small
        }


def test_every_shown_group_count_is_zero_or_at_least_five(outcome: s.ScenarioOutcome) -> None:
    counts = [
        v
        for r in outcome.groups.rows
        for v in (
            r.children,
            r.unclassified,
            *(
                getattr(c, k)
                for c in (r.matching, r.fcfs)
                for k in ("within_norm", "placed_late", "unplaced")
            ),
        )
        if v is not None
    ]
    assert outcome.groups.rows
    assert all(v == 0 or v >= 5 for v in counts)
    assert all(r.children is None for r in outcome.groups.rows if r.hidden)


def test_every_shown_cell_is_zero_or_at_least_five(outcome: s.ScenarioOutcome) -> None:
    shown = [v for v in _cells(outcome) if v is not None]
    assert shown, "the demo region must show something"
    assert all(v == 0 or v >= 5 for v in shown)


def test_totals_minus_shown_rows_never_single_out_a_row(outcome: s.ScenarioOutcome) -> None:
    for t in (outcome.by_gemeente, outcome.by_care_type):
        hidden = [g for g in t.rows if g.hidden]
        assert len(hidden) != 1
        for col in ("baseline", "scenario"):
            for part, total in (("within", t.within), ("blocked", t.blocked)):
                tv = getattr(total, col)
                if tv is None or not hidden:
                    continue
                rest = tv - sum(getattr(getattr(g, part), col) for g in t.rows if not g.hidden)
                assert rest == 0 or rest >= 10
    r = outcome.blocked_by_reason
    assert sum(1 for x in r.rows if x.baseline is None) != 1


def test_partitions_add_up(outcome: s.ScenarioOutcome) -> None:
    w, b = outcome.within_norm, outcome.blocked
    if outcome.needs is not None:
        assert w.baseline is not None
        assert b.baseline is not None
        assert w.baseline + b.baseline == outcome.needs
    t = outcome.blocked_by_reason
    if all(x.baseline is not None for x in t.rows) and t.total.baseline is not None:
        assert sum(x.baseline or 0 for x in t.rows) == t.total.baseline


def test_extra_places_raise_within_the_norm(outcome: s.ScenarioOutcome) -> None:
    w = outcome.within_norm
    assert w.baseline is not None
    assert w.scenario is not None
    assert w.scenario > w.baseline
    assert "extra plek" in outcome.applied[0]


def _within(sessions: sessionmaker[Session], req: s.ScenarioRequest) -> tuple[int, int, dict]:
    """Raw counts (test only): the same steps as run_scenario without the suppression."""
    with sessions.begin() as db:
        user = principal(db, f"inkoop-{REGION}")
        sc = regional.load_region(db, user, today=TODAY)
    deltas, _ = s.deltas_for(sc, req)
    base = match(sc)
    wi = what_if(sc, deltas, base=base)
    return base.n_within_norm, wi.result.n_within_norm, wi.comparison.by_gemeente


@pytest.mark.parametrize("places", [1, 3, 8])
def test_extra_places_never_lower_within_the_norm(
    sessions: sessionmaker[Session], places: int
) -> None:
    with sessions() as db:
        opts = regional.region_options(db, principal(db, f"inkoop-{REGION}"), today=TODAY)
    for ct, region in opts.placeable[:6]:
        before, after, _ = _within(
            sessions, s.ScenarioRequest(extra_places=(s.ExtraPlaces(ct, region, places),))
        )
        assert after >= before, (ct, places)


def test_lifted_ceilings_never_lower_within_the_norm(sessions: sessionmaker[Session]) -> None:
    with sessions() as db:
        opts = regional.region_options(db, principal(db, f"inkoop-{REGION}"), today=TODAY)
    lifts = tuple(s.CeilingLift(b, 10_000_000) for b, _ in opts.budgets)
    before, after, _ = _within(sessions, s.ScenarioRequest(ceiling_lifts=lifts))
    assert after >= before


def test_a_gemeente_that_leaves_loses_the_joint_contracts(sessions: sessionmaker[Session]) -> None:
    with sessions() as db:
        user = principal(db, f"inkoop-{REGION}")
        opts = regional.region_options(db, user, today=TODAY)
    gained = []
    for g in opts.gemeenten:
        _, _, by_g = _within(sessions, s.ScenarioRequest(gemeenten_leave=(g,)))
        before, after = by_g.get(g, (0, 0))
        # its children are no longer covered by the region's contracts
        assert after <= before, g
        gained.append(before - after)
    assert any(x > 0 for x in gained), "leaving must cost some gemeente children within the norm"


def test_audit_names_the_inkoop_user_without_refs(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as db:
        user = principal(db, f"inkoop-{REGION}")
        regional.load_region(db, user, today=TODAY)
    with sessions() as db:
        mine = db.scalars(
            select(AuditEntry)
            .where(AuditEntry.actor == f"inkoop-{REGION}")
            .order_by(AuditEntry.id.desc())
        ).first()
        system = db.scalars(
            select(AuditEntry)
            .where(AuditEntry.actor == f"systeem voor inkoop-{REGION}")
            .order_by(AuditEntry.id.desc())
        ).first()
    assert mine is not None
    assert mine.record_refs == ""
    assert (mine.record_count or 0) > 0
    assert "alleen totalen" in mine.detail
    # the system read lists pseudonyms, as every read of children does
    assert system is not None
    assert system.record_refs


@pytest.mark.parametrize("username", [f"tafel-{REGION}", f"verwijzer-{REGION}"])
def test_other_roles_may_not(sessions: sessionmaker[Session], username: str) -> None:
    with sessions() as db, pytest.raises(access.AccessDenied):
        s.run_scenario(db, principal(db, username), s.ScenarioRequest(), today=TODAY)


def test_inkoop_of_another_region_may_not_ask_for_this_one(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as db, pytest.raises(access.AccessDenied):
        regional.load_region(db, principal(db, "inkoop-JZ22"), today=TODAY, region=REGION)


def test_requests_for_what_does_not_exist_are_refused(sessions: sessionmaker[Session]) -> None:
    with sessions() as db:
        sc = regional.load_region(db, principal(db, f"inkoop-{REGION}"), today=TODAY)
    with pytest.raises(InvalidRequest) as e:
        s.deltas_for(
            sc,
            s.ScenarioRequest(
                extra_places=(s.ExtraPlaces("PLEEGZORG", "JZ99", 2),),
                ceiling_lifts=(s.CeilingLift("B-BESTAAT-NIET", 100),),
                gemeenten_leave=("GM0344",),
            ),
        )
    assert set(e.value.issues) == {"plekken_0", "plafond_0", "gemeenten"}


# ------------------------------------------------------------------ purchase advice


@pytest.fixture(scope="module")
def advice(sessions: sessionmaker[Session]) -> adv.AdviceOutcome:
    with sessions.begin() as db:
        user = principal(db, f"inkoop-{REGION}")
        return adv.purchase_advice(db, user, 100_000_000, today=TODAY, max_places=10)


def test_advice_beats_or_equals_the_naive_rule(advice: adv.AdviceOutcome) -> None:
    best, naive = advice.rules
    assert (best.rule, naive.rule) == ("advies", "langste_wachtlijst")
    assert best.within_norm is not None
    assert naive.within_norm is not None
    assert best.within_norm >= naive.within_norm
    for r in advice.rules:
        assert r.spent_cents <= advice.budget_cents
        assert sum(p.spent_cents for p in r.purchases) == r.spent_cents
        assert all(p.places <= advice.max_places for p in r.purchases)


def test_advice_hides_small_counts_and_holds_no_refs(
    sessions: sessionmaker[Session], advice: adv.AdviceOutcome
) -> None:
    with sessions() as db:
        refs = list(db.scalars(select(Child.ref)))
    text = repr(advice)
    assert not any(ref in text for ref in refs)
    for r in advice.rules:
        for p in r.purchases:
            assert p.children is None or p.children == 0 or p.children >= 5
            # euros per child would give the count back
            assert (p.cents_per_child is None) == (not p.children)


def test_no_budget_buys_nothing(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as db:
        out = adv.purchase_advice(db, principal(db, f"inkoop-{REGION}"), 0, today=TODAY)
    assert all(r.spent_cents == 0 and not r.purchases for r in out.rules)
    assert all(r.gained in (0, None) for r in out.rules)


def test_forecast_waits_drop_only_where_places_are_added(
    sessions: sessionmaker[Session], outcome: s.ScenarioOutcome
) -> None:
    with sessions() as db:
        opts = regional.region_options(db, principal(db, f"inkoop-{REGION}"), today=TODAY)
    added = opts.placeable[0][0]
    rows = {f.care_type: f for f in outcome.forecast}
    assert added in rows
    f = rows[added]
    assert f.baseline is not None
    assert f.scenario is not None
    assert f.scenario[1] < f.baseline[1]
    for ct, other in rows.items():
        if ct != added:
            # same offerings, same seeds: the same simulation
            assert other.baseline == other.scenario, ct
        if other.baseline is not None:
            low, median, high = other.baseline
            assert low <= median <= high


@pytest.mark.parametrize(("places", "words"), [(1, "1 extra plek "), (2, "2 extra plekken ")])
def test_a_change_reads_with_the_right_plural_and_names(
    sessions: sessionmaker[Session], places: int, words: str
) -> None:
    with sessions() as db:
        user = principal(db, f"inkoop-{REGION}")
        opts = regional.region_options(db, user, today=TODAY)
        sc = regional.load_region(db, user, today=TODAY)
    ct, region = opts.placeable[0]
    _, lines = s.deltas_for(
        sc, s.ScenarioRequest(extra_places=(s.ExtraPlaces(ct, region, places),))
    )
    assert lines[0].startswith(words)
    assert "(ken)" not in lines[0]
    assert lines[0].endswith(f"in regio {s.region_name(region)}")
    assert ct not in lines[0]  # the care type's label, not its code


def test_a_care_type_never_purchased_can_be_tried_as_a_new_purchase() -> None:
    """Nobody in the region offers pleegzorg: without a price the request says what is
    missing; with one, the new offering places the child who waits for it."""
    from matcher.domain.model import CareType
    from tests.domain.helpers import HOME, child, offering, scenario

    sc = scenario(
        [child("K-PZ", CareType.PLEEGZORG), child("K-AJ", CareType.AMBULANTE_JGGZ)],
        [offering("O-AJ", CareType.AMBULANTE_JGGZ)],
    )
    base = match(sc)
    assert [ref for ref, _ in base.unplaced] == ["K-PZ"]
    with pytest.raises(InvalidRequest) as err:
        s.deltas_for(sc, s.ScenarioRequest((s.ExtraPlaces("PLEEGZORG", HOME, 1),)))
    assert "nog niet ingekocht" in err.value.issues["prijs_0"]
    deltas, lines = s.deltas_for(
        sc, s.ScenarioRequest((s.ExtraPlaces("PLEEGZORG", HOME, 1, 4_500_000),))
    )
    assert lines == [
        "nieuw ingekocht: 1 plek pleegzorg in regio "
        f"{s.region_name(HOME)}, € 45.000 per traject (we rekenen met aanbod voor alle "
        "leeftijden, met alle expertise en zonder contra-indicaties: het beste geval)"
    ]
    after = what_if(sc, deltas, base=base).result
    assert after.unplaced == []
    placed = {p.child_ref: p.offering for p in after.placements.values()}
    assert placed["K-PZ"].startswith(s.NEW_PROVIDER)


def test_extra_places_where_every_offering_has_an_intake_stop_is_refused() -> None:
    from matcher.domain.model import CareType
    from tests.domain.helpers import HOME, child, offering, scenario

    sc = scenario(
        [child("K-PZ", CareType.PLEEGZORG)],
        [offering("O-PZ", CareType.PLEEGZORG, intake_stop=True)],
    )
    with pytest.raises(InvalidRequest) as err:
        s.deltas_for(sc, s.ScenarioRequest((s.ExtraPlaces("PLEEGZORG", HOME, 1, 4_500_000),)))
    assert "opnamestop" in err.value.issues["plekken_0"]
