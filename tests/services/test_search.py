"""The verwijzer's search (services.search) and the one converter it shares with the
matching (providers.convert.offering_of)."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy.orm import Session, sessionmaker

from matcher.domain import CareType
from providers import reference
from providers.convert import scenario_from_db
from providers.store.access import Principal
from services import search as uc
from services.errors import InvalidRequest
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
    order = [uc.StartStatus.ON_TIME, uc.StartStatus.MAYBE_LATE, uc.StartStatus.LATE]
    ranks = [order.index(c.status) if c.status in order else 3 for c in result.fitting]
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
