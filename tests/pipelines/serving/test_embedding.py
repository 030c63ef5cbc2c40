"""The 3-D projection: principal axes of a known cloud, scaled into the unit ball."""

from __future__ import annotations

import numpy as np

from pipelines.serving.embedding import principal_components


def test_the_first_axis_follows_the_widest_spread_and_points_fit_the_unit_ball():
    rng = np.random.default_rng(0)
    cloud = rng.normal(size=(500, 5)) * np.array([10.0, 3.0, 1.0, 0.1, 0.1])

    points, shares = principal_components(cloud)

    assert points.shape == (500, 3) and points.dtype == np.float32
    assert np.abs(points).max() == 1.0
    assert shares[0] > shares[1] > shares[2] and 0.85 < shares[0] < 0.95
    # The first axis is the first column of the cloud (up to sign).
    assert abs(np.corrcoef(points[:, 0], cloud[:, 0])[0, 1]) > 0.99


def test_fewer_dimensions_than_axes_are_padded_with_zeros():
    points, shares = principal_components(np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 7.0]]))

    assert points.shape == (3, 3) and not points[:, 2].any()
    assert len(shares) == 2
