"""An optimal answer of a problem that stays optimal in a smaller one.

When every answer of problem `small` is an answer of problem `big` worth the same (the
same items with the same penalties and pins, fewer arcs with the same values and uses,
no more room in any resource), the best answer of `small` is worth at most the best of
`big`.  An answer proven optimal in `big` that also fits `small` is then optimal in
`small`, with the same bound: no solve of `small` is needed.

The search for what would help walks a budget's raise down through the amounts its
answers pay (`matcher.domain.helps`): the answer at one raise pays a smaller amount,
and the problem at that amount only lowers the budget's room (and drops arcs whose cost
no longer fits).  `carries` checks all of this on the two problems themselves rather
than trusting that argument.
"""

from __future__ import annotations

import numpy as np

from matcher.problem import AssignmentProblem
from matcher.solution import Solution, VerificationError, verify

__all__ = ["carries"]


def carries(big: AssignmentProblem, small: AssignmentProblem, answer: Solution) -> bool:
    """Whether `answer`, optimal in `big`, is optimal in `small`: True only when
    `small` restricts `big` (module docstring) and `answer` passes
    `matcher.solution.verify` on `small` (its arcs there and not forbidden, its pins
    and must-assign items kept, every capacity held, its objective and bound the
    same)."""
    if small.sense != big.sense or set(small.item_ids) != set(big.item_ids):
        return False
    b_item = big.item_index()
    item_map = np.asarray([b_item[i] for i in small.item_ids], dtype=np.int64)
    if not (
        np.array_equal(small.must_assign, big.must_assign[item_map])
        and np.array_equal(small.unassigned_penalty, big.unassigned_penalty[item_map])
    ):
        return False
    b_opt = big.option_index()
    if any(o not in b_opt for o in small.option_ids):
        return False
    opt_map = np.asarray([b_opt[o] for o in small.option_ids], dtype=np.int64)
    b_res = big.resource_index()
    if any(r not in b_res for r in small.resource_ids):
        return False
    res_map = np.asarray([b_res[r] for r in small.resource_ids], dtype=np.int64)
    if bool(np.any(small.capacity > big.capacity[res_map])):
        return False
    lookup = big.arc_lookup()
    open_small = ~small.forbidden
    for a in np.flatnonzero(open_small | small.pinned):
        b = lookup.get((int(item_map[small.arc_item[a]]), int(opt_map[small.arc_option[a]])))
        if b is None or bool(big.forbidden[b]) or small.arc_value[a] != big.arc_value[b]:
            return False
        if _uses(small, int(a), small.resource_ids) != _uses(big, b, big.resource_ids):
            return False
    # a pin of either problem binds both: every answer of `small` keeps the pins of `big`
    pins_small = {
        (small.item_ids[small.arc_item[a]], small.option_ids[small.arc_option[a]])
        for a in np.flatnonzero(small.pinned)
    }
    pins_big = {
        (big.item_ids[big.arc_item[a]], big.option_ids[big.arc_option[a]])
        for a in np.flatnonzero(big.pinned)
    }
    if pins_small != pins_big:
        return False
    try:
        verify(small, answer)
    except VerificationError:
        return False
    return True


def _uses(p: AssignmentProblem, arc: int, ids: tuple[str, ...]) -> dict[str, int]:
    lo, hi = int(p.use_ptr[arc]), int(p.use_ptr[arc + 1])
    out: dict[str, int] = {}
    for r, amount in zip(p.use_resource[lo:hi], p.use_amount[lo:hi], strict=True):
        out[ids[int(r)]] = out.get(ids[int(r)], 0) + int(amount)
    return out
