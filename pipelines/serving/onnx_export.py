"""Exporting a published model to ONNX, with the preprocessing ONNX can express, checked.

`export_onnx(files, signature)` builds one graph (opset 17, input `input` of the manifest's
`input_dtype`, output `output` float32) and its manifest (`model/onnx.json`, format 1;
docs/models.md), and checks it: at least 16 inputs go through both the Python `Predictor` and
ONNX Runtime, and the export is refused (no model bytes, a reason) when a probability differs
by more than 1e-4 or a label differs. It is marked `exact` when the graph computes what Python
computes (the same float32 features, bit for bit, and trees that compare in float64 as
scikit-learn does) and the check found the same labels and probabilities within
EXACT_TOLERANCE: only the float32 rounding of the output differs. What the graph takes
(`input_kind`):

- `table`: the signature's columns in order as float64 (JSON's numbers): numbers (booleans
  0/1), and for a column one_hot encodes (the manifest's `categories`) the position of its
  value's text in the brush's category list (-1 unseen, NaN missing). Scalers, imputation and
  one_hot run inside the graph, in float64 as in Python, then the features become float32
  (also a second output, `features`). A browser can run it.
- `image`: pixel values 0..255, (N, H, W, C), after the caller has converted the channels and
  resized as image_resize does; the division by 255 and image_normalize run inside the graph.
- `features`: the Python chain's output (audio spectrograms, a text column no one_hot
  encodes, any other brush ONNX cannot express run before the graph): server only.

The output is the probabilities in `label_names` order (softmax and temperature of
`TrainedModel.predict_proba` included), or regression values in the target's units.
Plain Python, no Django; nothing is unpickled (the model loads through `Predictor.from_files`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pipelines.serving.errors import ModelLoadError
from pipelines.serving.onnx_runtime import (
    MANIFEST_FORMAT,
    MANIFEST_PATH,
    MODEL_PATH,
    OnnxPredictor,
    image_resize_of,
    session_for,
)
from pipelines.serving.onnx_samples import raw_samples
from pipelines.serving.predictor import Predictor
from pipelines.serving.signature import InputSignature

logger = logging.getLogger("canvascraft.serving")

N_CHECK_SAMPLES = 16
TOLERANCE = 1e-4
# An exact export's probabilities differ from Python's float64 ones by the float32 rounding of
# the graph's output and of its last operations (a few float32 ulps of 1: ~1e-7).
EXACT_TOLERANCE = 1e-6
MAX_REASON_CHARS = 500


@dataclass(frozen=True)
class OnnxExport:
    """An export's outcome. `status` is "ready" (`model_bytes` and `manifest` are set and
    checked), "unavailable" (the model cannot be expressed in ONNX; `reason` says why) or
    "failed" (an error, or the check refused it; `reason` says what)."""

    model_bytes: bytes | None
    manifest: dict[str, Any]
    reason: str
    status: str = "ready"
    export_s: float = 0.0
    check: dict[str, Any] = field(default_factory=dict)
    # The table columns a request may send as null (`gaps`), known once the model loaded.
    missing_allowed: list[str] | None = None

    @property
    def files(self) -> dict[str, bytes]:
        """{path: bytes} to store beside the version's other files; {} unless ready."""
        if self.model_bytes is None:
            return {}
        manifest = json.dumps(self.manifest, indent=2, allow_nan=False).encode()
        return {MODEL_PATH: self.model_bytes, MANIFEST_PATH: manifest}

    def summary(self) -> dict[str, Any]:
        """What a version records about its export (`lineage["onnx"]`)."""
        return {
            "status": self.status,
            "reason": self.reason,
            "browser": bool(self.manifest.get("browser", {}).get("supported", False)),
            "input_kind": self.manifest.get("input_kind"),
            "input_dtype": self.manifest.get("input_dtype"),
            "exact": bool(self.manifest.get("exact", False)),
            "max_abs_diff": self.check.get("max_abs_diff"),
            "n_samples": self.check.get("n_samples"),
            "export_s": round(self.export_s, 3),
            "sha256": hashlib.sha256(self.model_bytes).hexdigest() if self.model_bytes else None,
            "missing_allowed": self.missing_allowed,
        }


class ExportRefused(Exception):
    """The export was built but does not agree with the Python model."""


def export_onnx(
    files: Mapping[str, bytes],
    signature: InputSignature | dict[str, Any],
    *,
    samples: Any = None,
    n_samples: int = N_CHECK_SAMPLES,
    seed: int = 0,
) -> OnnxExport:
    """The version's ONNX export, checked on `samples` (raw inputs in the chain's input format,
    e.g. the run's test split) or on `n_samples` synthesised ones. Never raises for a model
    that cannot be exported: the outcome says so."""
    from pipelines.serving.onnx_models import ConversionFailed, NotExportable

    started = time.perf_counter()
    manifest: dict[str, Any] = {}
    missing_allowed: list[str] | None = None
    try:
        predictor = Predictor.from_files(files, signature)
        missing_allowed = list(predictor.nullable_columns)
        plan = plan_for(predictor)
        manifest = plan.manifest
        model = build_graph(predictor, plan)
        model_bytes = model.SerializeToString()
        if samples is None:
            generator = np.random.default_rng(seed)
            samples = raw_samples(
                predictor.signature, predictor.chain, predictor.model, n_samples, generator
            )
        check = check_against(predictor, model_bytes, manifest, samples)
        manifest["check"] = check
        manifest["exact"] = plan.exact and is_exact_core(model) and check_is_exact(check)
    except NotExportable as error:
        return _outcome("unavailable", str(error), manifest, started, missing_allowed)
    except (ModelLoadError, ExportRefused, ConversionFailed) as error:
        return _outcome("failed", str(error), manifest, started, missing_allowed)
    except Exception as error:  # an exporter's or runtime's own error: recorded, never raised
        logger.warning("ONNX export failed", exc_info=True)
        reason = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        return _outcome("failed", reason[:MAX_REASON_CHARS], manifest, started, missing_allowed)
    return OnnxExport(
        model_bytes=model_bytes,
        manifest=manifest,
        reason="",
        export_s=time.perf_counter() - started,
        check=check,
        missing_allowed=missing_allowed,
    )


def _outcome(
    status: str,
    reason: str,
    manifest: dict[str, Any],
    started: float,
    missing_allowed: list[str] | None,
) -> OnnxExport:
    return OnnxExport(
        model_bytes=None,
        manifest=manifest,
        reason=reason[:MAX_REASON_CHARS],
        status=status,
        export_s=time.perf_counter() - started,
        check=manifest.get("check", {}),
        missing_allowed=missing_allowed,
    )


@dataclass
class Plan:
    """What the graph takes and what runs inside it: the manifest (without its check) and the
    preprocessing graph (None: the core takes the input as it is). `exact`: the core's input
    is bit for bit `Predictor.features` (a float64 table graph, or the Python chain's output)."""

    manifest: dict[str, Any]
    preprocessing: Any = None
    exact: bool = False


def plan_for(predictor: Predictor) -> Plan:
    """The input kind and preprocessing graph for the predictor's signature and brushes."""
    from pipelines.serving import onnx_plans
    from pipelines.serving.onnx_graphs import FEATURES, OPSET

    signature, chain, model = predictor.signature, predictor.chain, predictor.model
    manifest: dict[str, Any] = {
        "format": MANIFEST_FORMAT,
        "opset": OPSET,
        "input": "input",
        "output": "output",
        "input_shape": [None, *model.input_shape],
        "input_kind": "features",
        "input_dtype": "float32",
        "task": model.task,
        "label_names": list(model.label_names),
        "browser": {"supported": False, "reason": ""},
    }
    if signature.modality == "tabular":
        preprocessing, reason = onnx_plans.table_plan(signature, chain, model)
        if reason is None:
            manifest["input_kind"] = "table"
            manifest["input_dtype"] = "float64"
            manifest["features_output"] = FEATURES
            manifest["columns"] = signature.column_names
            manifest["input_shape"] = [None, len(signature.columns)]
            manifest["missing_allowed"] = list(predictor.nullable_columns)
            manifest["categories"] = onnx_plans.table_categories(signature, chain)
    elif signature.modality == "image":
        preprocessing, reason = onnx_plans.image_plan(signature, chain)
        if reason is None:
            manifest["input_kind"] = "image"
            manifest["input_shape"] = [None, signature.height, signature.width, signature.channels]
            manifest["image"] = onnx_plans.image_description(signature, image_resize_of(chain))
    else:
        preprocessing, reason = None, onnx_plans.first_python_brush(chain, "audio")
    manifest["browser"] = {"supported": reason is None, "reason": reason or ""}
    # An image graph takes pixel values that the server scales back from image_resize's [0, 1]
    # (x * 255 / 255 need not give x back in float32): close, not bit for bit.
    exact = manifest["input_kind"] in ("table", "features")
    return Plan(manifest=manifest, preprocessing=preprocessing, exact=exact)


def build_graph(predictor: Predictor, plan: Plan) -> Any:
    """Preprocessing, core and head as one checked ONNX model."""
    from pipelines.serving import onnx_graphs, onnx_models

    model = predictor.model
    parts = []
    if plan.preprocessing is not None:
        parts.append((plan.preprocessing, onnx_graphs.INPUT, onnx_graphs.FEATURES))
    if model.family == "torch":
        parts.append(
            (
                onnx_models.torch_core(model.network, model.input_shape),
                onnx_graphs.FEATURES,
                onnx_graphs.RAW,
            )
        )
        head = (
            onnx_graphs.softmax_head(model.n_classes)
            if model.task == "classification"
            else onnx_graphs.regression_head(model.target_mean, model.target_std)
        )
    else:
        if len(model.input_shape) > 1:
            parts.append(
                (onnx_graphs.flattening(model.input_shape), onnx_graphs.INPUT, onnx_graphs.FEATURES)
            )
        n_features = int(np.prod(model.input_shape))
        core, codes = onnx_models.sklearn_core(model.estimator, n_features, model.task)
        parts.append((core, onnx_graphs.FEATURES, onnx_graphs.RAW))
        head = (
            onnx_graphs.probability_head(codes, model.n_classes)
            if model.task == "classification"
            else onnx_graphs.regression_head(model.target_mean, model.target_std)
        )
    parts.append((head, onnx_graphs.RAW, onnx_graphs.OUTPUT))
    return onnx_graphs.chain(
        parts,
        doc_string=f"CanvasCraft {model.template_name} model",
        features_output="features_output" in plan.manifest,
    )


def is_exact_core(model: Any) -> bool:
    """Whether the graph's trees (if any) compare in float64, as scikit-learn's do."""
    from pipelines.serving.onnx_trees import compares_in_float64

    return compares_in_float64(model)


def check_is_exact(check: Mapping[str, Any]) -> bool:
    """Whether the check saw the same labels (ties included) and probabilities or values within
    EXACT_TOLERANCE (relative past 1 for values)."""
    return (
        bool(check.get("labels_identical"))
        and check.get("exact_diff") is not None
        and (check["exact_diff"] <= EXACT_TOLERANCE)
    )


def check_against(
    predictor: Predictor, model_bytes: bytes, manifest: dict[str, Any], samples: Any
) -> dict[str, Any]:
    """The check figures of the export against the Python predictor on `samples`; raises
    ExportRefused when they are out of tolerance."""
    onnx_predictor = OnnxPredictor(
        session=session_for(model_bytes),
        manifest=manifest,
        signature=predictor.signature,
        chain=predictor.chain,
    )
    expected = predictor.predict_arrays(samples)
    found = onnx_predictor.predict_arrays(samples)
    if predictor.task == "classification":
        reference = np.asarray(expected.probabilities, dtype=np.float64)
        output = np.asarray(found.probabilities, dtype=np.float64)
        differences = np.abs(output - reference)
        labels_agree = _labels_agree(expected.codes, found.codes, reference)
        labels_identical = bool(np.array_equal(expected.codes, found.codes))
        within = float(differences.max(initial=0.0)) <= TOLERANCE
        relative = differences
    else:
        reference = np.asarray(expected.values, dtype=np.float64)
        output = np.asarray(found.values, dtype=np.float64)
        differences = np.abs(output - reference)
        labels_agree = labels_identical = True
        # Values in the target's units: float32 keeps ~7 digits, so a price of 1,500 is only
        # known to ~1e-4; the tolerance is relative past 1.
        relative = differences / np.maximum(1.0, np.abs(reference))
        within = bool((relative <= TOLERANCE).all())
    finite = bool(np.isfinite(output).all() and np.isfinite(reference).all())
    check = {
        "n_samples": len(reference),
        "max_abs_diff": float(differences.max(initial=0.0)) if finite else None,
        "tolerance": TOLERANCE,
        "labels_agree": labels_agree,
        "labels_identical": labels_identical,
        # Relative past 1 for values, like the tolerance; what `exact` is judged on.
        "exact_diff": float(relative.max(initial=0.0)) if finite else None,
    }
    if not (finite and within and labels_agree):
        manifest["check"] = check
        raise ExportRefused(
            f"the ONNX model disagrees with the Python model on {len(reference)} check inputs "
            f"(max abs diff {check['max_abs_diff']}, tolerance {TOLERANCE:g}, labels agree: "
            f"{labels_agree})"
        )
    return check


def _labels_agree(expected: np.ndarray, found: np.ndarray, probabilities: np.ndarray) -> bool:
    """Whether each ONNX label is the Python label, counting a tie as agreement: where the two
    labels' Python probabilities are within the tolerance, either is a right answer (a forest
    of 20 trees ties often, and summing in another order may break the tie the other way)."""
    rows = np.arange(len(expected))
    gap = probabilities[rows, expected] - probabilities[rows, found]
    return bool(((expected == found) | (np.abs(gap) <= TOLERANCE)).all())
