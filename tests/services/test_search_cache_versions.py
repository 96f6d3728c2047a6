"""Two searches at once in one process (the search lane is two wide): what one search
read before another noticed a write stays out of the cache of the newer data."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from matcher.domain import CareType
from providers.store.access import Principal
from services import search_cache
from services.search_cache import SearchCache

from .conftest import REGION, TODAY

SYSTEM = Principal.system("test")
CARE_TYPE = next(iter(CareType)).value


class Versions:
    """The data version the cache reads, raised by the test as a write would."""

    def __init__(self) -> None:
        self.n = 1

    def __call__(self, _session: Session, _read: Any = None) -> tuple[int]:
        return (self.n,)


@pytest.fixture
def versions(monkeypatch: pytest.MonkeyPatch) -> Versions:
    v = Versions()
    monkeypatch.setattr(search_cache, "data_version", v)
    return v


def _counting(monkeypatch: pytest.MonkeyPatch, name: str, during_first: Any) -> list[int]:
    """Count the calls of the cache's reader `name`; the first call runs `during_first`
    after its read, as another search that sees a write while this one still reads."""
    real = getattr(search_cache, name)
    calls = [0]

    def reader(*args: Any, **kwargs: Any) -> Any:
        out = real(*args, **kwargs)
        calls[0] += 1
        if calls[0] == 1:
            during_first()
        return out

    monkeypatch.setattr(search_cache, name, reader)
    return calls


def _raced(
    db: Session, versions: Versions, monkeypatch: pytest.MonkeyPatch, reader: str
) -> tuple[SearchCache, list[int]]:
    """A cache synced at version 1 whose `reader`, on its first call, lets another
    search see version 2 after the read (a write between the two), and its call count."""
    cache = SearchCache(stale_after_days=14)

    def other_search_sees_a_write() -> None:
        versions.n = 2
        cache.sync(db, TODAY)

    calls = _counting(monkeypatch, reader, other_search_sees_a_write)
    cache.sync(db, TODAY)
    return cache, calls


def test_offerings_read_before_a_newer_version_are_not_kept_for_it(
    sessions: sessionmaker[Session], versions: Versions, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sessions() as db:
        cache, calls = _raced(db, versions, monkeypatch, "search_offerings")
        first = cache.offerings(db, SYSTEM, CARE_TYPE, TODAY)
        assert first.offerings  # this search still answers from what it read
        again = cache.offerings(db, SYSTEM, CARE_TYPE, TODAY)
        assert calls[0] == 2  # read again for version 2, not taken from version 1's read
        cache.offerings(db, SYSTEM, CARE_TYPE, TODAY)
        assert calls[0] == 2  # and kept for version 2
        assert [o.id for o in again.offerings] == [o.id for o in first.offerings]


def test_purchases_read_before_a_newer_version_are_not_kept_for_it(
    sessions: sessionmaker[Session], versions: Versions, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sessions() as db:
        cache, calls = _raced(db, versions, monkeypatch, "purchase_tables")
        first = cache.purchase(db, CARE_TYPE, REGION)
        assert first.perceel  # read from the tables
        cache.purchase(db, CARE_TYPE, REGION)
        assert calls[0] == 2  # the tables are read again for version 2
        cache.purchase(db, CARE_TYPE, REGION)
        assert calls[0] == 2


def test_without_a_write_the_first_read_is_kept(
    sessions: sessionmaker[Session], versions: Versions, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = SearchCache(stale_after_days=14)
    with sessions() as db:
        offerings = _counting(monkeypatch, "search_offerings", lambda: None)
        tables = _counting(monkeypatch, "purchase_tables", lambda: None)
        cache.sync(db, TODAY)
        for _ in range(3):
            cache.sync(db, TODAY)
            cache.offerings(db, SYSTEM, CARE_TYPE, TODAY)
            cache.purchase(db, CARE_TYPE, REGION)
    assert offerings[0] == 1
    assert tables[0] == 1
