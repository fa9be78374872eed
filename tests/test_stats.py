"""Bootstrap intervals and paired differences against cases worked out by hand and simulation."""

from __future__ import annotations

import numpy as np
import pytest

from mathif import stats


def test_estimate_is_the_mean_of_item_means() -> None:
    # Items weigh the same whatever their number of samples: (1/2 + 1 + 1/4) / 3.
    interval = stats.bootstrap_ci([[1.0, 0.0], [1.0], [0.0, 0.0, 0.0, 1.0]])
    assert interval.estimate == pytest.approx((0.5 + 1.0 + 0.25) / 3)
    assert interval.n_items == 3
    assert interval.low <= interval.estimate <= interval.high


def test_two_items_distribution_matches_hand_computation() -> None:
    # Resampling two items {0, 1} gives means 0, 1/2, 1 with probabilities 1/4, 1/2, 1/4.
    dist = stats.bootstrap_means(np.array([0.0, 1.0]), n_boot=20000, seed=3)
    shares = [float(np.mean(dist == v)) for v in (0.0, 0.5, 1.0)]
    assert shares == pytest.approx([0.25, 0.5, 0.25], abs=0.015)
    # A 95% interval then spans the whole range.
    interval = stats.bootstrap_ci([[0.0], [1.0]], n_boot=20000, seed=3)
    assert (interval.low, interval.high) == (0.0, 1.0)


def test_constant_values_give_a_zero_width_interval() -> None:
    interval = stats.bootstrap_ci([[1.0]] * 50)
    assert (interval.estimate, interval.low, interval.high) == (1.0, 1.0, 1.0)


def test_samples_of_an_item_are_resampled_together() -> None:
    # Four identical samples per item carry no more information than one: the interval must
    # be exactly the one of the item means, not narrower as if there were 4x as many items.
    rng = np.random.default_rng(5)
    flags = (rng.random(120) < 0.4).astype(float)
    one = stats.bootstrap_ci([[f] for f in flags])
    four = stats.bootstrap_ci([[f] * 4 for f in flags])
    assert (one.low, one.high) == (four.low, four.high)
    naive = stats.bootstrap_ci([[f] for f in np.repeat(flags, 4)])
    assert naive.high - naive.low < 0.6 * (four.high - four.low)


def test_reproducible_with_a_seed_and_different_across_seeds() -> None:
    rng = np.random.default_rng(11)
    values = [[float(x)] for x in rng.random(420) < 0.3]
    assert stats.bootstrap_ci(values, seed=7) == stats.bootstrap_ci(values, seed=7)
    a, b = stats.bootstrap_ci(values, seed=7), stats.bootstrap_ci(values, seed=8)
    assert (a.low, a.high) != (b.low, b.high)


def test_index_stream_is_pinned() -> None:
    # The indices come from PCG64's raw output (stable across NumPy releases by NumPy's policy):
    # the top 53 bits as a uniform, times the number of items, floored, laid out in rows of
    # 512 draws. Pin the first draws so that a change is noticed.
    idx = stats.resample_indices(10, n_boot=2, seed=0)
    raw = np.random.PCG64(0).random_raw(2 * 512).reshape(2, 512)[:, :10]
    expected = [[int(x >> 11) * 10 // 2**53 for x in row] for row in raw.tolist()]
    assert idx.tolist() == expected
    assert not idx.flags.writeable
    # Group sizes share the stream: floor(20u) // 2 == floor(10u) for the same uniforms u.
    twenty = stats.resample_indices(20, n_boot=2, seed=0)
    assert (twenty[:, :10] // 2).tolist() == idx.tolist()


def _documented_interval(values: list[float], n_boot: int, seed: int) -> tuple[float, float]:
    """The interval as the module docstring defines it, computed the plain way."""
    width = 512
    while width < len(values):
        width *= 2
    raw = np.random.PCG64(seed).random_raw(n_boot * width).reshape(n_boot, width)
    uniforms = (raw >> np.uint64(11)).astype(np.float64) * (1.0 / 2**53)
    idx = np.floor(uniforms[:, : len(values)] * len(values)).astype(np.intp)
    dist = np.asarray(values)[idx].mean(axis=1)
    alpha = (1.0 - 0.95) / 2.0
    low, high = np.quantile(dist, [alpha, 1.0 - alpha])
    return float(low), float(high)


def test_intervals_are_bit_for_bit_the_documented_computation() -> None:
    rng = np.random.default_rng(17)
    for n in (1, 2, 7, 60, 90, 140, 420, 511, 512, 513, 1500):
        for seed in (0, 3):
            values = list(rng.random(n) * rng.choice([1.0, 1 / 3, 100.0]))
            stats._cached_indices.cache_clear()
            got = stats.bootstrap_ci([[v] for v in values], n_boot=300, seed=seed)
            assert (got.low, got.high) == _documented_interval(values, 300, seed), (n, seed)
    for n in range(1, 1100):
        raw = np.random.PCG64(1).random_raw(2 * stats._stream_width(n))
        uniforms = (raw.reshape(2, -1)[:, :n] >> np.uint64(11)).astype(np.float64) / 2**53
        expected = np.floor(uniforms * n).astype(np.intp)
        assert (stats.resample_indices(n, n_boot=2, seed=1) == expected).all(), n


def test_coverage_on_simulated_bernoulli_items() -> None:
    # 300 benchmarks of 420 one-sample items with true rate 0.3: the 95% interval should cover
    # 0.3 in 92-98% of them (binomial noise of the coverage itself: about ±1.3 points).
    rng = np.random.default_rng(2024)
    p, hits, n_sim = 0.3, 0, 300
    for sim in range(n_sim):
        flags = (rng.random(420) < p).astype(float)
        interval = stats.bootstrap_ci([[f] for f in flags], n_boot=1000, seed=sim)
        hits += interval.low <= p <= interval.high
    assert 0.92 <= hits / n_sim <= 0.98


def test_coverage_with_several_correlated_samples_per_item() -> None:
    # Item-level rates vary (some items are hard), 4 samples per item: the target is the mean
    # item rate. Resampling samples as if independent would under-cover; items must not.
    rng = np.random.default_rng(77)
    a, b = 2.0, 3.0
    truth = a / (a + b)
    hits, n_sim = 0, 200
    for sim in range(n_sim):
        rates = rng.beta(a, b, size=200)
        samples = [list((rng.random(4) < r).astype(float)) for r in rates]
        interval = stats.bootstrap_ci(samples, n_boot=1000, seed=sim)
        hits += interval.low <= truth <= interval.high
    assert 0.92 <= hits / n_sim <= 0.98


def test_paired_difference_by_hand() -> None:
    a = {"x": [1.0], "y": [1.0], "z": [0.0], "only_a": [1.0]}
    b = {"x": [0.0], "y": [1.0], "z": [0.0], "only_b": [0.0]}
    d = stats.paired_difference(a, b)
    assert d.estimate == pytest.approx(1 / 3)
    assert (d.n_common, d.n_only_a, d.n_only_b) == (3, 1, 1)
    # Per-item differences are {1, 0, 0}: resampled means lie in [0, 1].
    assert 0.0 <= d.low <= d.estimate <= d.high <= 1.0


def test_paired_difference_of_identical_runs_is_zero() -> None:
    a = {f"k{i}": [float(i % 2)] for i in range(50)}
    d = stats.paired_difference(a, dict(a))
    assert (d.estimate, d.low, d.high) == (0.0, 0.0, 0.0)
    assert not d.excludes_zero
    assert d.p_value == 1.0


def test_paired_difference_is_narrower_than_unpaired_and_detects_a_real_gap() -> None:
    # Shared item difficulty: model A is 8 points better than B on every item's rate.
    rng = np.random.default_rng(9)
    difficulty = rng.random(420)
    pa = np.clip(0.9 - 0.8 * difficulty + 0.08, 0, 1)
    pb = np.clip(0.9 - 0.8 * difficulty, 0, 1)
    u = rng.random(420)
    a = {f"k{i}": [float(u[i] < pa[i])] for i in range(420)}
    b = {f"k{i}": [float(u[i] < pb[i])] for i in range(420)}
    d = stats.paired_difference(a, b)
    assert d.excludes_zero and d.estimate > 0 and d.p_value < 0.01
    ia = stats.bootstrap_ci(list(a.values()))
    ib = stats.bootstrap_ci(list(b.values()))
    assert d.high - d.low < 0.5 * ((ia.high - ia.low) + (ib.high - ib.low))


def test_paired_difference_coverage() -> None:
    rng = np.random.default_rng(31)
    hits, n_sim, n = 0, 200, 300
    for sim in range(n_sim):
        difficulty = rng.random(n)
        pa = np.clip(0.8 - 0.6 * difficulty, 0, 1)
        pb = np.clip(0.75 - 0.6 * difficulty, 0, 1)
        truth = float(np.mean(pa - pb))
        a = {f"k{i}": [float(rng.random() < pa[i])] for i in range(n)}
        b = {f"k{i}": [float(rng.random() < pb[i])] for i in range(n)}
        d = stats.paired_difference(a, b, n_boot=1000, seed=sim)
        hits += d.low <= truth <= d.high
    assert 0.92 <= hits / n_sim <= 0.98


def test_pooled_interval_keeps_the_instance_mean() -> None:
    # Item 1 holds two instances (both pass), item 2 one instance (fails): 2/3 of instances
    # pass, while the mean of item means would be 1/2.
    interval = stats.bootstrap_pooled_ci([[1.0, 1.0], [0.0]])
    assert interval.estimate == pytest.approx(2 / 3)
    assert interval.low <= interval.estimate <= interval.high


def test_scaled_to_percent() -> None:
    interval = stats.bootstrap_ci([[1.0], [0.0], [1.0]]).scaled(100.0, 2)
    assert interval.estimate == pytest.approx(66.67)
    assert interval.as_list() == [interval.low, interval.high]


def test_weighted_mean_is_the_micro_average() -> None:
    # Sources: four of 90 items, AIME with 60.
    assert stats.weighted_mean([50, 50, 50, 50, 20], [90, 90, 90, 90, 60]) == pytest.approx(
        (4 * 90 * 50 + 60 * 20) / 420)
    with pytest.raises(ValueError):
        stats.weighted_mean([1.0], [1.0, 2.0])


@pytest.mark.parametrize("bad", [
    {"level": 1.0}, {"level": 0.0}, {"n_boot": 0}, {"seed": -1},
])
def test_bad_settings_are_refused(bad: dict) -> None:
    with pytest.raises(ValueError):
        stats.bootstrap_ci([[1.0], [0.0]], **bad)


def test_items_without_values_and_disjoint_runs_are_refused() -> None:
    with pytest.raises(ValueError):
        stats.bootstrap_ci([[1.0], []])
    with pytest.raises(ValueError):
        stats.paired_difference({"a": [1.0]}, {"b": [1.0]})
