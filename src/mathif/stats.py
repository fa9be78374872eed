"""Uncertainty of MathIF numbers: bootstrap intervals over items, and paired run differences.

Why a bootstrap over items: the benchmark's numbers are means over 420 items, and the items, not
the samples, are what a different draw of the benchmark would change. When a run has several
samples per item, the samples of one item are correlated (same question, same constraints), so
they are resampled together: an item is drawn with all of its samples, and its value is the mean
over them. This is the cluster bootstrap; with one sample per item it is the plain bootstrap.

Why our own index stream: NumPy documents that ``Generator`` methods may change their output
between releases, while the raw output of a bit generator (PCG64) is stable. Indices are taken
from ``PCG64(seed).random_raw`` (its top 53 bits as a uniform in [0, 1), scaled by the number
of items and floored), so an interval is byte-for-byte the same for a seed on any NumPy >= 1.17.

Intervals are percentile intervals. They can be too narrow for a proportion at 0 or 1 (every
resample gives the same value, so the interval has zero width); reports show ``n`` next to
each interval so that such cases can be read for what they are.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

DEFAULT_N_BOOT = 2000
DEFAULT_LEVEL = 0.95
DEFAULT_SEED = 0


@dataclass(frozen=True)
class Interval:
    """A point estimate (the mean of item means) with its bootstrap interval."""

    estimate: float
    low: float
    high: float
    n_items: int
    level: float
    n_boot: int
    seed: int

    def scaled(self, factor: float, ndigits: int | None = None) -> Interval:
        """The same interval in other units (``100`` for percent), optionally rounded."""

        def f(x: float) -> float:
            return x * factor if ndigits is None else round(x * factor, ndigits)

        return Interval(f(self.estimate), f(self.low), f(self.high), self.n_items, self.level,
                        self.n_boot, self.seed)

    def as_list(self) -> list[float]:
        return [self.low, self.high]


@dataclass(frozen=True)
class PairedDifference:
    """``a - b`` over the items both runs share, with a bootstrap interval.

    ``p_value`` is the two-sided bootstrap p-value (twice the smaller share of resampled
    differences on either side of zero, capped at 1): a rough guide, the interval is the result.
    """

    estimate: float
    low: float
    high: float
    n_common: int
    n_only_a: int
    n_only_b: int
    level: float
    n_boot: int
    seed: int
    p_value: float

    @property
    def excludes_zero(self) -> bool:
        """True when the interval lies wholly on one side of zero: "A differs from B"."""
        return self.low > 0 or self.high < 0

    def scaled(self, factor: float, ndigits: int | None = None) -> PairedDifference:
        def f(x: float) -> float:
            return x * factor if ndigits is None else round(x * factor, ndigits)

        return PairedDifference(f(self.estimate), f(self.low), f(self.high), self.n_common,
                                self.n_only_a, self.n_only_b, self.level, self.n_boot,
                                self.seed, self.p_value)

    def as_list(self) -> list[float]:
        return [self.low, self.high]


def item_means(values_per_item: Sequence[Sequence[float]]) -> np.ndarray:
    """One value per item: the mean over its samples (every item needs at least one)."""
    means = []
    for i, values in enumerate(values_per_item):
        if len(values) == 0:
            raise ValueError(f"item {i} has no values; leave items without samples out")
        means.append(math.fsum(values) / len(values))  # plain floats: numpy per item is slow
    return np.asarray(means, dtype=np.float64)


def resample_indices(n_items: int, n_boot: int = DEFAULT_N_BOOT,
                     seed: int = DEFAULT_SEED) -> np.ndarray:
    """``(n_boot, n_items)`` item indices drawn with replacement, stable across NumPy releases.

    The array is cached and read-only: one results file bootstraps a dozen statistics over the
    same 420 items, and drawing the indices is most of the cost.
    """
    if n_items <= 0:
        raise ValueError("need at least one item")
    if n_boot <= 0:
        raise ValueError("n_boot must be positive")
    if seed < 0:
        raise ValueError("seed must be >= 0")
    return _cached_indices(n_items, n_boot, seed)


def _stream_width(n_items: int) -> int:
    """Columns of the raw stream: a power of two >= 512, so most sizes share one stream."""
    width = 512
    while width < n_items:
        width *= 2
    return width


@lru_cache(maxsize=4)
def _draws(n_boot: int, width: int, seed: int) -> np.ndarray:
    """``(n_boot, width)`` top-53-bit integers of PCG64's raw output, as (exact) floats.

    The uniform in [0, 1) of the documented stream is ``draw * 2**-53``; it is never formed:
    ``draw * (n * 2**-53)`` is the same product of the same exact operands, so it rounds to
    the same float as ``uniform * n`` (one pass over the array fewer).
    """
    raw = np.random.PCG64(seed).random_raw(n_boot * width).reshape(n_boot, width)
    raw >>= np.uint64(11)
    draws: np.ndarray = raw.astype(np.float64)
    draws.setflags(write=False)
    return draws


@lru_cache(maxsize=64)
def _cached_indices(n_items: int, n_boot: int, seed: int) -> np.ndarray:
    # Row r, column j of the stream decides draw j of resample r, whatever the group size:
    # the breakdowns of one results file (a few dozen group sizes) reuse one stream.
    # floor(uniform * n): the product is >= 0, so truncating to an integer is the floor.
    scaled = _draws(n_boot, _stream_width(n_items), seed)[:, :n_items] * (n_items * 2.0**-53)
    idx: np.ndarray = scaled.astype(np.intp)
    idx.setflags(write=False)
    return idx


def bootstrap_means(values: np.ndarray, n_boot: int = DEFAULT_N_BOOT,
                    seed: int = DEFAULT_SEED) -> np.ndarray:
    """The bootstrap distribution of the mean of ``values`` (one value per item)."""
    values = np.asarray(values, dtype=np.float64)
    idx = resample_indices(len(values), n_boot, seed)
    result: np.ndarray = values[idx].mean(axis=1)
    return result


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise ValueError("level must be between 0 and 1")


def _percentiles(dist: np.ndarray, level: float) -> tuple[float, float]:
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(dist, [alpha, 1.0 - alpha])
    return float(low), float(high)


def bootstrap_ci(
    values_per_item: Sequence[Sequence[float]],
    *,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = DEFAULT_SEED,
    level: float = DEFAULT_LEVEL,
) -> Interval:
    """Mean of item means with a percentile bootstrap interval, resampling whole items.

    ``values_per_item`` holds, for each item, the values of its samples (e.g. ``[1.0]`` for one
    sample that followed all constraints, ``[1.0, 0.0, 1.0]`` for three samples). Values need
    not be 0/1: SAcc item values are fractions.
    """
    _check_level(level)
    means = item_means(values_per_item)
    dist = bootstrap_means(means, n_boot, seed)
    low, high = _percentiles(dist, level)
    return Interval(float(means.mean()), low, high, len(means), level, n_boot, seed)


def bootstrap_pooled_ci(
    values_per_item: Sequence[Sequence[float]],
    *,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = DEFAULT_SEED,
    level: float = DEFAULT_LEVEL,
) -> Interval:
    """Mean over all values (not over item means), resampling whole items.

    For rates whose unit is not the item: the pass rate of a constraint category is a mean over
    constraint instances, and an item may hold two instances of one category. Resampling items
    keeps such instances together; the ratio of resampled sums keeps the estimate the one
    reported (a mean of item means would be a different number).
    """
    _check_level(level)
    if not values_per_item:
        raise ValueError("need at least one item")
    sum_list, count_list = [], []
    for i, values in enumerate(values_per_item):
        if len(values) == 0:
            raise ValueError(f"item {i} has no values; leave items without samples out")
        sum_list.append(math.fsum(values))
        count_list.append(float(len(values)))
    sums = np.asarray(sum_list, dtype=np.float64)
    counts = np.asarray(count_list, dtype=np.float64)
    idx = resample_indices(len(sums), n_boot, seed)
    dist = sums[idx].sum(axis=1) / counts[idx].sum(axis=1)
    low, high = _percentiles(dist, level)
    return Interval(float(sums.sum() / counts.sum()), low, high, len(sums), level, n_boot, seed)


def paired_difference(
    a: Mapping[str, Sequence[float]],
    b: Mapping[str, Sequence[float]],
    *,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = DEFAULT_SEED,
    level: float = DEFAULT_LEVEL,
) -> PairedDifference:
    """Difference ``a - b`` of two runs on the items they share (keyed by item key).

    Pairing removes the between-item variation that both runs share (hard items are hard for
    every model), so the interval is much narrower than the two separate intervals suggest.
    Items present in only one run are left out and counted.
    """
    _check_level(level)
    common = [k for k in a if k in b]
    if not common:
        raise ValueError("the two runs share no item keys")
    diffs = item_means([a[k] for k in common]) - item_means([b[k] for k in common])
    dist = bootstrap_means(diffs, n_boot, seed)
    low, high = _percentiles(dist, level)
    share_le = float(np.mean(dist <= 0.0))
    share_ge = float(np.mean(dist >= 0.0))
    p_value = min(1.0, 2.0 * min(share_le, share_ge))
    common_set = set(common)
    return PairedDifference(
        estimate=float(diffs.mean()),
        low=low,
        high=high,
        n_common=len(common),
        n_only_a=sum(1 for k in a if k not in common_set),
        n_only_b=sum(1 for k in b if k not in common_set),
        level=level,
        n_boot=n_boot,
        seed=seed,
        p_value=p_value,
    )


def weighted_mean(values: Sequence[float], weights: Sequence[float]) -> float:
    """Pool group means into the overall micro average (each group weighted by its size).

    This is how the benchmark's overall numbers relate to its breakdowns: a mean over items,
    not a mean of the group means (AIME has 60 items, the other sources 90).
    """
    if len(values) != len(weights):
        raise ValueError("values and weights differ in length")
    total = float(sum(weights))
    if total <= 0:
        raise ValueError("weights must add up to more than zero")
    return float(sum(v * w for v, w in zip(values, weights, strict=True))) / total
