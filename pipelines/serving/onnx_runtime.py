"""OnnxPredictor: a version's ONNX export answering the same requests as `Predictor`.

It reads `model/model.onnx` and its manifest `model/onnx.json` (see `onnx_export`), decodes a
request with `decode_inputs` and turns it into the graph's input exactly as the manifest says a
browser would: table columns in order as the manifest's `input_dtype` (float64 since exports
preprocess exactly; float32 for older ones that do not say), a category column as its value's
position in the manifest's `categories`; images resized by the chain's image_resize
brush in Python and scaled back to pixel values 0..255; for `features` exports, the Python
brush chain's output. ONNX Runtime then computes the rest. Answers have `Predictor.predict`'s
shape, so a caller can switch runtimes without noticing more than the timing.

ONNX Runtime runs on the CPU with one thread per session (one per worker, as for training).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from pipelines.brushes import BrushChain, BrushInputError, BrushStateError
from pipelines.serving.errors import FieldError, InputError, ModelLoadError
from pipelines.serving.gaps import nullable_columns
from pipelines.serving.inputs import (
    MAX_BATCH,
    MAX_FILE_BYTES,
    category_lookups,
    decode_inputs,
    decode_table_matrix,
    is_matrix_table,
)
from pipelines.serving.predictor import (
    CHAIN_PATH,
    NON_FINITE_FEATURES,
    NON_FINITE_OUTPUT,
    BatchPredictions,
    refuse_non_finite_rows,
)
from pipelines.serving.signature import InputSignature

MODEL_PATH = "model/model.onnx"
MANIFEST_PATH = "model/onnx.json"
MANIFEST_FORMAT = 1
INPUT_KINDS = ("table", "image", "features")
INPUT_DTYPES = {"float32": np.float32, "float64": np.float64}


class OnnxExportMissing(ModelLoadError):
    """The version has no ONNX export (never made, or refused by its check)."""


def session_for(model_bytes: bytes) -> Any:
    """An ONNX Runtime session on the CPU, one thread, graph optimisations on."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(
        model_bytes, sess_options=options, providers=["CPUExecutionProvider"]
    )


def image_resize_of(chain: BrushChain) -> Any:
    """The chain's leading image_resize brush, or None."""
    first = chain.brushes[0] if len(chain) else None
    return first if first is not None and first.name == "image_resize" else None


def input_dtype(manifest: Mapping[str, Any]) -> type[np.floating]:
    """The graph input's dtype: the manifest's `input_dtype`; float32 where it has none (the
    exports made before table graphs took float64)."""
    return INPUT_DTYPES[manifest.get("input_dtype", "float32")]


def graph_inputs(manifest: Mapping[str, Any], chain: BrushChain, raw_batch: Any) -> np.ndarray:
    """The graph's input (of the manifest's `input_dtype`) for a batch in the chain's input
    format (`decode_inputs`).

    Raises BrushInputError where a Python brush refuses the batch."""
    kind = manifest["input_kind"]
    if kind == "table":
        dtype = input_dtype(manifest)
        if isinstance(raw_batch, np.ndarray):  # `decode_table_matrix` output: columns in order
            return raw_batch.astype(dtype, copy=False)
        categories = manifest.get("categories") or {}
        return table_matrix(raw_batch, manifest["columns"], categories, dtype=dtype)
    if kind == "image":
        resize = image_resize_of(chain)
        if resize is None:
            return np.asarray(raw_batch, dtype=np.float32)
        # image_resize gives [0, 1]; the graph takes pixel values, and divides them again.
        return resize.transform(raw_batch) * np.float32(255.0)
    transformed = chain.transform(raw_batch, training=False)
    with np.errstate(over="ignore"):
        if hasattr(transformed, "columns"):
            return transformed.to_numpy(dtype=np.float32)
        return np.asarray(transformed, dtype=np.float32)


def table_matrix(
    frame: pd.DataFrame,
    columns: list[str],
    categories: Mapping[str, list[str]],
    *,
    dtype: type[np.floating] = np.float64,
) -> np.ndarray:
    """A DataFrame (as `decode_inputs` or a dataset reader gives it) as the graph's input:
    numbers as they are (booleans 0/1, missing NaN), a category column as its value's
    position in `categories` (-1 unseen, NaN missing: the graph's imputation fills that)."""
    if not categories:
        return frame[list(columns)].to_numpy(dtype=dtype)
    lookups = category_lookups(categories)
    matrix = np.empty((len(frame), len(columns)), dtype=dtype)
    for at, name in enumerate(columns):
        series = frame[name]
        lookup = lookups.get(name)
        if lookup is None:
            matrix[:, at] = series.to_numpy(dtype=dtype)
            continue
        missing = series.isna().to_numpy()
        positions = [lookup.get(text, -1) for text in series.astype(str).tolist()]
        matrix[:, at] = np.where(missing, np.nan, np.asarray(positions, dtype=dtype))
    return matrix


def check_manifest(manifest: Any) -> dict[str, Any]:
    """The manifest if it is one this code reads; ModelLoadError otherwise."""
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise ModelLoadError(f"{MANIFEST_PATH} is not a format-{MANIFEST_FORMAT} manifest")
    if manifest.get("input_kind") not in INPUT_KINDS:
        raise ModelLoadError(f"{MANIFEST_PATH} has an unknown input_kind")
    if manifest.get("task") not in ("classification", "regression"):
        raise ModelLoadError(f"{MANIFEST_PATH} has an unknown task")
    if manifest["input_kind"] == "table" and not isinstance(manifest.get("columns"), list):
        raise ModelLoadError(f"{MANIFEST_PATH} lacks the table's columns")
    if str(manifest.get("input_dtype", "float32")) not in INPUT_DTYPES:
        raise ModelLoadError(f"{MANIFEST_PATH} has an unknown input_dtype")
    if manifest.get("features_output") not in (None, "features"):
        raise ModelLoadError(f"{MANIFEST_PATH} has an unknown features_output")
    categories = manifest.get("categories", {})
    if not isinstance(categories, dict) or not all(
        isinstance(known, list) and all(isinstance(text, str) for text in known)
        for known in categories.values()
    ):
        raise ModelLoadError(f"{MANIFEST_PATH} has categories that are not lists of text")
    return manifest


class OnnxPredictor:
    """A loaded ONNX export with its manifest, signature and (for resizing images and
    `features` exports) the fitted brushes; reusable across requests and threads."""

    def __init__(
        self,
        *,
        session: Any,
        manifest: dict[str, Any],
        signature: InputSignature,
        chain: BrushChain,
    ) -> None:
        self.session = session
        self.manifest = check_manifest(manifest)
        self.signature = signature
        self.chain = chain.deterministic_part
        # The graph takes the signature's columns, in its order, as numbers (a category as its
        # position): no DataFrame.
        self.categories: dict[str, list[str]] = dict(self.manifest.get("categories") or {})
        self.takes_matrix = (
            self.manifest["input_kind"] == "table"
            and is_matrix_table(signature, self.categories)
            and list(self.manifest["columns"]) == signature.column_names
        )
        self.nullable_columns = self._nullable_columns()

    def _nullable_columns(self) -> list[str]:
        """The columns a request may leave empty: those the chain fills in (`gaps`), as for
        `Predictor`; for a table graph only those its manifest says the graph fills too
        (`missing_allowed`; exports made before the shared rule listed a superset)."""
        nullable = nullable_columns(self.signature, self.chain)
        if self.manifest["input_kind"] == "table":
            filled = set(self.manifest.get("missing_allowed") or [])
            nullable = [name for name in nullable if name in filled]
        return nullable

    @classmethod
    def from_files(
        cls, files: Mapping[str, bytes], signature: InputSignature | dict[str, Any]
    ) -> OnnxPredictor:
        """From a version's files (`model/model.onnx`, `model/onnx.json`, `model/brushes.zip`;
        others are ignored). OnnxExportMissing without an export, ModelLoadError when the files
        are damaged or contradict each other."""
        if MODEL_PATH not in files or MANIFEST_PATH not in files:
            raise OnnxExportMissing("this version has no ONNX export")
        if not isinstance(signature, InputSignature):
            try:
                signature = InputSignature.from_dict(signature)
            except ValueError as error:
                raise ModelLoadError(f"the stored signature is malformed: {error}") from error
        try:
            manifest = json.loads(files[MANIFEST_PATH])
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ModelLoadError(f"{MANIFEST_PATH} is not JSON: {error}") from error
        try:
            chain = BrushChain.from_bytes(files[CHAIN_PATH]) if CHAIN_PATH in files else None
        except BrushStateError as error:
            raise ModelLoadError(f"the brushes cannot be loaded: {error}") from error
        try:
            session = session_for(files[MODEL_PATH])
        except Exception as error:  # onnxruntime raises its own, undocumented, exception types
            raise ModelLoadError(f"{MODEL_PATH} cannot be loaded: {error}") from error
        names = ([i.name for i in session.get_inputs()], [o.name for o in session.get_outputs()])
        outputs = [manifest.get("output")]
        if manifest.get("features_output"):
            outputs.append(manifest["features_output"])
        if names != ([manifest.get("input")], outputs):
            raise ModelLoadError(f"{MODEL_PATH}'s inputs and outputs are {names}")
        return cls(
            session=session,
            manifest=manifest,
            signature=signature,
            chain=chain or BrushChain(),
        )

    @property
    def task(self) -> str:
        return self.manifest["task"]

    @property
    def label_names(self) -> list[str]:
        return list(self.manifest.get("label_names", []))

    def run(self, graph_input: np.ndarray) -> np.ndarray:
        """The graph's output for its input (of the manifest's `input_dtype`; float32 out)."""
        (output,) = self.session.run(
            [self.manifest["output"]], {self.manifest["input"]: graph_input}
        )
        return output

    def run_checked(self, graph_input: np.ndarray) -> np.ndarray:
        """The graph's output, refusing rows whose features (the graph's `features` output,
        where the manifest names one) or output are not finite, as `Predictor.predict` does:
        a float64 table input can be finite where its float32 features are not."""
        names = [self.manifest["output"]]
        if self.manifest.get("features_output"):
            names.append(self.manifest["features_output"])
        output, *features = self.session.run(names, {self.manifest["input"]: graph_input})
        refuse_non_finite_rows(*features, message=NON_FINITE_FEATURES)
        refuse_non_finite_rows(output, message=NON_FINITE_OUTPUT)
        return output

    def predict_arrays(self, raw_batch: Any) -> BatchPredictions:
        """Predictions for a batch in the chain's input format, as `Predictor.predict_arrays`
        gives them (codes: the most probable label; float32 probabilities)."""
        return self._predictions(self.run(graph_inputs(self.manifest, self.chain, raw_batch)))

    def _predictions(self, output: np.ndarray) -> BatchPredictions:
        if self.task == "classification":
            return BatchPredictions(codes=output.argmax(axis=1), probabilities=output)
        return BatchPredictions(values=output)

    def predict(
        self, inputs: Any, *, max_batch: int = MAX_BATCH, max_bytes: int = MAX_FILE_BYTES
    ) -> list[dict[str, Any]]:
        """One answer per input, as `Predictor.predict` answers: {"label", "probabilities"}
        or {"value"}; InputError for inputs that fail the signature's checks or give values
        that are not finite."""
        if self.takes_matrix:  # a table of numbers and categories: straight to the graph's matrix
            raw_batch = decode_table_matrix(
                self.signature,
                inputs,
                categories=self.categories,
                max_batch=max_batch,
                dtype=input_dtype(self.manifest),
                nullable=self.nullable_columns,
            )
        else:
            raw_batch = decode_inputs(
                self.signature,
                inputs,
                max_batch=max_batch,
                max_bytes=max_bytes,
                nullable=self.nullable_columns,
            )
        try:
            graph_input = graph_inputs(self.manifest, self.chain, raw_batch)
        except BrushInputError as error:
            raise InputError([FieldError("inputs", str(error))]) from error
        refuse_non_finite_rows(self._without_gaps(graph_input), message=NON_FINITE_FEATURES)
        return self._answers(self._predictions(self.run_checked(graph_input)))

    def _without_gaps(self, graph_input: np.ndarray) -> np.ndarray:
        """The graph's input with the accepted gaps (NaN in a table's nullable columns, which
        the graph fills) as 0, so that only what the graph cannot take is refused."""
        if self.manifest["input_kind"] != "table" or not self.nullable_columns:
            return graph_input
        columns = list(self.manifest["columns"])
        mask = np.zeros(graph_input.shape, dtype=bool)
        mask[:, [columns.index(name) for name in self.nullable_columns if name in columns]] = True
        return np.where(mask & np.isnan(graph_input), 0.0, graph_input)

    def _answers(self, predictions: BatchPredictions) -> list[dict[str, Any]]:
        if predictions.values is not None:
            return [{"value": float(value)} for value in predictions.values]
        names = self.label_names
        return [
            {
                "label": names[int(code)],
                "probabilities": {
                    name: float(probability) for name, probability in zip(names, row, strict=True)
                },
            }
            for code, row in zip(predictions.codes, predictions.probabilities, strict=True)
        ]
