"""Solver building blocks behind `matcher.solve` (flow, heuristics, CP-SAT, HiGHS MIP)."""
