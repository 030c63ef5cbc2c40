"""Min/max rollups of metric series, for downsampled reads that never touch every point
(plain NumPy, no Django).

Each series keeps, at several bucket widths (2^shift steps), the lowest and highest point of
every bucket. A chart asking for N points reads the finest level with at most N buckets (at most
2N candidate points, a few hundred rows instead of a hundred thousand) and LTTB picks the final N
among them: the MinMaxLTTB scheme of Van Der Donckt et al. (2023). Extremes survive by
construction, so spikes and dips stay visible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SHIFTS: tuple[int, ...] = tuple(range(4, 64, 2))  # bucket widths 16, 64, 256, … steps
# Series up to this many points have no rollups: reading them whole is cheap, and per-epoch
# metrics (a few points per write) then cost no rollup rows at all.
ROLLUP_MIN_POINTS = 4096


@dataclass(frozen=True, slots=True)
class LevelExtrema:
    """Per bucket of one level: the bucket number and its lowest and highest point."""

    shift: int
    buckets: np.ndarray
    min_steps: np.ndarray
    min_values: np.ndarray
    max_steps: np.ndarray
    max_values: np.ndarray


def _group_extrema(
    buckets: np.ndarray,
    min_steps: np.ndarray,
    min_values: np.ndarray,
    max_steps: np.ndarray,
    max_values: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Reduces rows sharing a bucket to one row: the lowest min and the highest max."""
    by_min = np.lexsort((min_steps, min_values, buckets))
    by_max = np.lexsort((max_steps, -max_values, buckets))
    sorted_buckets = buckets[by_min]
    firsts = np.flatnonzero(np.r_[True, sorted_buckets[1:] != sorted_buckets[:-1]])
    pick_min = by_min[firsts]
    pick_max = by_max[firsts]
    return (
        sorted_buckets[firsts],
        min_steps[pick_min],
        min_values[pick_min],
        max_steps[pick_max],
        max_values[pick_max],
    )


def level_extrema(
    steps: Sequence[int], values: Sequence[float], shifts: Sequence[int] = SHIFTS
) -> list[LevelExtrema]:
    """Bucket extrema of a batch at every level; each level is reduced from the one below."""
    step_array = np.asarray(steps, dtype=np.int64)
    value_array = np.asarray(values, dtype=np.float64)
    if step_array.size == 0:
        return []
    levels = []
    current = (step_array, step_array, value_array, step_array, value_array)
    previous_shift = 0
    for shift in shifts:
        # current[0] holds steps (first level) or the previous level's bucket numbers.
        buckets = current[0] >> (shift - previous_shift)
        reduced = _group_extrema(buckets, *current[1:])
        levels.append(LevelExtrema(shift, *reduced))
        current = reduced
        previous_shift = shift
    return levels


def choose_shift(
    first_step: int, last_step: int, max_points: int, shifts: Sequence[int] = SHIFTS
) -> int | None:
    """The finest level whose buckets over [first_step, last_step] number at most max_points."""
    for shift in shifts:
        if (last_step >> shift) - (first_step >> shift) + 1 <= max_points:
            return shift
    return None


def candidate_points(
    min_steps: Sequence[int],
    min_values: Sequence[float],
    max_steps: Sequence[int],
    max_values: Sequence[float],
) -> tuple[list[int], list[float]]:
    """The union of the buckets' lowest and highest points, ordered by step."""
    steps = np.concatenate([np.asarray(min_steps, np.int64), np.asarray(max_steps, np.int64)])
    values = np.concatenate(
        [np.asarray(min_values, np.float64), np.asarray(max_values, np.float64)]
    )
    unique_steps, first_index = np.unique(steps, return_index=True)
    return unique_steps.tolist(), values[first_index].tolist()
