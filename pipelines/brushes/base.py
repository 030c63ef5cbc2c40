"""The contract every preprocessing brush keeps.

A brush is a scikit-learn style transformer with a JSON configuration, so that a chain of brushes
can be stored with a run, hashed for the feature store, rebuilt from a form and saved without
pickle. The data a brush takes and returns depends on its modality:

- ``tabular``: a ``pandas.DataFrame`` in, a ``pandas.DataFrame`` out, same index and rows. Columns
  a brush does not touch pass through unchanged; after encoding, every column is numeric. Column
  labels must be unique strings.
- ``image``: a float32 NumPy array of shape (N, H, W, C), values in [0, 1] (except after
  ``image_normalize``, which centres them). ``image_resize`` is the entry point: it also takes a
  list of H x W x C (or H x W greyscale) arrays of different sizes, uint8 or float.
- ``audio``: a list (or 1-D object array, or 2-D float array) of 1-D float waveforms sampled at the
  brush's ``sample_rate``; audio brushes return float32 arrays (N, n_features, n_frames).
"""

from __future__ import annotations

import copy
import json
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Self

import numpy as np

from pipelines.brushes.errors import BrushNotFittedError, BrushStateError
from pipelines.brushes.params import validate_params

MODALITIES = ("tabular", "image", "audio")
# Set by every successful fit, so "fitted" never depends on what a brush happens to learn.
SAMPLES_SEEN = "n_samples_seen_"


class PreprocessingBrush(ABC):
    """Abstract base of brushes: fit/transform with a JSON configuration and JSON + array state.

    Contract (scikit-learn's estimator conventions, plus serialisation):

    - Class attributes: ``name`` (registry key), ``modality`` (one of ``MODALITIES``),
      ``description`` (one sentence for pages), ``config_schema`` (JSON Schema draft 2020-12 of the
      params: every property has a default, ``additionalProperties`` is false), ``training_only``
      (True for brushes such as augmentation that must not run at inference), and
      ``fitted_attributes`` (names of the learned attributes, each ending in ``_``).
    - ``__init__(**params)`` validates the params against the schema and stores them as attributes
      with the same names; it does nothing else. A bad param raises ``BrushConfigError``.
    - ``config()`` returns the params as JSON-able data; ``type(brush)(**brush.config())`` is an
      equal, unfitted brush.
    - ``fit(X, y=None)`` checks the input, learns state into attributes ending in ``_`` and returns
      ``self``. Refitting forgets the previous state; a fit that fails leaves the brush unfitted.
      Random brushes take ``random_state`` and give the same output for the same seed.
    - ``transform(X)`` before ``fit`` raises ``BrushNotFittedError``; input of the wrong type,
      shape, values or columns raises ``BrushInputError`` (at ``fit`` too).
    - ``get_state()`` returns the fitted state as (JSON-able scalars, named arrays) and
      ``set_state(meta, arrays)`` restores it, so a restored brush transforms bit-identically.

    Lifecycle: construct (validate params) -> fit (learn) -> transform (any number of times) ->
    get_state / save -> set_state / load -> transform. Subclasses implement ``_check_input``,
    ``_fit`` and ``_transform``, and may override ``_check_params`` for rules across params.
    """

    name: ClassVar[str]
    modality: ClassVar[str]
    description: ClassVar[str]
    config_schema: ClassVar[dict[str, Any]]
    training_only: ClassVar[bool] = False
    fitted_attributes: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **params: Any) -> None:
        for key, value in validate_params(type(self), params).items():
            setattr(self, key, value)
        self._check_params()

    def _check_params(self) -> None:  # noqa: B027  (optional hook, empty on purpose)
        """Checks rules that span several params (JSON Schema checks each param alone)."""

    @abstractmethod
    def _check_input(self, X: Any) -> Any:
        """Returns X in the brush's working form, or raises BrushInputError saying what is wrong."""

    @abstractmethod
    def _fit(self, data: Any, y: Any) -> None:
        """Learns the fitted attributes from checked input."""

    @abstractmethod
    def _transform(self, data: Any) -> Any:
        """Transforms checked input with the fitted attributes."""

    def fit(self, X: Any, y: Any = None) -> Self:
        """Learns the brush's state from X (y: for scikit-learn symmetry) and returns self."""
        self._fit_checked(X, y)
        return self

    def transform(self, X: Any) -> Any:
        """Returns X transformed with the learned state; see the module docstring for data types."""
        self._check_fitted()
        return self._transform(self._check_input(X))

    def fit_transform(self, X: Any, y: Any = None) -> Any:
        """Fits on X and returns X transformed, checking the input only once."""
        return self._transform(self._fit_checked(X, y))

    def _fit_checked(self, X: Any, y: Any) -> Any:
        """Forgets the old state, checks X, fits; returns the checked data. A fit that fails (bad
        input included) leaves the brush unfitted rather than fitted on older data."""
        self._forget_state()
        try:
            data = self._check_input(X)
            self._fit(data, y)
        except BaseException:
            self._forget_state()
            raise
        setattr(self, SAMPLES_SEEN, len(data))
        return data

    @property
    def is_fitted(self) -> bool:
        """Whether fit (or set_state) has completed on this brush."""
        return hasattr(self, SAMPLES_SEEN)

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise BrushNotFittedError(
                f"{self.name} is not fitted yet: call fit(X) or fit_transform(X) before "
                "transform(X)"
            )

    def _state_names(self) -> tuple[str, ...]:
        return (*self.fitted_attributes, SAMPLES_SEEN)

    def _forget_state(self) -> None:
        for key in self._state_names():
            self.__dict__.pop(key, None)

    def config(self) -> dict[str, Any]:
        """The params as JSON-able data, in schema order; feeding them back gives an equal brush."""
        return {key: copy.deepcopy(getattr(self, key)) for key in self.config_schema["properties"]}

    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """The fitted state: (JSON-able values, named arrays), keyed by attribute name."""
        self._check_fitted()
        meta: dict[str, Any] = {}
        arrays: dict[str, np.ndarray] = {}
        for key in self._state_names():
            value = getattr(self, key)
            if isinstance(value, np.ndarray):
                arrays[key] = value
            else:
                meta[key] = copy.deepcopy(value)
        try:
            json.dumps(meta, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise BrushStateError(f"{self.name}: fitted state is not JSON-able: {error}") from error
        return meta, arrays

    def set_state(self, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> Self:
        """Restores state from `get_state`'s output; refuses missing, extra or clashing names."""
        expected = set(self._state_names())
        given = set(meta) | set(arrays)
        if set(meta) & set(arrays) or given != expected:
            raise BrushStateError(
                f"{self.name}: state names {sorted(given)} do not match the expected "
                f"{sorted(expected)}"
            )
        if any(array.dtype == object for array in arrays.values()):
            raise BrushStateError(f"{self.name}: state arrays must not hold Python objects")
        self._forget_state()
        for key, value in copy.deepcopy(meta).items():
            setattr(self, key, value)
        for key, array in arrays.items():
            setattr(self, key, np.array(array, copy=True))
        return self

    def __repr__(self) -> str:
        properties = self.config_schema["properties"]
        changed = [
            f"{key}={value!r}"
            for key, value in self.config().items()
            if value != properties[key]["default"]
        ]
        return f"{type(self).__name__}({', '.join(changed)})"
