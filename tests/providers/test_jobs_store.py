"""The data layer's rules for stored jobs: who sees which job, the per-user quota,
the cap on stored jobs, and what a restart does to unfinished jobs."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from providers.store import accounts, jobs
from providers.store.access import Principal
from providers.store.jobs import JobKind, JobQuotaExceeded, JobStatus
from providers.store.models import JobRow, OrganisationKind, Role

TAFEL = Principal("tafel-a", Role.TAFEL, None, "JZ31")
TAFEL_COLLEAGUE = Principal("tafel-b", Role.TAFEL, None, "JZ31")
TAFEL_ELSEWHERE = Principal("tafel-utrecht", Role.TAFEL, None, "JZ20")
INKOOP = Principal("inkoop-a", Role.INKOOP, None, "JZ31")
VERWIJZER = Principal("verwijzer-a", Role.VERWIJZER, None, "JZ31")
BEHEER = Principal("beheer", Role.BEHEER, None)
ALL = tuple(JobKind)


def _new(
    sessions: sessionmaker[Session], who: Principal, kind: JobKind, name: str = "Proef", **kw: int
) -> str:
    with sessions.begin() as s:
        return jobs.create(s, who, kind, name, '{"refs": []}', **kw).id


def _finish(sessions: sessionmaker[Session], job_id: str) -> None:
    with sessions.begin() as s:
        jobs.mark_done(s, job_id, "{}")


def _visible(sessions: sessionmaker[Session], who: Principal, job_id: str) -> bool:
    with sessions() as s:
        return jobs.get(s, who, job_id, ALL) is not None


def test_each_role_sees_only_its_own_kind_and_region(sessions: sessionmaker[Session]) -> None:
    run = _new(sessions, TAFEL, JobKind.TAFEL_RUN)
    scenario = _new(sessions, INKOOP, JobKind.INKOOP_SCENARIO)
    advice = _new(sessions, INKOOP, JobKind.INKOOP_ADVICE)
    elsewhere = _new(sessions, TAFEL_ELSEWHERE, JobKind.TAFEL_RUN)
    # the table's runs are the table's: a colleague of the same region sees them
    assert _visible(sessions, TAFEL_COLLEAGUE, run)
    assert not _visible(sessions, TAFEL, scenario)
    assert not _visible(sessions, TAFEL, advice)
    assert not _visible(sessions, TAFEL, elsewhere)
    assert not _visible(sessions, TAFEL_ELSEWHERE, run)
    assert _visible(sessions, INKOOP, scenario)
    assert _visible(sessions, INKOOP, advice)
    assert not _visible(sessions, INKOOP, run)
    assert not any(_visible(sessions, VERWIJZER, j) for j in (run, scenario, advice))
    assert all(_visible(sessions, BEHEER, j) for j in (run, scenario, advice, elsewhere))
    with sessions() as s:
        # asking for a kind narrows further: an inkoop id on a tafel route is unknown
        assert jobs.get(s, BEHEER, scenario, (JobKind.TAFEL_RUN,)) is None
        listed = jobs.listing(s, TAFEL, ALL)
        assert [j.id for j in listed] == [run]
        assert {j.id for j in jobs.listing(s, INKOOP, ALL)} == {scenario, advice}


def test_a_role_may_not_start_another_roles_kind(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(PermissionError), sessions.begin() as s:
        jobs.create(s, TAFEL, JobKind.INKOOP_SCENARIO, "x", "{}")
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(JobRow)) == 0


def test_quota_of_active_jobs_per_user(sessions: sessionmaker[Session]) -> None:
    first = [_new(sessions, TAFEL, JobKind.TAFEL_RUN) for _ in range(jobs.MAX_ACTIVE)]
    with pytest.raises(JobQuotaExceeded) as refused, sessions.begin() as s:
        jobs.create(s, TAFEL, JobKind.TAFEL_RUN, "te veel", "{}")
    assert refused.value.user_message == (
        "U heeft al 3 berekeningen die wachten of bezig zijn. Dat is het maximum. "
        "Wacht tot er een klaar is en probeer het dan opnieuw."
    )
    # another user of the same table is not held back by this one
    _new(sessions, TAFEL_COLLEAGUE, JobKind.TAFEL_RUN)
    _finish(sessions, first[0])
    _new(sessions, TAFEL, JobKind.TAFEL_RUN)  # one finished: room for one more


def test_quota_message_for_one_active_job(sessions: sessionmaker[Session]) -> None:
    _new(sessions, TAFEL, JobKind.TAFEL_RUN)
    with pytest.raises(JobQuotaExceeded) as refused, sessions.begin() as s:
        jobs.create(s, TAFEL, JobKind.TAFEL_RUN, "x", "{}", max_active=1)
    assert refused.value.user_message.startswith(
        "U heeft al 1 berekening die wacht of bezig is. Dat is het maximum."
    )


def test_stored_jobs_cap_removes_the_owners_oldest_finished(
    sessions: sessionmaker[Session],
) -> None:
    colleague = _new(sessions, TAFEL_COLLEAGUE, JobKind.TAFEL_RUN)
    _finish(sessions, colleague)
    running = _new(sessions, TAFEL, JobKind.TAFEL_RUN, "loopt", max_stored=3)
    own = []
    for i in range(4):
        own.append(_new(sessions, TAFEL, JobKind.TAFEL_RUN, f"run {i}", max_stored=3))
        _finish(sessions, own[-1])
    with sessions() as s:
        left = {j.id for j in jobs.listing(s, BEHEER, ALL)}
    # 3 kept of the owner: the running one and the two newest finished
    assert left == {colleague, running, own[2], own[3]}


def test_restart_marks_waiting_and_running_jobs_interrupted(
    sessions: sessionmaker[Session],
) -> None:
    waiting = _new(sessions, TAFEL, JobKind.TAFEL_RUN)
    running = _new(sessions, TAFEL, JobKind.TAFEL_RUN)
    done = _new(sessions, INKOOP, JobKind.INKOOP_ADVICE)
    with sessions.begin() as s:
        jobs.mark_running(s, running)
        jobs.mark_progress(s, running, "Rekenen", 40)
        jobs.mark_done(s, done, '{"x": 1}')
    with sessions.begin() as s:
        assert jobs.interrupt_unfinished(s) == 2
    with sessions() as s:
        status = {j.id: j for j in jobs.listing(s, BEHEER, ALL)}
    assert status[waiting].status is JobStatus.INTERRUPTED
    assert status[running].status is JobStatus.INTERRUPTED
    assert status[running].step == jobs.STEP_INTERRUPTED
    assert status[done].status is JobStatus.DONE
    assert status[done].result == '{"x": 1}'


def test_progress_is_clamped_and_a_failure_keeps_a_finished_result(
    sessions: sessionmaker[Session],
) -> None:
    job = _new(sessions, TAFEL, JobKind.TAFEL_RUN)
    with sessions.begin() as s:
        jobs.mark_running(s, job)
        jobs.mark_progress(s, job, "Rekenen", 250)
    with sessions() as s:
        record = jobs.get(s, TAFEL, job, ALL)
        assert record is not None
        assert record.percent == 100
        assert record.active
    with sessions.begin() as s:
        jobs.mark_done(s, job, "{}")
        jobs.mark_failed(s, job, "BrokenProcessPool")  # a late report of a lost worker
    with sessions() as s:
        record = jobs.get(s, TAFEL, job, ALL)
        assert record is not None
        assert record.status is JobStatus.DONE
        assert record.error == ""


def test_simultaneous_requests_of_one_user_keep_to_the_quota(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time; the row lock is for PostgreSQL")
    with sessions.begin() as s:
        org = accounts.create_organisation(s, "Tafel", OrganisationKind.REGIO, region_code="JZ31")
        accounts.create_account(s, TAFEL.username, "wachtwoord-lang-genoeg", Role.TAFEL, org)
    start = threading.Barrier(4)
    outcomes: list[str] = []

    def submit() -> None:
        start.wait()
        try:
            with sessions.begin() as s:
                jobs.create(s, TAFEL, JobKind.TAFEL_RUN, "tegelijk", "{}", max_active=1)
                time.sleep(0.2)  # hold the transaction, as a slow request would
            outcomes.append("started")
        except JobQuotaExceeded:
            outcomes.append("refused")

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["refused", "refused", "refused", "started"]
