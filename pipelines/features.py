"""The feature store's compute side: features for (dataset version, brush chain), made once.

`features_for` looks the pair up by (content hash, chain hash); a hit loads the stored arrays and
the fitted chain, a miss reads the samples, fits the chain's deterministic brushes, stores both
and records the use on the run. Training-only brushes (augmentation) are never cached: the
trainer applies them per epoch on top of these features.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pandas.api.types import is_numeric_dtype

from pipelines.brushes import BrushChain
from registry import artifact_store, dataset_selectors, services
from registry.errors import InvalidInput
from registry.models import DatasetVersion, FeatureSet, Modality, Run

# Bump when the stored layout changes, so old entries are not read with new code.
FEATURE_FORMAT_VERSION = 1


@dataclass
class Features:
    """Arrays ready for training, with where they came from."""

    features: np.ndarray
    labels: np.ndarray  # integer class codes; -1 where a sample has no label
    label_names: list[str]
    feature_names: list[str]
    chain: BrushChain
    feature_set: FeatureSet
    hit: bool
    seconds: float

    def augment(self, batch: np.ndarray) -> np.ndarray:
        """Applies the chain's training-only brushes (augmentation) to a batch of features;
        a new draw on every call, so each epoch sees other variations."""
        for brush in self.chain:
            if brush.training_only:
                batch = brush.transform(batch)
        return batch


def feature_key(chain: BrushChain, *, target: str | None, fit_key: str = "all") -> str:
    """The store key of a chain's cacheable part, for one target column (tables), fitted on the
    samples `fit_key` names ("all", or a training split's own key)."""
    payload = {
        "chain": chain.deterministic_config_hash(),
        "target": target,
        "fit": fit_key,
        "format": FEATURE_FORMAT_VERSION,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


MAX_CLASSES = 1000


def _encode_labels(raw_labels: list) -> tuple[np.ndarray, list[str]]:
    """Class codes in sorted-name order; a column of more than MAX_CLASSES distinct values is
    no class label (a regression target): its codes are all -1."""
    names = sorted({str(label) for label in raw_labels if label is not None})
    if len(names) > MAX_CLASSES:
        return np.full(len(raw_labels), -1, dtype=np.int64), []
    code_of = {name: code for code, name in enumerate(names)}
    codes = np.array(
        [-1 if label is None else code_of[str(label)] for label in raw_labels], dtype=np.int64
    )
    return codes, names


def raw_labels(version: DatasetVersion, target: str | None) -> list:
    """Each sample's label (class name, target value or None), without decoding any sample."""
    if version.dataset.modality != Modality.TABULAR:
        return [item["label"] for item in version.manifest]
    from registry.ingest.readers import read_table

    table = read_table(dataset_selectors.version_file(version), version.schema)
    if target not in table.columns:
        raise InvalidInput(f"no column {target!r} in {version}", field="target")
    return [None if value != value else value for value in table[target].tolist()]


def raw_samples(version: DatasetVersion, target: str | None) -> tuple[object, list, list[str]]:
    """(brush input, raw labels, feature names) of a version, read from the store."""
    from registry.ingest.readers import read_audio, read_images, read_table

    path = dataset_selectors.version_file(version)
    modality = version.dataset.modality
    if modality == Modality.TABULAR:
        table = read_table(path, version.schema)
        labels: list = [None] * len(table)
        if target is not None:
            if target not in table.columns:
                raise InvalidInput(f"no column {target!r} in {version}", field="target")
            labels = [
                None if value is None or value != value else value for value in table.pop(target)
            ]
        return table, labels, [str(column) for column in table.columns]
    if target is not None:
        raise InvalidInput("a target column applies to tables only", field="target")
    if modality == Modality.IMAGE:
        images, labels = read_images(path, version.manifest)
        return images, labels, []
    waves, labels = read_audio(path, version.manifest, sample_rate=version.sample_rate)
    return waves, labels, []


def _as_matrix(transformed) -> tuple[np.ndarray, list[str]]:
    """Brush output as float32; a table must be all-numeric by the end of the chain."""
    if hasattr(transformed, "columns"):
        non_numeric = [
            str(column)
            for column, dtype in transformed.dtypes.items()
            if not is_numeric_dtype(dtype)
        ]
        if non_numeric:
            raise InvalidInput(
                f"column {non_numeric[0]!r} is not numeric after the brushes; add one_hot "
                "(categories) or impute (missing values)",
                field="brushes",
            )
        names = [str(column) for column in transformed.columns]
        return transformed.to_numpy(dtype=np.float32), names
    return np.asarray(transformed, dtype=np.float32), []


def _subset(raw, indices: np.ndarray):
    if hasattr(raw, "iloc"):
        return raw.iloc[indices]
    return [raw[index] for index in indices]


def _compute(
    version: DatasetVersion,
    chain: BrushChain,
    key: str,
    target: str | None,
    fit_on: np.ndarray | None,
) -> tuple[FeatureSet, float]:
    started = time.perf_counter()
    raw, raw_labels, _ = raw_samples(version, target)
    labels, label_names = _encode_labels(raw_labels)
    if fit_on is None:
        chain.fit(raw, labels)
    else:
        # Brushes learn from the training split only, so validation and test stay unseen.
        chain.fit(_subset(raw, fit_on), labels[fit_on])
    features, feature_names = _as_matrix(chain.transform(raw, training=False))
    compute_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory(dir=artifact_store.staging_dir()) as folder:
        features_path = Path(folder) / "features.npz"
        chain_path = Path(folder) / "chain.zip"
        np.savez(
            features_path,
            features=features,
            labels=labels,
            label_names=np.array(label_names, dtype=np.str_),
            feature_names=np.array(feature_names, dtype=np.str_),
        )
        chain_path.write_bytes(chain.deterministic_part.to_bytes())
        feature_set = services.feature_set_store(
            dataset_version=version,
            chain_hash=key,
            chain_config=chain.config(),
            files=services.FeatureFiles(
                features_path=features_path,
                chain_path=chain_path,
                n_samples=len(features),
                feature_shape=tuple(features.shape[1:]),
                compute_s=compute_s,
            ),
        )
    return feature_set, compute_s


def _load(feature_set: FeatureSet, chain_config: list[dict]) -> tuple[dict, BrushChain]:
    """The stored arrays and the chain to train with: the stored, fitted deterministic brushes
    followed by the request's training-only brushes (their seeds may differ from the run that
    computed the features), fitted on the stored features."""
    with np.load(artifact_store.blob_path(feature_set.blob_sha256), allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    chain_bytes = artifact_store.blob_path(feature_set.chain_blob_sha256).read_bytes()
    fitted = BrushChain.from_bytes(chain_bytes)
    training_brushes = [
        brush for brush in BrushChain.from_config(chain_config) if brush.training_only
    ]
    for brush in training_brushes:
        brush.fit(arrays["features"])
    return arrays, BrushChain([*fitted, *training_brushes])


def features_for(
    version: DatasetVersion,
    chain_config: list[dict],
    *,
    target: str | None = None,
    run: Run | None = None,
    fit_on: np.ndarray | None = None,
    fit_key: str = "all",
) -> Features:
    """Features of a dataset version under a brush chain, from the store when it has them.

    `fit_on` (sample indices, named by `fit_key`) restricts what the brushes learn from, e.g.
    to a training split; every sample is transformed either way.
    """
    if (fit_on is None) != (fit_key == "all"):
        raise ValueError("fit_on and fit_key go together")
    chain = BrushChain.from_config(chain_config)
    key = feature_key(chain, target=target, fit_key=fit_key)
    started = time.perf_counter()
    feature_set = FeatureSet.objects.filter(dataset_sha256=version.sha256, chain_hash=key).first()
    hit = feature_set is not None
    if feature_set is None:
        feature_set, _ = _compute(version, chain, key, target, fit_on)
    arrays, fitted_chain = _load(feature_set, chain_config)
    seconds = time.perf_counter() - started
    services.feature_set_record_use(feature_set=feature_set, run=run, hit=hit, load_s=seconds)
    return Features(
        features=arrays["features"],
        labels=arrays["labels"],
        label_names=[str(name) for name in arrays["label_names"]],
        feature_names=[str(name) for name in arrays["feature_names"]],
        chain=fitted_chain,
        feature_set=feature_set,
        hit=hit,
        seconds=seconds,
    )
