"""Predictor: a published model's files and signature, answering prediction requests.

It repeats what training did to its test split, no more: the request's inputs are decoded into
the chain's input format (`inputs.decode_inputs`), the fitted deterministic brushes run with
training=False, the features become float32 as in `pipelines.features._as_matrix`, and the model
predicts through `TrainedModel.predict` / `predict_proba`, the calls training's evaluation makes.
So a model answers a request exactly as it scored the same samples at training time.

Everything runs on the CPU; thread counts are the caller's business (one per worker, as for
training). Loading goes through `TrainedModel.from_files` (torch with weights_only, scikit-learn
through skops) and `BrushChain.from_bytes`: nothing is unpickled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipelines.brushes import BrushChain, BrushInputError, BrushStateError
from pipelines.serving.errors import FieldError, FieldErrors, InputError, ModelLoadError
from pipelines.serving.gaps import nullable_columns
from pipelines.serving.inputs import MAX_BATCH, MAX_FILE_BYTES, decode_inputs
from pipelines.serving.signature import InputSignature
from pipelines.training.data import modality_of_shape
from pipelines.training.errors import ModelFileError, TrainingDataError
from pipelines.training.model import TrainedModel

MODEL_FOLDER = "model/"
CHAIN_PATH = "model/brushes.zip"
MODEL_FILE_NAMES = ("model.json", "weights.pt", "model.skops")


@dataclass(frozen=True)
class BatchPredictions:
    """A batch's predictions as arrays, in input order.

    classification: `codes` (N,) int64 indexes into `label_names`, as `TrainedModel.predict`
    gives them; `probabilities` (N, n_classes) float64 rows summing to 1 (float32 softmax for
    torch models), None for models without them (SVM). regression: `values` (N,) float32 in the
    target's units.
    """

    codes: np.ndarray | None = None
    probabilities: np.ndarray | None = None
    values: np.ndarray | None = None


class Predictor:
    """A loaded model with its fitted brushes and input signature; safe to reuse across requests
    (nothing is fitted or changed by predicting), so callers may cache one per model version."""

    def __init__(
        self, *, model: TrainedModel, chain: BrushChain, signature: InputSignature
    ) -> None:
        _check_fit(model, chain, signature)
        self.model = model
        self.chain = chain.deterministic_part
        self.signature = signature
        # The columns a request may leave empty (null): those the chain fills in, as it
        # filled training's gaps.
        self.nullable_columns: list[str] = nullable_columns(signature, self.chain)

    @classmethod
    def from_files(
        cls, files: Mapping[str, bytes], signature: InputSignature | dict[str, Any]
    ) -> Predictor:
        """A predictor from a run's artifacts (`model/model.json`, `model/weights.pt` or
        `model/model.skops`, `model/brushes.zip`; other paths are ignored) and the signature,
        or its stored JSON. ModelLoadError says what is missing or wrong."""
        if not isinstance(signature, InputSignature):
            try:
                signature = InputSignature.from_dict(signature)
            except ValueError as error:
                raise ModelLoadError(f"the stored signature is malformed: {error}") from error
        if CHAIN_PATH not in files:
            raise ModelLoadError(f"the model files lack {CHAIN_PATH}")
        model_files = {
            name: files[MODEL_FOLDER + name]
            for name in MODEL_FILE_NAMES
            if MODEL_FOLDER + name in files
        }
        try:
            model = TrainedModel.from_files(model_files, device="cpu")
        except ModelFileError as error:
            raise ModelLoadError(f"the model cannot be loaded: {error}") from error
        try:
            chain = BrushChain.from_bytes(files[CHAIN_PATH])
        except BrushStateError as error:
            raise ModelLoadError(f"the brushes cannot be loaded: {error}") from error
        return cls(model=model, chain=chain, signature=signature)

    @property
    def task(self) -> str:
        """ "classification" or "regression"."""
        return self.model.task

    @property
    def label_names(self) -> list[str]:
        """The classes, in the order of probability columns and codes; [] for regression."""
        return list(self.model.label_names)

    def features(self, raw_batch: Any) -> np.ndarray:
        """The model's float32 input for a batch in the chain's input format."""
        transformed = self.chain.transform(raw_batch, training=False)
        # A value past float32's range becomes inf here without a warning: `predict` reports it.
        with np.errstate(over="ignore"):
            if hasattr(transformed, "columns"):
                return transformed.to_numpy(dtype=np.float32)
            return np.asarray(transformed, dtype=np.float32)

    def predict_arrays(self, raw_batch: Any) -> BatchPredictions:
        """Predictions for a batch already in the chain's input format (`decode_inputs` output
        or a dataset reader's samples), with nothing rounded."""
        return self._predict_features(self.features(raw_batch))

    def _predict_features(self, features: np.ndarray) -> BatchPredictions:
        if self.task == "classification":
            # One pass of the model: a class is the most probable one (what `predict` of a
            # network or a forest computes anyway); a forest of 100 trees costs ~9 ms a pass.
            probabilities = self.model.predict_proba(features)
            if probabilities is None:  # models without probabilities (SVM)
                return BatchPredictions(codes=self.model.predict(features))
            return BatchPredictions(
                codes=probabilities.argmax(axis=1).astype(np.int64), probabilities=probabilities
            )
        return BatchPredictions(values=self.model.predict(features))

    def predict(
        self, inputs: Any, *, max_batch: int = MAX_BATCH, max_bytes: int = MAX_FILE_BYTES
    ) -> list[dict[str, Any]]:
        """One answer per input, in order: {"label", "probabilities": {class: p, ...} or None}
        for classification, {"value"} for regression, every number a Python float.

        Raises InputError for inputs that fail the signature's checks, and for inputs whose
        features or predictions are not finite (values far beyond anything seen in training).
        """
        raw_batch = decode_inputs(
            self.signature,
            inputs,
            max_batch=max_batch,
            max_bytes=max_bytes,
            nullable=self.nullable_columns,
        )
        try:
            features = self.features(raw_batch)
        except BrushInputError as error:  # a request the checks let through but a brush refuses
            raise InputError([FieldError("inputs", str(error))]) from error
        refuse_non_finite_rows(features, message=NON_FINITE_FEATURES)
        predictions = self._predict_features(features)
        refuse_non_finite_rows(
            *(
                array
                for array in (predictions.values, predictions.probabilities)
                if array is not None
            ),
            message=NON_FINITE_OUTPUT,
        )
        return self._answers(predictions)

    def _answers(self, predictions: BatchPredictions) -> list[dict[str, Any]]:
        if predictions.values is not None:
            return [{"value": float(value)} for value in predictions.values]
        names = self.model.label_names
        answers: list[dict[str, Any]] = []
        for row, code in enumerate(predictions.codes):
            probabilities = None
            if predictions.probabilities is not None:
                probabilities = {
                    name: float(probability)
                    for name, probability in zip(names, predictions.probabilities[row], strict=True)
                }
            answers.append({"label": names[int(code)], "probabilities": probabilities})
        return answers


NON_FINITE_FEATURES = (
    "gives values the model cannot take after preprocessing (infinite or NaN); "
    "is it far outside the training data?"
)
NON_FINITE_OUTPUT = "the model's output for this input is not finite"


def refuse_non_finite_rows(*arrays: np.ndarray, message: str) -> None:
    """InputError naming each input (row) that holds a value that is not finite in any of
    `arrays` (one row per input), with `message`."""
    bad: set[int] = set()
    for array in arrays:
        flat = np.asarray(array, dtype=np.float64).reshape(len(array), -1)
        bad |= set(np.flatnonzero(~np.isfinite(flat).all(axis=1)).tolist())
    errors = FieldErrors()
    for index in sorted(bad):
        errors.add(f"inputs[{index}]", message)
    errors.raise_if_any()


def _check_fit(model: TrainedModel, chain: BrushChain, signature: InputSignature) -> None:
    """Refuses a model, chain and signature that do not belong together, so a request never
    fails halfway for a reason the caller cannot fix."""
    try:
        model_modality = modality_of_shape(model.input_shape)
    except TrainingDataError as error:
        raise ModelLoadError(str(error)) from error
    modalities = {model_modality, chain.modality or signature.modality}
    if modalities != {signature.modality}:
        raise ModelLoadError(
            f"the signature is for {signature.modality} inputs, but the model or its brushes "
            f"take {', '.join(sorted(modalities - {signature.modality}))}"
        )
    if signature.modality != "image":
        return
    first = chain.brushes[0] if len(chain) else None
    starts_with_resize = first is not None and first.name == "image_resize"
    if starts_with_resize != signature.resizes:
        raise ModelLoadError(
            "the signature's resizes does not match the brushes "
            f"({'no ' if not starts_with_resize else ''}image_resize first)"
        )
    expected = (signature.height, signature.width, signature.channels)
    if starts_with_resize:
        params = first.config()
        found = (params["height"], params["width"], params["channels"])
    else:
        found = model.input_shape
    if tuple(found) != expected:
        raise ModelLoadError(
            f"the signature says height, width, channels {expected}; the model takes {found}"
        )
