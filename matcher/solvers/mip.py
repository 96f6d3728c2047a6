"""HiGHS MIP (or LP) through OR-Tools MathOpt, built as a proto from numpy.

HiGHS can overrun its time limit on big models and prints to stdout even
with output off, so a big solve runs in a forked child process: the parent
waits until the hard deadline, then kills the child.  The child's stdout and
stderr go to /dev/null at the file-descriptor level.

Small models (`in_process=True`, chosen by the caller by size) are solved in
this process: a fork, the pickled answer and the child's start cost more than
the solve itself (what-if re-solves of a few thousand arcs), and HiGHS keeps
to its time limit on models that small.

HiGHS fixes its thread scheduler at the first solve in a process, and a
forked child inherits that state without the threads: a later solve with
another thread count fails ("kError [INTERNAL]"), and a forked solve after
an in-process one with two threads hangs.  So every HiGHS solve here runs
with one thread (`HIGHS_THREADS`); HiGHS' MIP search is sequential anyway.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import pickle
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np

from matcher.solvers.budget import TimeBudget
from matcher.solvers.core import Core, IntArray
from matcher.solvers.mip_model import AtLeast, build_model_proto, objective_scale, resource_rows
from matcher.solvers.status import SearchStatus

# one thread setting for every HiGHS solve in any process (module docstring)
HIGHS_THREADS = 1

# Every arc weight and the constant are whole numbers, so the optimum is one: a MIP
# bound less than one above an answer proves it optimal.  HiGHS's own absolute gap
# (1e-6) made it separate cuts at the root until its bound came that close; on the
# near-equal weights of the search's re-solves that took a fifth of their time
# (benchmarks/RESULTS.md, "Whole-number objectives").
INTEGER_GAP = 0.9


@dataclass
class MipResult:
    status: SearchStatus  # OPTIMAL, FEASIBLE, NO_SOLUTION, INFEASIBLE, TIMEOUT or ERROR
    chosen: IntArray | None
    bound: float | None  # max form including core.const (dual bound)
    primal: float | None = None  # LP optimum (max form) when relax=True
    x: Any = None  # LP values when relax=True
    duals: Any = None  # LP resource prices (>= 0, max form) when relax=True
    reduced_costs: Any = None  # LP reduced costs per arc when relax=True
    stats: dict[str, Any] = field(default_factory=dict)


def highs_parameters(
    time_limit_s: float,
    relative_gap: float,
    *,
    absolute_gap: float | None = None,
    seed: int | None = None,
    threads: int = HIGHS_THREADS,
    presolve: bool = True,
    node_limit: int | None = None,
    cut_pool: int | None = None,
) -> Any:
    """MathOpt parameters for every HiGHS solve here (output off, the one
    thread count of the module docstring); `node_limit` stops the search after
    that many branch-and-bound nodes (a limit that, unlike time, gives the same
    answer on every machine); `cut_pool` caps HiGHS's pool of cuts
    (`mip_pool_soft_limit`, 10,000 by default), which ends its root's cut
    rounds sooner, so that its heuristics start within a short limit."""
    from ortools.math_opt.python import parameters

    prm = parameters.SolveParameters(
        time_limit=timedelta(seconds=time_limit_s),
        relative_gap_tolerance=relative_gap,
        enable_output=False,
    )
    if absolute_gap is not None:
        prm.absolute_gap_tolerance = absolute_gap
    if seed is not None:
        prm.random_seed = seed
    prm.highs.int_options["threads"] = threads
    if not presolve:
        prm.highs.string_options["presolve"] = "off"
    if node_limit is not None:
        prm.node_limit = node_limit
    if cut_pool is not None:
        prm.highs.int_options["mip_pool_soft_limit"] = cut_pool
    return prm


@dataclass
class ModelResult:
    """A MathOpt model solved by HiGHS (`solve_model`): `values` maps the
    model's variables to their values in the best answer."""

    status: SearchStatus  # OPTIMAL, FEASIBLE, INFEASIBLE or NO_SOLUTION
    reason: str  # MathOpt's termination reason
    values: Any = None
    objective: float | None = None
    bound: float = math.nan  # dual bound in the model's own sense


def solve_model(
    model: Any,
    budget: TimeBudget,
    *,
    relative_gap: float,
    absolute_gap: float | None = None,
    seed: int | None = None,
    min_time_s: float = 0.1,
) -> ModelResult:
    """HiGHS on a MathOpt `model` (built by the caller with the high-level
    API) in this process, in the time the budget has left (at least
    `min_time_s`)."""
    from ortools.math_opt.python import mathopt

    prm = highs_parameters(
        max(min_time_s, budget.left()), relative_gap, absolute_gap=absolute_gap, seed=seed
    )
    res = mathopt.solve(model, mathopt.SolverType.HIGHS, params=prm)
    reason = res.termination.reason
    bound = float(res.termination.objective_bounds.dual_bound)
    if not res.has_primal_feasible_solution():
        infeasible = reason == mathopt.TerminationReason.INFEASIBLE
        status = SearchStatus.INFEASIBLE if infeasible else SearchStatus.NO_SOLUTION
        return ModelResult(status, reason.name, bound=bound)
    optimal = reason == mathopt.TerminationReason.OPTIMAL
    return ModelResult(
        SearchStatus.OPTIMAL if optimal else SearchStatus.FEASIBLE,
        reason.name,
        res.variable_values(),
        float(res.objective_value()),
        bound,
    )


def _solve_in_process(
    core: Core,
    time_limit_s: float,
    relative_gap: float,
    relax: bool,
    threads: int,
    hint: IntArray | None = None,
    presolve: bool = True,
    node_limit: int | None = None,
    at_least: Sequence[AtLeast] = (),
    cut_pool: int | None = None,
) -> dict[str, Any]:
    from ortools.math_opt import callback_pb2, model_parameters_pb2, result_pb2
    from ortools.math_opt.core.python import solver
    from ortools.math_opt.python import init_arguments, parameters

    t0 = time.perf_counter()
    scale = objective_scale(core)
    proto = build_model_proto(core, relax, scale, at_least)
    build = time.perf_counter() - t0
    prm = highs_parameters(
        max(0.01, time_limit_s - build),
        relative_gap,
        absolute_gap=None if relax else INTEGER_GAP * scale,
        threads=threads,
        presolve=presolve,
        node_limit=node_limit,
        cut_pool=cut_pool,
    )
    mps = model_parameters_pb2.ModelSolveParametersProto()
    if hint is not None and not relax:
        on = np.zeros(core.n_arcs)
        on[hint[hint >= 0]] = 1.0
        h = mps.solution_hints.add()
        h.variable_values.ids.extend(np.arange(core.n_arcs, dtype=np.int64))
        h.variable_values.values.extend(on)
    res = solver.solve(
        proto,
        parameters.SolverType.HIGHS.value,
        init_arguments.StreamableSolverInitArguments().to_proto(),
        prm.to_proto(),
        mps,
        None,
        callback_pb2.CallbackRegistrationProto(),
        None,
        None,
    )
    if isinstance(res, bytes):
        res = result_pb2.SolveResultProto.FromString(res)
    term = res.termination
    reason = result_pb2.TerminationReasonProto.Name(term.reason)
    unscale = 1.0 / scale
    out: dict[str, Any] = {
        "reason": reason,
        "ended": _ended(term.reason),
        "detail": term.detail,
        "dual": float(term.objective_bounds.dual_bound) * unscale,
        "primal": float(term.objective_bounds.primal_bound) * unscale,
        "x": None,
        "build_s": build,
        "nodes": int(res.solve_stats.node_count),
    }
    if len(res.solutions) and res.solutions[0].HasField("primal_solution"):
        sv = res.solutions[0].primal_solution.variable_values
        x = np.zeros(core.n_arcs)
        x[np.asarray(sv.ids, dtype=np.int64)] = np.asarray(sv.values)
        out["x"] = x
    if relax and len(res.solutions) and res.solutions[0].HasField("dual_solution"):
        dv = res.solutions[0].dual_solution.dual_values
        y = np.zeros(core.n_items + core.n_resources)
        y[np.asarray(dv.ids, dtype=np.int64)] = np.asarray(dv.values) * unscale
        out["row_duals"] = y
        out["row_res"] = resource_rows(core)
        rc = res.solutions[0].dual_solution.reduced_costs
        z = np.zeros(core.n_arcs)
        z[np.asarray(rc.ids, dtype=np.int64)] = np.asarray(rc.values) * unscale
        out["reduced_costs"] = z
    return out


_FD_LOCK = threading.Lock()


@contextmanager
def _quiet_fds() -> Iterator[None]:
    """Send file descriptors 1 and 2 to /dev/null while HiGHS runs in this
    process: it prints some messages even with output off, which would break
    the CLI's one-JSON-document stdout."""
    with _FD_LOCK:
        for stream in (sys.stdout, sys.stderr):
            with suppress(AttributeError, ValueError, OSError):
                stream.flush()
        saved = [os.dup(1), os.dup(2)]
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in (*saved, devnull):
                os.close(fd)


def _child(conn: Any, core: Core, solve_kw: dict[str, Any]) -> None:
    """`_solve_in_process(core, **solve_kw)` in the forked child; its output goes
    back through `conn`."""
    t0 = time.perf_counter()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        out = _solve_in_process(core, **solve_kw)
    except Exception as exc:  # the parent reports it; a child must not crash silently
        out = {"failure": SearchStatus.ERROR, "detail": repr(exc)}
    # how long the child took against its limit (HiGHS overruns it a little)
    out["child_s"] = time.perf_counter() - t0
    conn.send_bytes(pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL))
    conn.close()


class MipChild:
    """HiGHS on a core in a forked child that runs beside this process: start
    it (`start`), do other work, then `collect` its answer by a deadline (the
    child is killed then).  `solve_mip` waits for one at once; strategy
    ``mip`` runs one on the whole core beside its own route."""

    def __init__(self, core: Core, proc: Any, recv: Any, t0: float, relax: bool) -> None:
        self.core, self.relax, self.t0 = core, relax, t0
        self._proc, self._recv = proc, recv
        self._out: dict[str, Any] | None = None

    @classmethod
    def start(
        cls,
        core: Core,
        *,
        time_limit_s: float,
        relative_gap: float,
        threads: int = HIGHS_THREADS,
        relax: bool = False,
        hint: IntArray | None = None,
        presolve: bool = True,
        t0: float | None = None,
        node_limit: int | None = None,
        cut_pool: int | None = None,
    ) -> MipChild | None:
        """The child started, or None where there is no fork (no child, no
        hard deadline)."""
        # import MathOpt here, once, so that the forked child has it already
        from ortools.math_opt.core.python import solver  # noqa: F401
        from ortools.math_opt.python import parameters  # noqa: F401

        try:
            ctx = mp.get_context("fork")
        except ValueError:
            return None
        t0 = time.perf_counter() if t0 is None else t0
        recv, send = ctx.Pipe(duplex=False)
        solve_kw = {
            "time_limit_s": time_limit_s,
            "relative_gap": relative_gap,
            "relax": relax,
            "threads": threads,
            "hint": hint,
            "presolve": presolve,
            "node_limit": node_limit,
            "cut_pool": cut_pool,
        }
        proc = ctx.Process(target=_child, args=(send, core, solve_kw))
        proc.start()
        send.close()
        return cls(core, proc, recv, t0, relax)

    def done(self) -> bool:
        """True when the child has answered (or ended): `collect` will not wait."""
        return self._out is not None or bool(self._recv.poll(0))

    def collect_raw(self, wait_s: float, stopped: str | None = None) -> dict[str, Any]:
        """The child's raw output, waiting at most `wait_s`; a child that has
        not answered by then is killed (`stopped` says why, else the deadline)."""
        if self._out is not None:
            return self._out
        if self._recv.poll(max(0.0, wait_s)):
            try:
                out: dict[str, Any] = pickle.loads(self._recv.recv_bytes())  # noqa: S301 - our own child
            except EOFError:
                out = {
                    "failure": SearchStatus.ERROR,
                    "detail": "the solver process ended without answer",
                }
        else:
            out = {
                "failure": SearchStatus.TIMEOUT,
                "detail": stopped or "hard deadline reached; solver stopped",
            }
        if self._proc.is_alive():
            self._proc.kill()
        self._proc.join()
        self._recv.close()
        self._out = out
        return out

    def collect(self, wait_s: float, stopped: str | None = None) -> MipResult:
        """The child's answer as a `MipResult` (see `collect_raw`)."""
        out = self.collect_raw(wait_s, stopped)
        wall = time.perf_counter() - self.t0
        return _result(self.core, out, self.relax, in_process=False, wall=wall)


def solve_mip(
    core: Core,
    *,
    time_limit_s: float,
    relative_gap: float,
    threads: int = HIGHS_THREADS,
    relax: bool = False,
    grace_s: float = 0.5,
    hint: IntArray | None = None,
    in_process: bool = False,
    presolve: bool = True,
    while_waiting: Callable[[TimeBudget], bool] | None = None,
    node_limit: int | None = None,
    at_least: Sequence[AtLeast] = (),
    cut_pool: int | None = None,
) -> MipResult:
    """HiGHS on the core; in a child killed when it overruns ``time_limit_s +
    grace_s``, or in this process when ``in_process`` (small models only).
    ``time_limit_s`` comes from the caller's `TimeBudget`, where it is called.

    ``threads`` must stay `HIGHS_THREADS` in a process that mixes calls
    (module docstring); it is a parameter for one-off measurements.

    ``while_waiting(budget)`` runs in this process while the child solves
    (another search on the idle core), with ``budget`` the child's time
    limit; when it returns True (it proved the question) the child is
    stopped at once.  It needs the child, so it is ignored in process.

    ``at_least`` adds rows (coefficients per arc, the least sum), in process only
    (`matcher.solvers.tiers` holds a tier at its optimum with one).  ``cut_pool``:
    see `highs_parameters`."""
    if at_least and not in_process:
        raise ValueError("rows beyond the core's are only solved in process")
    t0 = time.perf_counter()
    child = (
        None
        if in_process
        else MipChild.start(
            core,
            time_limit_s=time_limit_s,
            relative_gap=relative_gap,
            threads=threads,
            relax=relax,
            hint=hint,
            presolve=presolve,
            t0=t0,
            node_limit=node_limit,
            cut_pool=cut_pool,
        )
    )
    if child is None:
        try:
            with _quiet_fds():
                out = _solve_in_process(
                    core,
                    time_limit_s,
                    relative_gap,
                    relax,
                    threads,
                    hint,
                    presolve,
                    node_limit,
                    at_least,
                    cut_pool,
                )
        except Exception as exc:  # HiGHS reports some failures as exceptions
            out = {"failure": SearchStatus.ERROR, "detail": repr(exc)}
    else:
        settled = False
        if while_waiting is not None:
            # (after the fork: the child must not inherit a running search)
            settled = while_waiting(TimeBudget(time_limit_s, t0))
        # a search that settled the question needs no more of the child's time
        deadline = t0 + time_limit_s + grace_s
        wait = 0.0 if settled else max(0.0, deadline - time.perf_counter())
        out = child.collect_raw(wait, "stopped: the other search settled it" if settled else None)
    return _result(core, out, relax, in_process=child is None, wall=time.perf_counter() - t0)


def _result(
    core: Core, out: dict[str, Any], relax: bool, *, in_process: bool, wall: float
) -> MipResult:
    """The raw output of a HiGHS solve (`_solve_in_process`, or a failure)
    as a `MipResult`."""
    # `reason` is MathOpt's termination reason (a diagnostic); `failure` says
    # that the solve did not report at all (ERROR or TIMEOUT)
    failure: SearchStatus | None = out.get("failure")
    reason: str | None = out.get("reason")
    # how the solve ended: OPTIMAL, INFEASIBLE, ERROR, TIMEOUT, or FEASIBLE for
    # a stop at a limit (with or without an answer)
    ended: SearchStatus = failure if failure is not None else out["ended"]
    stats = {
        "highs_in_process": in_process,
        "highs_reason": failure if failure is not None else reason,
        "highs_detail": out.get("detail", ""),
        "highs_wall_time_s": wall,
        "highs_nodes": out.get("nodes"),
    }
    if "child_s" in out:
        stats["highs_child_s"] = out["child_s"]
    dual = out.get("dual")
    bound = dual if dual is not None and math.isfinite(dual) else None
    if ended is SearchStatus.INFEASIBLE:
        return MipResult(SearchStatus.INFEASIBLE, None, None, stats=stats)
    x = out.get("x")
    if relax:
        primal = out.get("primal")
        if ended is not SearchStatus.OPTIMAL or x is None:
            return MipResult(SearchStatus.NO_SOLUTION, None, None, stats=stats)
        duals = np.zeros(core.n_resources)
        if out.get("row_duals") is not None:
            rr = out["row_res"]
            duals[rr] = np.abs(out["row_duals"][core.n_items : core.n_items + rr.size])
        return MipResult(
            SearchStatus.OPTIMAL,
            None,
            primal,
            primal=primal,
            x=x,
            duals=duals,
            reduced_costs=out.get("reduced_costs"),
            stats=stats,
        )
    if ended is SearchStatus.ERROR:
        # a failed HiGHS run proves nothing: no bound; an answer it left is
        # still checked by the caller and may serve as a hint
        bound = None
    if x is None:
        stopped = ended in (SearchStatus.ERROR, SearchStatus.TIMEOUT)
        return MipResult(ended if stopped else SearchStatus.NO_SOLUTION, None, bound, stats=stats)
    on = np.flatnonzero(x > 0.5)
    chosen = np.full(core.n_items, -1, dtype=np.int64)
    chosen[core.arc_item[on]] = on
    st = ended if ended in (SearchStatus.ERROR, SearchStatus.OPTIMAL) else SearchStatus.FEASIBLE
    return MipResult(st, chosen, bound, stats=stats)


def _ended(reason: int) -> SearchStatus:
    """MathOpt's termination reason as a `SearchStatus` (FEASIBLE: stopped at
    a limit, whether or not with an answer)."""
    from ortools.math_opt import result_pb2 as rp

    if reason == rp.TERMINATION_REASON_OPTIMAL:
        return SearchStatus.OPTIMAL
    if reason == rp.TERMINATION_REASON_INFEASIBLE:
        return SearchStatus.INFEASIBLE
    if reason in (rp.TERMINATION_REASON_OTHER_ERROR, rp.TERMINATION_REASON_NUMERICAL_ERROR):
        return SearchStatus.ERROR
    return SearchStatus.FEASIBLE
