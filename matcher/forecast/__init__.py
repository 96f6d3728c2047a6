"""Wait-time forecasts: when will help really start at an offering?

Expected start = queue already waiting + release schedule + intake lead
time, simulated (Monte Carlo, numpy, explicit seeds).  See docs/forecast.md.
"""

from matcher.forecast.history import (
    BacktestCase,
    CalibrationReport,
    backtest,
    estimate_flow,
    simulate_history,
    snapshot,
)
from matcher.forecast.params import (
    DEFAULT_FLOW,
    FlowParams,
    ForecastInputError,
    OfferingState,
    QueueEntry,
)
from matcher.forecast.simulate import (
    StartForecast,
    forecast_child,
    forecast_offering,
    simulate_starts,
    with_new_referral,
)

__all__ = [
    "DEFAULT_FLOW",
    "BacktestCase",
    "CalibrationReport",
    "FlowParams",
    "ForecastInputError",
    "OfferingState",
    "QueueEntry",
    "StartForecast",
    "backtest",
    "estimate_flow",
    "forecast_child",
    "forecast_offering",
    "simulate_history",
    "simulate_starts",
    "snapshot",
    "with_new_referral",
]
