"""The verwijzer's search (services.search) and the one converter it shares with the
matching (providers.convert.offering_of)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy.orm import Session, sessionmaker

from matcher.domain import CareType
from matcher.domain.clocks import Verdict
from providers import reference
from providers.convert import scenario_from_db
from providers.store.access import Principal
from services import search as uc
from services.errors import InvalidRequest
from services.norm import verdict_text
from services.search_cache import RELEASE_WEEKS, SearchCache

from .conftest import REGION, TODAY

SYSTEM = Principal.system("test")


def _gemeente() -> str:
    return reference.jeugdregios()[REGION].gemeente_codes[0]


def test_region_scenario_and_search_catalogue_agree_on_ids_and_fields(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as db:
        scenario = scenario_from_db(db, SYSTEM, evaluation_date=TODAY, region_code=REGION)
        cache = SearchCache(stale_after_days=14)
        cache.sync(db, TODAY)
        catalogue = {}
        for ct in CareType:
            purchase = cache.purchase(db, ct.value, REGION)
            for o in cache.offerings(db, SYSTEM, ct.value, TODAY).offerings:
                catalogue[o.id] = purchase.offering(o)
    assert scenario.policy.horizon_weeks == RELEASE_WEEKS
    assert scenario.offerings
    for o in scenario.offerings:
        assert o.id in catalogue, o.id
        # every field, not only the id: one builder makes both
        assert dataclasses.asdict(catalogue[o.id]) == dataclasses.asdict(o), o.id
    in_region = {o.id for o in catalogue.values() if o.region == REGION}
    assert in_region <= {o.id for o in scenario.offerings}
    # the ids are the import format's aanbod_id values, never database keys
    assert not any(o.id.isdigit() for o in scenario.offerings)


def _request(**kw: object) -> uc.SearchRequest:
    base: dict[str, object] = {
        "care_type": next(iter(CareType)).value,
        "age": 12,
        "gemeente": _gemeente(),
    }
    base.update(kw)
    return uc.SearchRequest(**base)  # type: ignore[arg-type]


def test_search_result_puts_fitting_offerings_first(sessions: sessionmaker[Session]) -> None:
    cache = SearchCache(stale_after_days=14)
    with sessions() as db:
        scenario = scenario_from_db(db, SYSTEM, evaluation_date=TODAY, region_code=REGION)
        care_type = scenario.offerings[0].care_type.value
        result = uc.search(db, SYSTEM, _request(care_type=care_type), today=TODAY, cache=cache)
    assert isinstance(result, uc.SearchResult)
    assert result.fitting or result.non_fitting
    assert result.deadline_basis is uc.DeadlineBasis.NO_RULING
    assert all(c.fits and c.check.eligible for c in result.fitting)
    assert all(not c.fits for c in result.non_fitting)
    ranks = [uc.start_rank(c.start_low, c.start_high, result.deadline) for c in result.fitting]
    assert ranks == sorted(ranks)
    assert all(c.forecast is None for c in result.fitting[result.request.forecast_rows :])
    # the candidates carry the same domain offering as the region's scenario
    ids = {o.id for o in scenario.offerings}
    assert {c.offering.id for c in result.fitting} <= ids


def test_search_measures_against_the_earlier_deadline(sessions: sessionmaker[Session]) -> None:
    ruling = TODAY.replace(day=1)
    earlier = TODAY.replace(day=25)
    with sessions() as db:
        result = uc.search(
            db,
            SYSTEM,
            _request(ruling=ruling, deadline=earlier),
            today=TODAY,
            cache=SearchCache(stale_after_days=14),
        )
    assert result.deadline == earlier
    assert result.deadline_basis is uc.DeadlineBasis.URGENT
    assert not result.deadline_passed


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"care_type": "GEEN_HULPVORM"}, "zorgvorm"),
        ({"age": 30}, "leeftijd"),
        ({"gemeente": "GM9999"}, "gemeente"),
        ({"attributes": ("ONBEKEND",)}, "kenmerken"),
    ],
)
def test_search_rejects_a_request_it_cannot_answer(
    sessions: sessionmaker[Session], change: dict[str, object], field: str
) -> None:
    req = _request(**change)
    assert field in req.problems()
    with sessions() as db, pytest.raises(InvalidRequest) as exc:
        uc.search(db, SYSTEM, req, today=TODAY, cache=SearchCache(stale_after_days=14))
    assert field in exc.value.issues
    assert exc.value.user_message  # B1 Dutch for the user
    assert str(exc.value) != exc.value.user_message  # the developer's message is apart


# ------------------------------------------------------------ one verdict per result

DL = TODAY + dt.timedelta(days=30)


def _forecast(median: dt.date | None, p_late: float | None) -> uc.StartForecast:
    return uc.StartForecast(median, median, median, p_late, runs=100, seed=1)


@pytest.mark.parametrize(
    ("p_late", "verdict", "uncertain"),
    [
        (0.05, Verdict.WITHIN_NORM, False),
        (0.19, Verdict.WITHIN_NORM, False),
        (0.2, Verdict.WITHIN_NORM, True),
        (0.45, Verdict.WITHIN_NORM, True),
    ],
)
def test_a_start_before_the_deadline_is_within_the_norm_only_when_the_forecast_agrees(
    p_late: float, verdict: Verdict, uncertain: bool
) -> None:
    got, unsure = uc.judge(TODAY, DL, _forecast(DL - dt.timedelta(days=3), p_late), DL, TODAY)
    assert (got.verdict, unsure) == (verdict, uncertain)


@pytest.mark.parametrize(("p_late", "uncertain"), [(0.62, True), (0.8, True), (0.95, False)])
def test_a_start_after_the_deadline_is_late_or_unsure_never_on_time(
    p_late: float, uncertain: bool
) -> None:
    got, unsure = uc.judge(TODAY, DL, _forecast(DL + dt.timedelta(days=9), p_late), DL, TODAY)
    assert got.verdict is Verdict.STARTS_LATE
    assert got.days_late == 9
    assert unsure is uncertain


def test_without_a_forecast_the_late_end_of_the_expected_start_counts() -> None:
    got, unsure = uc.judge(TODAY, DL + dt.timedelta(days=4), None, DL, TODAY)
    assert (got.verdict, got.days_late, unsure) == (Verdict.STARTS_LATE, 4, True)
    got, unsure = uc.judge(TODAY, DL, None, DL, TODAY)
    assert (got.verdict, unsure) == (Verdict.WITHIN_NORM, False)
    got, unsure = uc.judge(None, None, None, DL, TODAY)
    assert (got.verdict, unsure) == (Verdict.NO_START, False)


def test_a_passed_deadline_is_late_with_days_late_never_unsure() -> None:
    passed = TODAY - dt.timedelta(days=50)
    start = TODAY + dt.timedelta(days=14)
    got, unsure = uc.judge(start, start, _forecast(start, 0.5), passed, TODAY)
    assert got.verdict is Verdict.PAST_DEADLINE
    assert got.days_late == 64
    assert not unsure
    assert verdict_text(got) == "Te laat: start 64 dagen na de deadline"


# ------------------------------------------------------------ one cache, many searches


def _outcome(result: uc.SearchResult) -> list[tuple[object, ...]]:
    return [
        (
            c.view.id,
            c.fits,
            c.check.eligible,
            c.check.reasons,
            c.check.via_main_contractor,
            c.start_low,
            c.start_high,
            c.verdict,
            c.uncertain,
            c.budget_room,
            c.distance_km,
            c.forecast,
        )
        for c in (*result.fitting, *result.non_fitting)
    ]


def test_a_long_lived_cache_answers_as_a_fresh_one(sessions: sessionmaker[Session]) -> None:
    """What a cache keeps between searches (offerings, purchases with their lookups,
    the loop's figures, start forecasts without a deadline) changes no answer: each
    search against one with a fresh cache, with rulings that give other deadlines."""
    import random

    rng = random.Random(3)
    gemeenten = sorted(reference.jeugdregios()[REGION].gemeente_codes)
    outside = sorted(reference.jeugdregios()["JZ22"].gemeente_codes)
    kept = SearchCache(stale_after_days=14)
    with sessions() as db:
        for _ in range(40):
            req = _request(
                care_type=rng.choice(list(CareType)).value,
                age=rng.randint(4, 17),
                gemeente=rng.choice(gemeenten + outside[:3]),
                also_outside_region=rng.random() < 0.5,
                ruling=TODAY - dt.timedelta(days=rng.randint(0, 120)),
                forecast_rows=rng.choice((0, 3)),
            )
            warm = uc.search(db, SYSTEM, req, today=TODAY, cache=kept)
            cold = uc.search(db, SYSTEM, req, today=TODAY, cache=SearchCache(14))
            assert _outcome(warm) == _outcome(cold), req
    assert kept.hits > 0  # the kept cache was used, not filled anew each time


def test_a_purchase_holds_the_budgets_that_can_apply_in_its_region(
    sessions: sessionmaker[Session],
) -> None:
    """Cut per region or read whole, the tables give the same purchase; a budget of
    another region is left out, so a child's lookup never walks it."""
    from providers.store.purchase import purchase_tables
    from services.search_cache import by_region, purchase_for

    with sessions() as db:
        whole = purchase_tables(db)
    cut = by_region(whole)
    members = set(reference.jeugdregios()[REGION].gemeente_codes)
    others = [b for b in whole.budgets if b.region != REGION and b.gemeente not in members]
    assert others, "the fixture needs budgets of more than one region"
    seen = 0
    for ct in CareType:
        for region in reference.jeugdregios():
            a = purchase_for(whole, ct.value, region)
            b = purchase_for(
                cut.get(region, dataclasses.replace(whole, contracts=(), budgets=())),
                ct.value,
                region,
            )
            assert a == b, (ct, region)
            for budget in a.budgets:
                seen += 1
                assert budget.region in (None, region)
                if budget.gemeente is not None:
                    assert budget.gemeente in reference.jeugdregios()[region].gemeente_codes
    assert seen
    ours = purchase_for(whole, next(iter(CareType)).value, REGION).budgets
    assert not {b.ext_id for b in others} & {b.id for b in ours}


def test_only_the_nearest_offerings_that_do_not_fit_get_a_full_result(
    sessions: sessionmaker[Session],
) -> None:
    """With a limit, the offerings that do not fit are all counted with their reasons
    (`unfit`, nearest first, the child's own gemeente at 0 km before the rest) and the
    nearest get the same full result as without a limit."""
    cut_seen, own_gemeente_seen = 0, 0
    with sessions() as db:
        for ct in CareType:
            req = _request(care_type=ct.value, age=3, also_outside_region=True, forecast_rows=0)
            whole = uc.search(db, SYSTEM, req, today=TODAY, cache=SearchCache(14))
            cut = uc.search(
                db, SYSTEM, req, today=TODAY, cache=SearchCache(14), non_fitting_limit=3
            )
            assert len(whole.non_fitting) == len(whole.unfit) == len(cut.unfit)
            assert cut.non_fitting == whole.non_fitting[:3]
            assert [u.check for u in cut.unfit] == [c.check for c in whole.non_fitting]
            distances = [u.distance_km for u in cut.unfit]
            known = [d for d in distances if d is not None]
            assert known == sorted(known)
            assert distances[: len(known)] == known  # an unknown distance comes last
            cut_seen += len(cut.unfit) > 3
            own_gemeente_seen += 0.0 in known
    # the fixture has both cases
    assert cut_seen
    assert own_gemeente_seen
