"""Publishing a run as a model version: what the version serves, worked out from the run.

The registry stores versions but knows nothing of brushes or templates; this module reads the
run's config, its dataset version and its saved model description, and hands the registry a
`VersionContent`: the input signature (what a prediction request must contain), the output
classes, the final metrics and the lineage (dataset version, run, brushes, template, params,
code version).

Once the version exists, it gets its ONNX export (`export_version_onnx`): the model with the
preprocessing ONNX can express, checked against the Python model, stored as two more files of
the version, with the outcome in `lineage["onnx"]`. The export is a bonus, never a condition:
whatever goes wrong with it is recorded and logged, and the version stands.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Collection
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from canvascraft.code_version import code_version
from pipelines.serving import InputSignature, signature_for
from pipelines.serving.onnx_runtime import MANIFEST_PATH, MODEL_PATH
from registry import artifact_store, services
from registry.errors import InvalidInput
from registry.models import Artifact, DatasetVersion, Modality, ModelVersion, Run

MODEL_DESCRIPTION = "model/model.json"
MAX_DESCRIPTION_BYTES = 5 * 1024 * 1024
MAX_MODEL_FILE_BYTES = 1024 * 1024 * 1024
MODEL_FILE_PREFIX = "model/"
ONNX_PATHS = (MODEL_PATH, MANIFEST_PATH)

logger = logging.getLogger("canvascraft.pipelines")


def publish_run(
    *,
    user: AbstractBaseUser,
    run: Run,
    name: str,
    description: str = "",
    visibility: str | None = None,
) -> ModelVersion:
    """Publishes `run` as the next version of model `name` (created on first use), then
    exports it to ONNX (see the module docstring; ~0.1 s for a small network, up to a second
    for a forest of hundreds of trees)."""
    services.published.check_publishable(user=user, run=run)
    content = version_content(run)
    version = services.model_version_create(
        user=user,
        name=name,
        run=run,
        content=content,
        description=description,
        visibility=visibility,
    )
    export_version_onnx(version)
    return version


def export_version_onnx(version: ModelVersion) -> dict[str, Any]:
    """(Re)exports `version` to ONNX: stores `model/model.onnx` and `model/onnx.json` when the
    export passes its check (replacing an earlier export), removes them when it does not, and
    records the outcome in `lineage["onnx"]` (`OnnxExport.summary()`: "status", "reason",
    "browser", "input_kind", "exact", "max_abs_diff", "sha256", "missing_allowed", ...), which
    it returns. Never raises: a failure is logged and recorded as "failed"."""
    from pipelines.serving.onnx_export import export_onnx

    try:
        export = export_onnx(version_model_files(version, leave_out=ONNX_PATHS), version.signature)
        summary = export.summary()
    except Exception as error:  # a damaged or missing stored file, or a bug: never fatal
        logger.exception("ONNX export of version %s failed", version.pk)
        summary = {"status": "failed", "reason": f"{type(error).__name__}: {error}"[:500]}
        summary.update(
            browser=False,
            input_kind=None,
            max_abs_diff=None,
            n_samples=None,
            export_s=None,
            sha256=None,
        )
        export = None
    if summary["status"] != "ready":
        logger.info("version %s has no ONNX export: %s", version.pk, summary["reason"])
    try:
        stored = services.published.model_version_add_files(
            version=version,
            files=export.files if export is not None else {},
            lineage={"onnx": summary},
            remove_paths=ONNX_PATHS,
        )
        version.lineage = stored.lineage
    except Exception:
        logger.exception("could not store the ONNX export of version %s", version.pk)
    return summary


def export_is_outdated(version: ModelVersion) -> bool:
    """Whether `version`'s ready export predates table exports recording their input dtype:
    a float32 graph, never exact, so `auto` leaves its trees to Python. Re-exporting (with
    `export_version_onnx`) makes it exact where the model allows."""
    onnx = (version.lineage or {}).get("onnx") or {}
    return onnx.get("status") == "ready" and "input_dtype" not in onnx


def version_model_files(
    version: ModelVersion,
    *,
    only: Collection[str] | None = None,
    leave_out: Collection[str] = (),
) -> dict[str, bytes]:
    """The version's `model/` files from the store (only `only`, if given; never `leave_out`),
    each checked against its sha256 (BlobDamaged if not): what is loaded is what was published.
    Hosts, the ONNX export and the 3-D view all read a version's model this way."""
    return {
        file.path: artifact_store.read_checked(file.sha256, max_bytes=MAX_MODEL_FILE_BYTES)
        for file in version.files.all()
        if file.path.startswith(MODEL_FILE_PREFIX)
        and (only is None or file.path in only)
        and file.path not in leave_out
    }


def version_content(run: Run) -> services.VersionContent:
    """Signature, classes, metrics and lineage of a succeeded run (InvalidInput when its dataset
    version or saved model is gone)."""
    config = run.config or {}
    version = (
        DatasetVersion.objects.select_related("dataset")
        .filter(pk=config.get("dataset_version"))
        .first()
    )
    if version is None:
        raise InvalidInput(f"run {run.pk}'s dataset version no longer exists", field="run")
    described = _model_description(run)
    modality = version.dataset.modality
    return services.VersionContent(
        modality=modality,
        task=str(config.get("task") or described.get("task")),
        signature=_signature(version, config).to_dict(),
        label_names=[str(name) for name in described.get("label_names", [])],
        metrics={key: value for key, value in (run.summary or {}).items()},
        lineage={
            "run": run.pk,
            "run_name": run.name,
            "experiment": run.experiment_id,
            "dataset": version.dataset_id,
            "dataset_name": version.dataset.name,
            "dataset_version": version.pk,
            "dataset_version_number": version.number,
            "dataset_sha256": version.sha256,
            "target": config.get("target"),
            "brushes": config.get("brushes", []),
            "template": config.get("template"),
            "params": described.get("params", config.get("params", {})),
            "seed": config.get("seed"),
            "code_version": code_version(),
        },
    )


def _model_description(run: Run) -> dict[str, Any]:
    artifact = Artifact.objects.filter(run=run, path=MODEL_DESCRIPTION).first()
    if artifact is None:
        raise InvalidInput(f"run {run.pk} has no saved model to publish", field="run")
    data = artifact_store.read_checked(artifact.sha256, max_bytes=MAX_DESCRIPTION_BYTES)
    described = json.loads(data)
    if not isinstance(described, dict):
        raise InvalidInput(f"run {run.pk}'s model description is damaged", field="run")
    return described


def _signature(version: DatasetVersion, config: dict[str, Any]) -> InputSignature:
    """What the version's requests must hold, from what ingest recorded about the dataset."""
    modality = version.dataset.modality
    chain_configs = config.get("brushes", [])
    manifest = version.manifest or []
    try:
        if modality == Modality.TABULAR:
            return signature_for(
                modality,
                table_columns=(version.schema or {}).get("columns", []),
                target=config.get("target"),
                chain_configs=chain_configs,
            )
        if modality == Modality.IMAGE:
            return signature_for(
                modality,
                image_sizes=[(entry["width"], entry["height"]) for entry in manifest],
                image_modes=[entry.get("mode", "RGB") for entry in manifest],
                chain_configs=chain_configs,
            )
        rates = Counter(entry.get("sample_rate") for entry in manifest)
        return signature_for(
            modality,
            sample_rate=version.sample_rate or (rates.most_common(1)[0][0] if rates else None),
            durations_s=[float(entry["duration_s"]) for entry in manifest if "duration_s" in entry],
            chain_configs=chain_configs,
        )
    except ValueError as error:
        raise InvalidInput(f"no input signature for this run: {error}", field="run") from None
