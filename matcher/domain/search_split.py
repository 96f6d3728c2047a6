"""The search for what would help, on two processes.

About half of the search's time is Python around the solver (compiling, pair checks,
decoding), so a second thread gains nothing: the interpreter runs one at a time.  A
forked child has its own, and it starts with everything the search needs already built
(the answer, its neighbourhoods, the pair checks).  This process and the child each take
the next group of needs not taken yet and search it; the child sends its answers back
at the end.

A group holds the needs whose searches can share a re-solve
(`Neighbourhoods.sharing`): one re-solve with two extra places answers every child
waiting there, and a re-solve found in the cache does not count against a child's cap
of re-solves.  So a need's answer does not depend on which process searches its
group.  Only a change for everyone (a place outside
the region) can serve needs of two groups; such a re-solve is made once per process.
The groups are taken in the order of their first need (the earliest deadline first).
Within a process a group's needs come one after the other, so the ceiling walk can
carry a recent answer (`Neighbourhoods.carry`) a little more often than in one process,
where other groups' re-solves come between: on the eleven demo regions of
`benchmarks/help_search_regions.py` every answer was the same as in one process, with
as many or up to two fewer re-solves.

A child that fails, or has not answered shortly after the deadline, is stopped; its
needs are then searched here in the time that is left (none, past the deadline: they get
the sentence that the search did not reach them).
"""

from __future__ import annotations

import multiprocessing as mp
import pickle  # nosec B403: our own child's answers
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

__all__ = ["SPLIT", "SPLIT_MIN_NEEDS", "Split", "run_split", "wanted"]

T = TypeVar("T")

SPLIT = True
# a shorter list is searched in this process alone: forking a process of 200 MB and
# collecting its answers took about 20 ms (benchmarks/RESULTS.md, s33), more than the
# search of a few needs gains
SPLIT_MIN_NEEDS = 8
# how long past the deadline the child may take: a re-solve started just before it runs
# for at least half a second (`helps.search_help`)
GRACE_S = 2.0


def wanted(workers: int, needs: int) -> bool:
    """Whether a search of `needs` needs, allowed `workers` processor cores, is split."""
    return SPLIT and workers >= 2 and needs >= SPLIT_MIN_NEEDS


@dataclass
class Split(Generic[T]):
    """The answers of `run_split` in the order of the needs, and how many of them the
    child gave (0: one process searched them all)."""

    answers: list[T]
    from_child: int


def run_split(
    n: int, run_one: Callable[[int], T], groups: list[list[int]], deadline: float
) -> Split[T]:
    """`run_one(i)` for every i < n (`groups` holds each i once), group by group: this
    process and a forked child each take the next group not taken yet.  One process
    alone where there is no fork, only one group, or no process can be started here."""
    try:
        ctx = mp.get_context("fork")
    except ValueError:
        ctx = None
    # a daemon (a Dask worker runs as one) may not start a process
    if ctx is None or len(groups) < 2 or mp.current_process().daemon:
        return Split([run_one(i) for i in range(n)], 0)
    taken = ctx.Value("i", 0)
    recv, send = ctx.Pipe(duplex=False)
    # not a daemon itself, for the same reason: a re-solve in it may fork HiGHS
    proc = ctx.Process(target=_child, args=(send, run_one, groups, taken))
    try:
        proc.start()
    except OSError:  # no process to be had (memory, process limit): one process
        recv.close()
        send.close()
        return Split([run_one(i) for i in range(n)], 0)
    send.close()
    try:
        out: dict[int, T] = _take_groups(run_one, groups, taken)
    except BaseException:
        # this process's search failed: the child's answers are not wanted
        _collect(proc, recv, 0.0)
        raise
    got = _collect(proc, recv, deadline + GRACE_S) or {}
    out.update(got)
    # the needs of groups the child took but did not answer: searched here
    missing = [i for i in range(n) if i not in out]
    for i in missing:
        out[i] = run_one(i)
    return Split([out[i] for i in range(n)], len(got))


def _take_groups(run_one: Callable[[int], T], groups: list[list[int]], taken: Any) -> dict[int, T]:
    out: dict[int, T] = {}
    while True:
        with taken.get_lock():
            g = taken.value
            taken.value = g + 1
        if g >= len(groups):
            return out
        for i in groups[g]:
            out[i] = run_one(i)


def _child(conn: Any, run_one: Callable[[int], Any], groups: list[list[int]], taken: Any) -> None:
    try:
        got: dict[int, Any] | None = _take_groups(run_one, groups, taken)
    except Exception:  # the parent searches these needs itself
        got = None
    try:
        conn.send_bytes(pickle.dumps(got, protocol=pickle.HIGHEST_PROTOCOL))
    finally:
        conn.close()


def _collect(proc: Any, recv: Any, until: float) -> dict[int, Any] | None:
    """The child's answers, or None when it failed or has not answered by `until` (it
    is stopped then)."""
    try:
        if recv.poll(max(0.0, until - time.perf_counter())):
            got: dict[int, Any] | None = pickle.loads(recv.recv_bytes())  # noqa: S301  # nosec B301
        else:
            got = None
    except (EOFError, OSError, pickle.UnpicklingError):
        got = None
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()
        recv.close()
    return got
