"""Justice cost offsets (optional): unit costs from the home's `costs.toml`, and each group's
justice cost per person-year in a window after the index date.

The file (none is shipped as fact; the demo's are illustrative and say so):

    illustrative = true          # optional (default false): the figures are examples, label them
    currency = "USD"             # optional (default "USD")
    per_booking = 450.0
    per_jail_day = 150.0
    per_felony_charge = 5000.0
    program_per_participant_month = 900.0

`read_costs(path)` returns None when the file is missing and raises `CostsError` (naming the
file and the key) when a value cannot be used. `compare_costs` gives, per window, each group's
cost per person-year alive (bookings x per_booking + jail days x per_jail_day + felony charges x
per_felony_charge, over the window's person-years alive, weighted), the difference with a 95%
bootstrap interval, and the program's cost per participant-year (12 x the monthly cost) beside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats as scipy_stats

from pipelines.core.settings import Home
from pipelines.core.toml_file import TomlFileError, read_toml
from pipelines.evaluate.effects import Estimate
from pipelines.evaluate.windows import DAYS_PER_YEAR

COSTS_FILE = "costs.toml"
UNIT_COSTS = ("per_booking", "per_jail_day", "per_felony_charge", "program_per_participant_month")
RESAMPLES = 1999
SEED = 13
BATCH_VALUES = 5_000_000  # people drawn per batch of resamples: bounds memory
COST_METHOD = (
    "Justice cost per person-year alive: bookings x cost per booking + jail days x cost per jail day + "
    "felony charges x cost per felony charge, summed over each group (weighted) and divided by its "
    f"person-years alive. Difference (participants minus comparison) with a 95% percentile bootstrap "
    f"interval (scipy.stats.bootstrap, {RESAMPLES:,} resamples within each group, fixed seed {SEED}, "
    "weights held fixed)."
)


class CostsError(Exception):
    """costs.toml cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Costs:
    """Unit costs of the justice events and of the program, in `currency`."""

    per_booking: float
    per_jail_day: float
    per_felony_charge: float
    program_per_participant_month: float
    currency: str = "USD"
    illustrative: bool = False  # example figures (the demo's): a page labels them so

    @property
    def program_per_participant_year(self) -> float:
        return 12 * self.program_per_participant_month


def costs_file(home: Home) -> Path:
    """Where a home keeps its unit costs."""
    return home.root / COSTS_FILE


def read_costs(path: Path) -> Costs | None:
    """The unit costs in `path`; None when there is no such file; CostsError when one is unusable."""
    try:
        data = read_toml(path)
    except FileNotFoundError:
        return None
    except TomlFileError as error:
        raise CostsError(str(error)) from None
    unknown = sorted(set(data) - {*UNIT_COSTS, "currency", "illustrative"})
    if unknown:
        raise CostsError(
            f"{path}: unknown key {unknown[0]!r} "
            f"(the keys are {', '.join(UNIT_COSTS)}, currency and illustrative)"
        )
    values = {}
    for name in UNIT_COSTS:
        if name not in data:
            raise CostsError(f"{path}: {name} is missing (a cost of 0 or more, e.g. {name} = 100.0)")
        value = data[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise CostsError(f"{path}: {name} must be a number, like {name} = 100.0")
        if not math.isfinite(value) or value < 0:
            raise CostsError(f"{path}: {name} must be a finite number of 0 or more, not {value}")
        values[name] = float(value)
    currency = data.get("currency", "USD")
    if not isinstance(currency, str) or not currency.strip() or len(currency) > 12:
        raise CostsError(f'{path}: currency must be a short text, like currency = "USD"')
    illustrative = data.get("illustrative", False)
    if not isinstance(illustrative, bool):
        raise CostsError(f"{path}: illustrative must be true or false")
    return Costs(**values, currency=currency.strip(), illustrative=illustrative)


@dataclass(frozen=True)
class CostComparison:
    """Justice costs per person-year alive in one window after the index date, both groups."""

    currency: str
    illustrative: bool
    lead: float | None  # participants' cost per person-year alive
    comparison: float | None  # the weighted comparison group's
    comparison_unweighted: float | None
    difference: Estimate  # lead minus comparison (weighted): negative is a saving
    program_per_participant_year: float
    method: str = COST_METHOD


def cost_rate(cost: np.ndarray, days: np.ndarray, weights: np.ndarray) -> float | None:
    years = (weights * days).sum() / DAYS_PER_YEAR
    return float((weights * cost).sum() / years) if years > 0 else None


def compare_costs(
    costs: Costs,
    events: dict[str, np.ndarray],
    treated: np.ndarray,
    weights: np.ndarray,
) -> CostComparison:
    """The groups' justice costs per person-year alive from one window's `events` (bookings,
    custody_days, felony_charges, days_alive: one value per person) and the ATT weights."""
    cost = (
        events["bookings"] * costs.per_booking
        + events["custody_days"] * costs.per_jail_day
        + events["felony_charges"] * costs.per_felony_charge
    ).astype(float)
    days = events["days_alive"].astype(float)
    lead = cost_rate(cost[treated], days[treated], weights[treated])
    comparison = cost_rate(cost[~treated], days[~treated], weights[~treated])
    unweighted = cost_rate(cost[~treated], days[~treated], np.ones(int((~treated).sum())))
    if lead is None or comparison is None:
        difference = Estimate.missing("no person-years alive in a group")
    elif treated.sum() < 2 or (~treated).sum() < 2:
        difference = Estimate(lead - comparison, None, None, "too few people to resample")
    else:
        low, high = bootstrap_difference(cost, days, treated, weights)
        difference = Estimate(lead - comparison, low, high)
    return CostComparison(
        currency=costs.currency,
        illustrative=costs.illustrative,
        lead=lead,
        comparison=comparison,
        comparison_unweighted=unweighted,
        difference=difference,
        program_per_participant_year=costs.program_per_participant_year,
    )


def bootstrap_difference(
    cost: np.ndarray, days: np.ndarray, treated: np.ndarray, weights: np.ndarray
) -> tuple[float | None, float | None]:
    """95% percentile interval of (lead rate - comparison rate), resampling people within each group."""
    parts = [(weights[g] * cost[g], weights[g] * days[g]) for g in (treated, ~treated)]

    def statistic(lead: np.ndarray, comparison: np.ndarray, axis: int = -1) -> np.ndarray:
        rates = []
        for drawn, (c, d) in zip((lead, comparison), parts, strict=True):
            with np.errstate(divide="ignore", invalid="ignore"):
                rates.append(DAYS_PER_YEAR * c[drawn].sum(axis=-1) / d[drawn].sum(axis=-1))
        return rates[0] - rates[1]

    samples = (np.arange(int(treated.sum())), np.arange(int((~treated).sum())))
    result = scipy_stats.bootstrap(
        samples,
        statistic,
        n_resamples=RESAMPLES,
        batch=max(1, BATCH_VALUES // len(treated)),
        vectorized=True,
        paired=False,
        axis=-1,
        confidence_level=0.95,
        method="percentile",
        rng=np.random.default_rng(SEED),
    )
    low, high = float(result.confidence_interval.low), float(result.confidence_interval.high)
    return (None if math.isnan(low) else low, None if math.isnan(high) else high)
