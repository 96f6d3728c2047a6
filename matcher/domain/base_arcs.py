"""A patched compile's reading of the base's arcs (`compile_patch`): where the base's
items and arcs are, copies of an item's base arcs into the fresh ones, and the arcs of
the patched problem as runs of the base's and the fresh ones, without copying them."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from matcher.domain.arcs import ArcInfo, ArcLists
from matcher.problem import AssignmentProblem

if TYPE_CHECKING:
    from matcher.domain.compile import Compiled


class BaseMaps:
    """Where the base's items and arcs are, and where its options and resources sit in
    the new layout: read by the copies of base arcs and by `_assemble`, built once and
    only when asked (a patch that keeps every item needs none of them)."""

    def __init__(self, bp: AssignmentProblem, lay: Any) -> None:
        self.bp, self.lay = bp, lay

    @cached_property
    def pos(self) -> dict[str, int]:
        return self.bp.item_index()

    @cached_property
    def bptr(self) -> np.ndarray:
        """Per base item, where its arcs start (a patch is made only from a base whose
        arcs are grouped by item)."""
        ptr = self.bp.item_arc_ptr()
        assert ptr is not None  # patch_compile_kept checked it
        return ptr

    @cached_property
    def opt_map(self) -> np.ndarray:
        opt_pos = {o: i for i, o in enumerate(self.lay.opt_ids)}
        return np.asarray([opt_pos.get(o, -1) for o in self.bp.option_ids], dtype=np.int64)

    @cached_property
    def res_map(self) -> np.ndarray:
        res_pos = self.lay.res_pos
        return np.asarray([res_pos.get(r, -1) for r in self.bp.resource_ids], dtype=np.int64)


class BaseArcs:
    """Copies an item's base arcs at one offering into the fresh arcs, with its option
    and resources moved to the new layout (the raw uses, before redundant ones are
    dropped, as the fresh arcs have them)."""

    def __init__(
        self, base: Compiled, raw: tuple[np.ndarray, np.ndarray, np.ndarray], maps: BaseMaps
    ) -> None:
        self.base = base
        self.raw_ptr, self.raw_res, self.raw_amt = raw
        self.bptr: list[int] = maps.bptr.tolist()
        self.pos = maps.pos
        self.opt_map, self.res_map = maps.opt_map, maps.res_map
        self.lost = False

    def at(self, it: str, item_ix: int, out: ArcLists) -> Callable[[list[str]], None]:
        """The `copy` of `ArcMaker.add` for item `it` (its index in the new problem).
        The item's arcs are read from the arrays once, as lists; offerings that follow
        each other in the base are copied as one slice."""
        bi = self.pos[it]
        lo, hi = self.bptr[bi], self.bptr[bi + 1]
        bp, arcs = self.base.problem, self.base.arcs
        u0, u1 = int(self.raw_ptr[lo]), int(self.raw_ptr[hi])
        opts: list[int] = self.opt_map[bp.arc_option[lo:hi]].tolist()
        vals: list[int] = bp.arc_value[lo:hi].tolist()
        res: list[int] = self.res_map[self.raw_res[u0:u1]].tolist()
        amt: list[int] = self.raw_amt[u0:u1].tolist()
        ptrs: list[int] = (self.raw_ptr[lo : hi + 1] - u0).tolist()
        runs: dict[str, tuple[int, int]] = {}
        for r in range(hi - lo):
            oid = arcs[lo + r].offering
            runs[oid] = (runs.get(oid, (r, r))[0], r + 1)

        def piece(r0: int, r1: int) -> None:
            p0, p1 = ptrs[r0], ptrs[r1]
            if min(opts[r0:r1]) < 0 or (p1 > p0 and min(res[p0:p1]) < 0):
                self.lost = True
                return
            shift = len(out.res) - p0
            out.item.extend([item_ix] * (r1 - r0))
            out.opt.extend(opts[r0:r1])
            out.val.extend(vals[r0:r1])
            out.res.extend(res[p0:p1])
            out.amt.extend(amt[p0:p1])
            out.ptr.extend([q + shift for q in ptrs[r0 + 1 : r1 + 1]])
            out.infos.extend(arcs[lo + r0 : lo + r1])

        def copy(oids: list[str]) -> None:
            start = end = -1
            for oid in oids:
                r0, r1 = runs.get(oid, (0, 0))
                if r0 == r1:
                    continue
                if r0 != end:
                    if end > start:
                        piece(start, end)
                    start = r0
                end = r1
            if end > start:
                piece(start, end)

        return copy


class PatchedArcs(Sequence[ArcInfo]):
    """The arcs of a patched problem in order: runs `(source, lo, hi)` of the base's
    arcs and of the fresh ones. At 10,000 children a what-if copied about 700,000
    references into a new list (some 14 ms), and the collector then walked that list;
    a run is read only where an arc is asked for."""

    __slots__ = ("_lo", "_n", "_src", "_starts")

    def __init__(self, runs: list[tuple[list[ArcInfo], int, int]]) -> None:
        self._src = [src for src, _, _ in runs]
        self._lo = [lo for _, lo, _ in runs]
        # where each run starts in the whole, and where the last one ends
        self._starts = [0]
        for _, lo, hi in runs:
            self._starts.append(self._starts[-1] + hi - lo)
        self._n = self._starts[-1]

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, k: int) -> ArcInfo: ...

    @overload
    def __getitem__(self, k: slice) -> list[ArcInfo]: ...

    def __getitem__(self, k: int | slice) -> ArcInfo | list[ArcInfo]:
        if isinstance(k, slice):
            start, stop, step = k.indices(self._n)
            if step != 1:
                return [self[i] for i in range(start, stop, step)]
            return self._range(start, stop)
        if k < 0:
            k += self._n
        if not 0 <= k < self._n:
            raise IndexError(k)
        j = bisect_right(self._starts, k) - 1
        return self._src[j][self._lo[j] + k - self._starts[j]]

    def _range(self, start: int, stop: int) -> list[ArcInfo]:
        out: list[ArcInfo] = []
        if start >= stop:
            return out
        j = bisect_right(self._starts, start) - 1
        while j < len(self._src) and self._starts[j] < stop:
            a, b = max(start, self._starts[j]), min(stop, self._starts[j + 1])
            lo = self._lo[j] - self._starts[j]
            out.extend(self._src[j][lo + a : lo + b])
            j += 1
        return out

    def __iter__(self) -> Iterator[ArcInfo]:
        for j, src in enumerate(self._src):
            lo = self._lo[j]
            yield from src[lo : lo + self._starts[j + 1] - self._starts[j]]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or len(other) != self._n:
            return False
        return all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]
