"""Downsampling of long metric series for charts (plain Python, no Django).

Largest-Triangle-Three-Buckets (Steinarsson, 2013) keeps the points that shape the curve:
spikes, dips and the first and last point survive, where taking every n-th point would
drop them. Its input here is usually the rollups' candidate points (at most twice the points
asked for), where a plain loop beats NumPy's per-call overhead.
"""

from __future__ import annotations

from collections.abc import Sequence


def largest_triangle_three_buckets(
    steps: Sequence[int], values: Sequence[float], max_points: int
) -> list[int]:
    """Indices of at most `max_points` points to keep, in order, first and last included."""
    n_points = len(steps)
    if max_points >= n_points or n_points <= 2:
        return list(range(n_points))
    if max_points < 3:
        return [0, n_points - 1][: max(max_points, 0)]
    # Inner points fall into max_points - 2 buckets; the first and last point are kept as is.
    bucket_size = (n_points - 2) / (max_points - 2)
    edges = [int(1 + bucket * bucket_size) for bucket in range(max_points - 1)]
    edges[-1] = n_points - 1
    kept = [0]
    previous = 0
    for bucket in range(max_points - 2):
        start, stop = edges[bucket], edges[bucket + 1]
        next_stop = edges[bucket + 2] if bucket + 2 < len(edges) else n_points
        next_count = next_stop - stop
        average_x = sum(steps[stop:next_stop]) / next_count
        average_y = sum(values[stop:next_stop]) / next_count
        previous_x, previous_y = steps[previous], values[previous]
        best_area = -1.0
        best = start
        for index in range(start, stop):
            area = abs(
                (previous_x - average_x) * (values[index] - previous_y)
                - (previous_x - steps[index]) * (average_y - previous_y)
            )
            if area > best_area:
                best_area, best = area, index
        kept.append(best)
        previous = best
    kept.append(n_points - 1)
    return kept
