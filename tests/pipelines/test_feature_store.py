"""The feature store: computed once per (content, chain), reused by later runs, purgeable."""

from __future__ import annotations

import io
from datetime import timedelta
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command
from django.utils import timezone

from pipelines.features import features_for
from registry import artifact_store, services
from registry.errors import InvalidInput
from registry.models import FeatureSet, RunFeatureUse
from tests import dataset_files

TABLE_CHAIN = [
    {"name": "impute", "params": {"strategy": "mean"}},
    {"name": "standard_scaler"},
]
IMAGE_CHAIN = [
    {"name": "image_resize", "params": {"height": 8, "width": 8, "channels": 3}},
    {"name": "image_normalize"},
    {"name": "image_augmenter", "params": {"random_state": 1}},
]


@pytest.fixture
def table_version(owner):
    _dataset, version = services.dataset_create(
        owner=owner,
        name="iris",
        modality="tabular",
        upload=io.BytesIO(dataset_files.IRIS_LIKE_CSV),
        original_name="iris.csv",
    )
    return version


@pytest.fixture
def image_version(owner):
    _dataset, version = services.dataset_create(
        owner=owner,
        name="pets",
        modality="image",
        upload=io.BytesIO(dataset_files.image_zip(3)),
        original_name="pets.zip",
    )
    return version


def test_a_miss_computes_and_stores_then_a_later_run_hits_with_identical_features(
    table_version, run
):
    first = features_for(table_version, TABLE_CHAIN, target="species", run=run)
    second = features_for(table_version, TABLE_CHAIN, target="species", run=run)

    assert (first.hit, second.hit) == (False, True)
    assert first.feature_set.pk == second.feature_set.pk
    np.testing.assert_array_equal(first.features, second.features)
    assert first.features.shape == (6, 2)
    assert first.feature_names == ["sepal_length", "sepal_width"]
    assert first.label_names == ["setosa", "versicolor", "virginica"]
    assert first.labels.tolist() == [0, 0, 1, 1, 2, 2]
    # The missing sepal width was imputed with the mean, then everything standardised.
    np.testing.assert_allclose(first.features.mean(axis=0), [0, 0], atol=1e-6)
    uses = list(RunFeatureUse.objects.filter(run=run).order_by("id").values_list("hit", flat=True))
    assert uses == [False, True]
    stored = FeatureSet.objects.get()
    assert stored.n_hits == 1 and stored.n_samples == 6 and stored.feature_shape == [2]


def test_another_target_or_another_chain_is_another_entry(table_version):
    features_for(table_version, TABLE_CHAIN, target="species")
    other_chain = [{"name": "impute"}, {"name": "min_max_scaler"}]
    assert features_for(table_version, other_chain, target="species").hit is False
    with_categories = [{"name": "impute"}, {"name": "one_hot"}, {"name": "standard_scaler"}]
    by_length = features_for(table_version, with_categories, target="sepal_length")
    by_width = features_for(table_version, with_categories, target="sepal_width")
    assert (by_length.hit, by_width.hit) == (False, False)
    assert "sepal_width" in by_length.feature_names and "sepal_length" in by_width.feature_names
    assert FeatureSet.objects.count() == 4


def test_training_only_brushes_do_not_change_the_key_and_come_back_fitted(image_version):
    first = features_for(image_version, IMAGE_CHAIN)
    other_seed = [*IMAGE_CHAIN[:2], {"name": "image_augmenter", "params": {"random_state": 99}}]
    second = features_for(image_version, other_seed)

    assert second.hit is True
    assert first.features.shape == (6, 8, 8, 3)
    assert first.label_names == ["cats", "dogs"]
    augmented = second.augment(second.features)
    assert augmented.shape == second.features.shape
    assert not np.array_equal(augmented, second.features)
    assert [brush.name for brush in second.chain] == [
        "image_resize",
        "image_normalize",
        "image_augmenter",
    ]


def test_a_table_left_non_numeric_by_its_brushes_is_refused_and_nothing_is_stored(
    table_version,
):
    with pytest.raises(InvalidInput, match="species"):
        features_for(table_version, [{"name": "impute"}])
    assert FeatureSet.objects.count() == 0


def test_purge_removes_unused_entries_and_their_files_but_keeps_what_runs_trained_on(
    table_version, run
):
    used = features_for(table_version, TABLE_CHAIN, target="species", run=run).feature_set
    unused = features_for(
        table_version, [{"name": "impute"}, {"name": "min_max_scaler"}], target="species"
    ).feature_set
    FeatureSet.objects.update(last_used_at=timezone.now() - timedelta(days=40))

    dry = StringIO()
    call_command("purge_features", "--days", "30", "--dry-run", stdout=dry)
    assert "1 feature sets; would free" in dry.getvalue()
    assert FeatureSet.objects.count() == 2

    call_command("purge_features", "--days", "30", stdout=StringIO())
    assert list(FeatureSet.objects.values_list("pk", flat=True)) == [used.pk]
    assert not artifact_store.blob_path(unused.blob_sha256).exists()
    assert artifact_store.blob_path(used.blob_sha256).exists()


def test_the_run_page_shows_whether_its_features_were_a_store_hit(table_version, run, client):
    features_for(table_version, TABLE_CHAIN, target="species")
    features_for(table_version, TABLE_CHAIN, target="species", run=run)
    client.force_login(run.experiment.owner)

    page = client.get(f"/runs/{run.pk}/").content.decode()

    assert "from the feature store" in page
    assert "iris v1" in page and "impute → standard_scaler" in page
    assert 'badge-succeeded">hit<' in page
