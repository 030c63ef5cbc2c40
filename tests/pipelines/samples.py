"""Sample inputs per modality, and the inputs every brush of a modality must refuse.

The contract suite feeds these to every registered brush, so a new brush is covered as soon as it
is registered; a new modality needs an entry in each of these factories.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

SAMPLE_RATE = 16000


def sample_input(modality: str, seed: int = 0) -> Any:
    """Small valid input: 6 table rows, 4 images of 12 x 10 RGB, or 3 clips of about 0.5 s."""
    generator = np.random.default_rng(seed)
    if modality == "tabular":
        return pd.DataFrame(
            {
                "height_cm": generator.normal(170.0, 10.0, 6),
                "age": generator.integers(5, 90, 6),
                "colour": generator.choice(["red", "green", "blue"], 6),
            },
            index=pd.RangeIndex(10, 16),
        )
    if modality == "image":
        return generator.random((4, 12, 10, 3), dtype=np.float32)
    if modality == "audio":
        times = np.arange(9000) / SAMPLE_RATE
        return [
            (np.sin(2 * np.pi * frequency * times[:length]) * 0.5).astype(np.float32)
            + generator.normal(0.0, 0.01, length).astype(np.float32)
            for frequency, length in ((220.0, 7000), (440.0, 8000), (880.0, 9000))
        ]
    raise AssertionError(f"no sample input for modality {modality!r}")


def wrong_inputs(modality: str) -> dict[str, Any]:
    """Inputs that every brush of `modality` must refuse with BrushInputError, by description."""
    good = sample_input(modality)
    if modality == "tabular":
        return {
            "a NumPy array": good.to_numpy(),
            "a list of rows": good.to_dict("records"),
            "a DataFrame without rows": good.iloc[:0],
            "non-string column names": good.set_axis([0, 1, 2], axis=1),
        }
    if modality == "image":
        with_nan = good.copy()
        with_nan[0, 0, 0, 0] = np.nan
        return {
            "a file name": "cat.png",
            "a 2-D array": np.zeros((4, 4), dtype=np.float32),
            "NaN values": with_nan,
            "no images": good[:0],
        }
    if modality == "audio":
        with_nan = [waveform.copy() for waveform in good]
        with_nan[1][5] = np.nan
        return {
            "a file name": "clip.wav",
            "one bare waveform": good[0],
            "a stereo waveform": [np.zeros((2, 8000), dtype=np.float32)],
            "integer samples": [np.zeros(8000, dtype=np.int16)],
            "NaN samples": with_nan,
            "no waveforms": [],
        }
    raise AssertionError(f"no wrong inputs for modality {modality!r}")


def assert_output_fits_modality(modality: str, output: Any, given: Any) -> None:
    """The data-type conventions of base.py: what a brush of `modality` must return."""
    if modality == "tabular":
        assert isinstance(output, pd.DataFrame)
        assert output.index.equals(given.index)
        return
    assert isinstance(output, np.ndarray)
    assert output.dtype == np.float32
    assert output.shape[0] == len(given)
    assert output.ndim == {"image": 4, "audio": 3}[modality]
    assert np.isfinite(output).all()


def assert_identical(first: Any, second: Any) -> None:
    """Bit-identical outputs: same type, dtype, shape, labels and values."""
    assert type(first) is type(second)
    if isinstance(first, pd.DataFrame):
        pd.testing.assert_frame_equal(first, second, check_exact=True)
    else:
        assert first.dtype == second.dtype
        np.testing.assert_array_equal(first, second, strict=True)


def outputs_equal(first: Any, second: Any) -> bool:
    try:
        assert_identical(first, second)
    except AssertionError:
        return False
    return True


def invalid_param_values(spec: dict[str, Any]) -> list[Any]:
    """Values that a param's JSON Schema must refuse: wrong type, out of range, not an option."""
    values: list[Any] = [{"not": "a valid value"}]  # no brush param accepts an object
    if "minimum" in spec:
        values.append(spec["minimum"] - 1)
    if "exclusiveMinimum" in spec:
        values.append(spec["exclusiveMinimum"])
    if "maximum" in spec:
        values.append(spec["maximum"] + 1)
    if "enum" in spec:
        values.append("not-an-option")
    items = spec.get("items", {})
    if items.get("type") == "string":
        values.append([1])
    if items.get("type") == "number":
        values.append(["text"])
    if "exclusiveMinimum" in items:
        values.append([items["exclusiveMinimum"]] * spec.get("minItems", 1))
    if "minItems" in spec:
        values.append([])
    if "maxItems" in spec:
        values.append([1.0] * (spec["maxItems"] + 1))
    return values
