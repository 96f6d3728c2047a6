"""The arc level: a small, general assignment problem the solvers see.

Items (a child's need, or a family bundle) are assigned to at most one option
through an arc.  Each arc has an integer value and integer uses of resources;
each resource has an integer capacity.  The domain never reaches this layer,
so benchmarks, the GAP yardstick and bug reports all share one format.

The problem is stored column-wise in numpy arrays because national instances
have millions of arcs; one Python object per arc would dominate memory and
model-building time.  `ProblemBuilder` offers a convenient row-wise way in.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import numpy.typing as npt

from matcher.errors import MatcherError

IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]
BoolArray = npt.NDArray[np.bool_]

FORMAT_VERSION = 1

# Values, penalties, uses and capacities must stay far inside int64 so that
# sums over a million arcs cannot overflow in the solvers or in verify().
MAX_ABS_INT = 2**50


class Sense(enum.Enum):
    """Direction of the objective.

    MAXIMIZE: objective = sum of assigned arc values - sum of penalties of
    unassigned items.  MINIMIZE: objective = sum of assigned arc values + sum
    of penalties of unassigned items.
    """

    MAXIMIZE = "maximize"
    MINIMIZE = "minimize"


@dataclass(frozen=True)
class ValidationIssue:
    """One problem found in an input; `where` points into the input."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class ProblemValidationError(MatcherError, ValueError):
    """Raised with every problem found at once, never only the first."""

    def __init__(self, issues: Sequence[ValidationIssue]) -> None:
        self.issues: tuple[ValidationIssue, ...] = tuple(issues)
        lines = "\n".join(f"  - {i}" for i in self.issues)
        super().__init__(f"{len(self.issues)} problem(s) in the assignment problem:\n{lines}")


# What a problem derives from its arrays once, when first asked (see below); never
# pickled.
_DERIVED = frozenset({"_item_pos", "_option_pos", "_resource_pos", "_use_arc", "_item_arcs"})


# meta key: the units of the objective's tiers, largest first, where one unit of a tier
# is meant to outweigh everything below it (matcher.solvers.tiers checks this on each
# problem it solves and solves the tiers that hold one after the other)
OBJECTIVE_TIERS = "objective_tiers"


@dataclass(frozen=True, eq=False)
class AssignmentProblem:
    """An immutable arc-level assignment problem (column-wise).

    Arc ``a`` links item ``arc_item[a]`` to option ``arc_option[a]`` with value
    ``arc_value[a]``; its resource uses are ``use_resource[use_ptr[a]:use_ptr[a+1]]``
    with amounts ``use_amount[...]`` (CSR layout).  ``pinned[a]`` forces the arc
    into every solution; ``forbidden[a]`` keeps it out of every solution.
    Build instances with `AssignmentProblem.create` or `ProblemBuilder`, which
    validate; the raw constructor trusts its caller.
    """

    item_ids: tuple[str, ...]
    must_assign: BoolArray
    unassigned_penalty: IntArray
    option_ids: tuple[str, ...]
    resource_ids: tuple[str, ...]
    capacity: IntArray
    arc_item: Int32Array
    arc_option: Int32Array
    arc_value: IntArray
    use_ptr: IntArray
    use_resource: Int32Array
    use_amount: IntArray
    pinned: BoolArray
    forbidden: BoolArray
    sense: Sense = Sense.MAXIMIZE
    name: str = ""
    # free-form; one key the solver reads: OBJECTIVE_TIERS
    meta: Mapping[str, object] = field(default_factory=dict)

    # -- sizes -------------------------------------------------------------
    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_options(self) -> int:
        return len(self.option_ids)

    @property
    def n_resources(self) -> int:
        return len(self.resource_ids)

    @property
    def n_arcs(self) -> int:
        return int(self.arc_item.shape[0])

    # -- derived views -----------------------------------------------------
    def arc_uses(self, arc: int) -> dict[str, int]:
        lo, hi = int(self.use_ptr[arc]), int(self.use_ptr[arc + 1])
        return {
            self.resource_ids[int(r)]: int(q)
            for r, q in zip(self.use_resource[lo:hi], self.use_amount[lo:hi], strict=True)
        }

    def use_arc_index(self) -> Int32Array:
        """For every entry of ``use_resource``, the arc it belongs to (built once per
        problem, read-only: a what-if read it three times over 850,000 uses)."""
        return self._use_arc

    @cached_property
    def _use_arc(self) -> Int32Array:
        counts = np.diff(self.use_ptr)
        out = np.repeat(np.arange(self.n_arcs, dtype=np.int32), counts)
        out.flags.writeable = False
        return out

    def item_arc_ptr(self) -> npt.NDArray[np.intp] | None:
        """Where each item's arcs start and end (`ptr[i]:ptr[i + 1]`) when the arcs come
        grouped by item in item order, as a compile makes them; None otherwise (built
        once per problem, read-only)."""
        return self._item_arcs

    @cached_property
    def _item_arcs(self) -> npt.NDArray[np.intp] | None:
        a = self.arc_item
        if a.size and bool(np.any(a[1:] < a[:-1])):
            return None
        out: npt.NDArray[np.intp] = np.searchsorted(a, np.arange(self.n_items + 1))
        out.flags.writeable = False
        return out

    # The three id -> position maps are built once per problem: a what-if at 10,000
    # children asked for them several times per re-solve.  Callers read them and must
    # not change them.
    def item_index(self) -> dict[str, int]:
        return self._item_pos

    def option_index(self) -> dict[str, int]:
        return self._option_pos

    def resource_index(self) -> dict[str, int]:
        return self._resource_pos

    def __getstate__(self) -> dict[str, object]:
        # what is derived is built again on demand: a problem sent to a solver process
        # or saved to a file stays as small as its arrays
        return {k: v for k, v in self.__dict__.items() if k not in _DERIVED}

    @cached_property
    def _item_pos(self) -> dict[str, int]:
        return {s: i for i, s in enumerate(self.item_ids)}

    @cached_property
    def _option_pos(self) -> dict[str, int]:
        return {s: i for i, s in enumerate(self.option_ids)}

    @cached_property
    def _resource_pos(self) -> dict[str, int]:
        return {s: i for i, s in enumerate(self.resource_ids)}

    def arc_lookup(self) -> dict[tuple[int, int], int]:
        """(item index, option index) -> arc index."""
        return {
            (int(i), int(o)): a
            for a, (i, o) in enumerate(zip(self.arc_item, self.arc_option, strict=True))
        }

    def is_transportation(self) -> bool:
        """True when every arc uses at most one resource and by exactly 1.

        Such a problem (no budget rows) is a bipartite b-matching whose LP is
        integral, so min-cost flow solves it exactly.
        """
        counts = np.diff(self.use_ptr)
        if counts.size and int(counts.max()) > 1:
            return False
        return bool(np.all(self.use_amount == 1))

    def with_pins(
        self,
        pinned: Iterable[tuple[str, str]] = (),
        forbidden: Iterable[tuple[str, str]] = (),
    ) -> AssignmentProblem:
        """A copy with extra pinned and forbidden (item, option) pairs."""
        look = self.arc_lookup()
        items, options = self.item_index(), self.option_index()
        pin = self.pinned.copy()
        forb = self.forbidden.copy()
        issues: list[ValidationIssue] = []
        for kind, pairs, arr in (("pinned", pinned, pin), ("forbidden", forbidden, forb)):
            for it, op in pairs:
                a = look.get((items.get(it, -1), options.get(op, -1)))
                if a is None:
                    issues.append(
                        ValidationIssue(kind, f"no arc from item {it!r} to option {op!r}")
                    )
                else:
                    arr[a] = True
        if issues:
            raise ProblemValidationError(issues)
        new = _replace(self, pinned=pin, forbidden=forb)
        errs = validate_arrays(new)
        if errs:
            raise ProblemValidationError(errs)
        return new

    # -- construction ------------------------------------------------------
    @classmethod
    def create(
        cls,
        *,
        items: Sequence[str],
        options: Sequence[str],
        resources: Sequence[str],
        capacity: Sequence[int] | IntArray,
        arc_item: Sequence[int] | Int32Array,
        arc_option: Sequence[int] | Int32Array,
        arc_value: Sequence[int] | IntArray,
        use_ptr: Sequence[int] | IntArray,
        use_resource: Sequence[int] | Int32Array,
        use_amount: Sequence[int] | IntArray,
        must_assign: Sequence[bool] | BoolArray | None = None,
        unassigned_penalty: Sequence[int] | IntArray | None = None,
        pinned: Sequence[bool] | BoolArray | None = None,
        forbidden: Sequence[bool] | BoolArray | None = None,
        sense: Sense = Sense.MAXIMIZE,
        name: str = "",
        meta: Mapping[str, object] | None = None,
    ) -> AssignmentProblem:
        """Build from index arrays, validating everything at once."""
        n_items, n_arcs = len(items), len(arc_item)
        prob = cls(
            item_ids=tuple(str(s) for s in items),
            must_assign=_bools(must_assign, n_items),
            unassigned_penalty=_ints(unassigned_penalty, n_items),
            option_ids=tuple(str(s) for s in options),
            resource_ids=tuple(str(s) for s in resources),
            capacity=np.asarray(capacity, dtype=np.int64).reshape(-1),
            arc_item=np.asarray(arc_item, dtype=np.int32).reshape(-1),
            arc_option=np.asarray(arc_option, dtype=np.int32).reshape(-1),
            arc_value=np.asarray(arc_value, dtype=np.int64).reshape(-1),
            use_ptr=np.asarray(use_ptr, dtype=np.int64).reshape(-1),
            use_resource=np.asarray(use_resource, dtype=np.int32).reshape(-1),
            use_amount=np.asarray(use_amount, dtype=np.int64).reshape(-1),
            pinned=_bools(pinned, n_arcs),
            forbidden=_bools(forbidden, n_arcs),
            sense=sense,
            name=name,
            meta=dict(meta or {}),
        )
        issues = validate_arrays(prob)
        if issues:
            raise ProblemValidationError(issues)
        return prob


def _bools(values: Sequence[bool] | BoolArray | None, n: int) -> BoolArray:
    if values is None:
        return np.zeros(n, dtype=np.bool_)
    return np.asarray(values, dtype=np.bool_).reshape(-1)


def _ints(values: Sequence[int] | IntArray | None, n: int) -> IntArray:
    if values is None:
        return np.zeros(n, dtype=np.int64)
    return np.asarray(values, dtype=np.int64).reshape(-1)


def _replace(p: AssignmentProblem, **changes: object) -> AssignmentProblem:
    from dataclasses import replace

    return replace(p, **changes)  # type: ignore[arg-type]


def validate_arrays(p: AssignmentProblem) -> list[ValidationIssue]:
    """Every structural problem of `p`, in a stable order (empty when valid)."""
    issues: list[ValidationIssue] = []
    add = issues.append
    n_i, n_o, n_r, n_a = p.n_items, p.n_options, p.n_resources, p.n_arcs

    for kind, ids in (("item", p.item_ids), ("option", p.option_ids), ("resource", p.resource_ids)):
        seen: set[str] = set()
        for k, s in enumerate(ids):
            if s == "":
                add(ValidationIssue(f"{kind}s[{k}]", f"{kind} id is empty"))
            if s in seen:
                add(ValidationIssue(f"{kind}s[{k}]", f"duplicate {kind} id {s!r}"))
            seen.add(s)

    n_id_issues = len(issues)
    for name, arr, n in (
        ("must_assign", p.must_assign, n_i),
        ("unassigned_penalty", p.unassigned_penalty, n_i),
        ("capacity", p.capacity, n_r),
        ("arc_option", p.arc_option, n_a),
        ("arc_value", p.arc_value, n_a),
        ("pinned", p.pinned, n_a),
        ("forbidden", p.forbidden, n_a),
    ):
        if arr.shape[0] != n:
            add(ValidationIssue(name, f"has {arr.shape[0]} entries, expected {n}"))
    if p.use_ptr.shape[0] != n_a + 1:
        add(ValidationIssue("use_ptr", f"has {p.use_ptr.shape[0]} entries, expected {n_a + 1}"))
    if p.use_resource.shape[0] != p.use_amount.shape[0]:
        add(ValidationIssue("use_amount", "use_resource and use_amount differ in length"))
    if len(issues) > n_id_issues:
        return issues  # shapes are wrong: the element checks below would misfire

    if p.use_ptr.size and (
        p.use_ptr[0] != 0
        or p.use_ptr[-1] != p.use_resource.shape[0]
        or bool(np.any(np.diff(p.use_ptr) < 0))
    ):
        add(
            ValidationIssue(
                "use_ptr", "is not a valid CSR pointer (0, non-decreasing, ends at len)"
            )
        )
        return issues

    def bad_index(where: str, idx: Int32Array, n: int, what: str) -> None:
        bad = np.flatnonzero((idx < 0) | (idx >= n))
        for a in bad[:20]:
            add(ValidationIssue(f"{where}[{int(a)}]", f"refers to unknown {what} #{int(idx[a])}"))
        if bad.size > 20:
            add(ValidationIssue(where, f"... and {bad.size - 20} more unknown {what} references"))

    bad_index("arcs.item", p.arc_item, n_i, "item")
    bad_index("arcs.option", p.arc_option, n_o, "option")
    bad_index("arcs.uses", p.use_resource, n_r, "resource")
    indexes_ok = not issues

    neg_cap = np.flatnonzero(p.capacity < 0)
    for r in neg_cap:
        add(
            ValidationIssue(
                f"resources[{p.resource_ids[r]!r}]", f"capacity {int(p.capacity[r])} is negative"
            )
        )
    neg_use = np.flatnonzero(p.use_amount < 0)
    for u in neg_use[:20]:
        add(ValidationIssue("arcs.uses", f"use amount {int(p.use_amount[u])} is negative"))
    neg_pen = np.flatnonzero(p.unassigned_penalty < 0)
    for i in neg_pen[:20]:
        add(ValidationIssue(f"items[{p.item_ids[i]!r}]", "unassigned_penalty is negative"))
    for name, arr in (
        ("arc_value", p.arc_value),
        ("capacity", p.capacity),
        ("use_amount", p.use_amount),
        ("unassigned_penalty", p.unassigned_penalty),
    ):
        if arr.size and int(np.abs(arr).max()) > MAX_ABS_INT:
            add(
                ValidationIssue(
                    name, f"a value exceeds the limit of {MAX_ABS_INT} in absolute size"
                )
            )
    if not indexes_ok:
        return issues  # the checks below look items and options up by index

    # duplicate arcs and duplicate resources within one arc
    if n_a:
        key = p.arc_item.astype(np.int64) * max(n_o, 1) + p.arc_option.astype(np.int64)
        order = np.argsort(key, kind="stable")
        dup = np.flatnonzero(np.diff(key[order]) == 0)
        for d in dup[:20]:
            a = int(order[d + 1])
            add(
                ValidationIssue(
                    f"arcs[{a}]",
                    "duplicate arc from item "
                    f"{p.item_ids[p.arc_item[a]]!r} to option {p.option_ids[p.arc_option[a]]!r}",
                )
            )
        use_arc = p.use_arc_index().astype(np.int64)
        ukey = use_arc * max(n_r, 1) + p.use_resource.astype(np.int64)
        # sort + diff: np.unique (numpy 2.4, hash based) is ~15x slower here
        sorted_keys = np.sort(ukey)
        if bool(np.any(sorted_keys[1:] == sorted_keys[:-1])):
            add(ValidationIssue("arcs.uses", "an arc lists the same resource twice"))

    both = np.flatnonzero(p.pinned & p.forbidden)
    for a in both[:20]:
        add(ValidationIssue(f"arcs[{int(a)}]", "arc is both pinned and forbidden"))
    if p.pinned.any():
        per_item = np.bincount(p.arc_item[p.pinned], minlength=n_i)
        for i in np.flatnonzero(per_item > 1)[:20]:
            add(
                ValidationIssue(
                    f"items[{p.item_ids[i]!r}]", "more than one arc of this item is pinned"
                )
            )
    if n_i:
        open_arcs = np.bincount(p.arc_item[~p.forbidden], minlength=n_i)
        for i in np.flatnonzero(p.must_assign & (open_arcs == 0))[:20]:
            add(
                ValidationIssue(
                    f"items[{p.item_ids[i]!r}]",
                    "must be assigned but has no arc that is not forbidden",
                )
            )
    return issues


class ProblemBuilder:
    """Row-wise construction of an `AssignmentProblem` by ids.

    Unknown items or resources referenced by an arc are collected and reported
    together when `build()` is called.
    """

    def __init__(self, sense: Sense = Sense.MAXIMIZE, name: str = "") -> None:
        self.sense = sense
        self.name = name
        self.meta: dict[str, object] = {}
        self._items: dict[str, int] = {}
        self._must: list[bool] = []
        self._pen: list[int] = []
        self._options: dict[str, int] = {}
        self._resources: dict[str, int] = {}
        self._cap: list[int] = []
        self._arc_item: list[int] = []
        self._arc_option: list[int] = []
        self._arc_value: list[int] = []
        self._ptr: list[int] = [0]
        self._ures: list[int] = []
        self._uamt: list[int] = []
        self._pinned: list[bool] = []
        self._forbidden: list[bool] = []
        self._issues: list[ValidationIssue] = []

    def item(self, item_id: str, *, must_assign: bool = False, unassigned_penalty: int = 0) -> None:
        if item_id in self._items:
            self._issues.append(
                ValidationIssue(f"items[{item_id!r}]", f"duplicate item id {item_id!r}")
            )
            return
        self._items[item_id] = len(self._must)
        self._must.append(bool(must_assign))
        self._pen.append(int(unassigned_penalty))

    def resource(self, resource_id: str, capacity: int) -> None:
        if resource_id in self._resources:
            self._issues.append(
                ValidationIssue(
                    f"resources[{resource_id!r}]", f"duplicate resource id {resource_id!r}"
                )
            )
            return
        self._resources[resource_id] = len(self._cap)
        self._cap.append(int(capacity))

    def option(self, option_id: str) -> int:
        idx = self._options.get(option_id)
        if idx is None:
            idx = self._options[option_id] = len(self._options)
        return idx

    def arc(
        self,
        item_id: str,
        option_id: str,
        value: int,
        uses: Mapping[str, int] | None = None,
        *,
        pinned: bool = False,
        forbidden: bool = False,
    ) -> None:
        where = f"arcs[{len(self._arc_item)}]"
        ii = self._items.get(item_id)
        if ii is None:
            self._issues.append(ValidationIssue(where, f"arc refers to unknown item {item_id!r}"))
            ii = -1
        self._arc_item.append(ii)
        self._arc_option.append(self.option(option_id))
        self._arc_value.append(int(value))
        for res, amount in (uses or {}).items():
            ri = self._resources.get(res)
            if ri is None:
                self._issues.append(ValidationIssue(where, f"arc uses unknown resource {res!r}"))
                continue
            self._ures.append(ri)
            self._uamt.append(int(amount))
        self._ptr.append(len(self._ures))
        self._pinned.append(bool(pinned))
        self._forbidden.append(bool(forbidden))

    def build(self) -> AssignmentProblem:
        if self._issues:
            raise ProblemValidationError(self._issues)
        return AssignmentProblem.create(
            items=list(self._items),
            options=list(self._options),
            resources=list(self._resources),
            capacity=self._cap,
            arc_item=self._arc_item,
            arc_option=self._arc_option,
            arc_value=self._arc_value,
            use_ptr=self._ptr,
            use_resource=self._ures,
            use_amount=self._uamt,
            must_assign=self._must,
            unassigned_penalty=self._pen,
            pinned=self._pinned,
            forbidden=self._forbidden,
            sense=self.sense,
            name=self.name,
            meta=self.meta,
        )
