"""How a search (CP-SAT, HiGHS) ended, as one enum for the whole solver layer.

A `StrEnum`, so a status that leaves the process (JSON stats) is written as
its name without a translation table; inside the process it is compared as
an enum member only.
"""

from __future__ import annotations

import enum


class SearchStatus(enum.StrEnum):
    OPTIMAL = "OPTIMAL"  # proven within the gap asked for
    FEASIBLE = "FEASIBLE"  # an answer, not proven
    INFEASIBLE = "INFEASIBLE"  # proven: no answer exists
    NO_SOLUTION = "NO_SOLUTION"  # stopped without an answer
    TIMEOUT = "TIMEOUT"  # stopped from outside at the hard deadline
    ERROR = "ERROR"  # the solver failed; its bound proves nothing
    UNKNOWN = "UNKNOWN"  # CP-SAT: time out before any answer
    MODEL_INVALID = "MODEL_INVALID"  # CP-SAT rejected the model

    @property
    def has_answer(self) -> bool:
        return self in (SearchStatus.OPTIMAL, SearchStatus.FEASIBLE)

    @property
    def settled(self) -> bool:
        """The question is answered: proven optimal or proven infeasible."""
        return self in (SearchStatus.OPTIMAL, SearchStatus.INFEASIBLE)
