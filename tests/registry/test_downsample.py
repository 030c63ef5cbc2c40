"""Largest-Triangle-Three-Buckets downsampling (plain NumPy, no database)."""

import math
import random

import pytest

from registry.downsample import largest_triangle_three_buckets


def noisy_series(n_points: int, seed: int = 3) -> tuple[list[int], list[float]]:
    rng = random.Random(seed)
    steps = list(range(n_points))
    values = [math.sin(step / 50) + rng.gauss(0, 0.05) for step in steps]
    return steps, values


@pytest.mark.parametrize("max_points", [3, 4, 10, 99, 500, 999])
def test_keeps_first_and_last_and_at_most_max_points_in_increasing_order(max_points):
    steps, values = noisy_series(1000)

    kept = largest_triangle_three_buckets(steps, values, max_points)

    assert kept[0] == 0
    assert kept[-1] == 999
    assert len(kept) <= max_points
    assert kept == sorted(set(kept))  # strictly increasing: no index twice


def test_returns_exactly_max_points_when_there_are_more_points():
    steps, values = noisy_series(10_000)

    assert len(largest_triangle_three_buckets(steps, values, 500)) == 500


def test_keeps_a_single_spike():
    steps = list(range(10_000))
    values = [1.0] * 10_000
    values[6_543] = 50.0

    kept = largest_triangle_three_buckets(steps, values, 100)

    assert 6_543 in kept


def test_keeps_a_single_dip_in_a_noisy_series():
    steps, values = noisy_series(5_000)
    values[1_234] = -40.0

    assert 1_234 in largest_triangle_three_buckets(steps, values, 200)


def test_short_series_come_back_whole():
    assert largest_triangle_three_buckets([0, 1, 2], [1.0, 2.0, 3.0], 3) == [0, 1, 2]
    assert largest_triangle_three_buckets([0, 1, 2], [1.0, 2.0, 3.0], 10) == [0, 1, 2]
    assert largest_triangle_three_buckets([5], [1.0], 2) == [0]
    assert largest_triangle_three_buckets([], [], 2) == []


def test_two_points_keep_the_ends():
    steps, values = noisy_series(100)

    assert largest_triangle_three_buckets(steps, values, 2) == [0, 99]


def test_uneven_steps_are_respected():
    steps = [0, 1, 2, 3, 1000, 1001, 1002, 1003, 1004, 5000]
    values = [0.0, 0.1, 0.2, 0.3, 9.0, 0.4, 0.5, 0.6, 0.7, 1.0]

    kept = largest_triangle_three_buckets(steps, values, 5)

    assert kept[0] == 0
    assert kept[-1] == 9
    assert 4 in kept
    assert len(kept) == 5
