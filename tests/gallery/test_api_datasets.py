"""The dataset API: uploads of every modality, versions, refusals that leave nothing behind,
and who sees what."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from registry.models import Dataset, DatasetVersion
from tests import dataset_files


@pytest.fixture(scope="session")
def bomb() -> bytes:
    return dataset_files.bomb_zip()


def upload(client, name: str, modality: str, data: bytes, file_name: str, **extra):
    return client.post(
        "/api/v1/datasets/",
        {"name": name, "modality": modality, "file": SimpleUploadedFile(file_name, data), **extra},
        format="multipart",
    )


def stored_files(data_dir: Path) -> list[Path]:
    """Every file under the artifact store, staging included."""
    root = data_dir / "artifacts"
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def test_a_csv_upload_becomes_a_dataset_with_its_first_version(owner_client):
    response = upload(owner_client, "iris", "tabular", dataset_files.IRIS_LIKE_CSV, "iris.csv")

    assert response.status_code == 201, response.content
    body = response.json()
    latest = body["latest_version"]
    assert body["name"] == "iris" and body["modality"] == "tabular"
    assert latest["n_samples"] == 6
    assert len(latest["sha256"]) == 64
    columns = {column["name"]: column for column in latest["schema"]["columns"]}
    assert set(columns) == {"sepal_length", "sepal_width", "species"}
    assert columns["sepal_width"]["n_missing"] == 1
    assert columns["species"]["type"] == "categorical"


def test_an_image_zip_upload_counts_its_classes(owner_client):
    response = upload(owner_client, "pets", "image", dataset_files.image_zip(3), "pets.zip")

    assert response.status_code == 201, response.content
    latest = response.json()["latest_version"]
    assert latest["n_samples"] == 6
    assert latest["schema"]["classes"] == [
        {"name": "cats", "count": 3},
        {"name": "dogs", "count": 3},
    ]


def test_an_audio_zip_upload_counts_its_classes_and_rate(owner_client):
    response = upload(owner_client, "tones", "audio", dataset_files.audio_zip(2), "tones.zip")

    assert response.status_code == 201, response.content
    latest = response.json()["latest_version"]
    assert latest["n_samples"] == 4
    assert latest["sample_rate"] == 8000
    assert [item["name"] for item in latest["schema"]["classes"]] == ["high", "low"]


def test_the_same_bytes_again_reuse_the_version_and_new_bytes_add_one(owner_client):
    dataset_id = upload(owner_client, "pets", "image", dataset_files.image_zip(2), "a.zip").json()[
        "id"
    ]
    versions_url = f"/api/v1/datasets/{dataset_id}/versions/"

    again = owner_client.post(
        versions_url,
        {"file": SimpleUploadedFile("a.zip", dataset_files.image_zip(2))},
        format="multipart",
    )
    new = owner_client.post(
        versions_url,
        {"file": SimpleUploadedFile("b.zip", dataset_files.image_zip(3))},
        format="multipart",
    )

    assert again.status_code == 200 and again.json()["number"] == 1
    assert new.status_code == 201 and new.json()["number"] == 2
    assert [item["number"] for item in owner_client.get(versions_url).json()] == [2, 1]
    assert DatasetVersion.objects.filter(dataset_id=dataset_id).count() == 2


@pytest.mark.parametrize(
    ("members", "words"),
    [
        ([("../evil.png", dataset_files.png_bytes((1, 2, 3)))], ".."),
        ([("/etc/evil.png", dataset_files.png_bytes((1, 2, 3)))], "absolute"),
        (
            [
                ("cats/ok.png", dataset_files.png_bytes((1, 2, 3))),
                ("cats/cut.png", dataset_files.png_bytes((9, 9, 9), (64, 64))[:60]),
            ],
            "cats/cut.png",
        ),
    ],
    ids=["dot-dot", "absolute", "truncated-png"],
)
def test_bad_image_archives_are_refused_naming_the_problem_and_leave_nothing(
    owner_client, data_dir, assert_error, members, words
):
    response = upload(owner_client, "bad", "image", dataset_files.zip_bytes(members), "bad.zip")

    body = assert_error(response, 400, "invalid", field="file")
    assert words in body["detail"]
    assert Dataset.objects.count() == 0 and DatasetVersion.objects.count() == 0
    assert stored_files(data_dir) == []


def test_a_symlink_member_is_refused(owner_client, data_dir, assert_error):
    response = upload(owner_client, "links", "image", dataset_files.symlink_zip(), "links.zip")

    body = assert_error(response, 400, "invalid", field="file")
    assert "link" in body["detail"]
    assert Dataset.objects.count() == 0 and stored_files(data_dir) == []


def test_a_zip_bomb_is_refused_without_inflating_it_to_disk(
    owner_client, data_dir, assert_error, bomb
):
    response = upload(owner_client, "bomb", "image", bomb, "bomb.zip")

    body = assert_error(response, 400, "invalid", field="file")
    assert "limit" in body["detail"]
    assert Dataset.objects.count() == 0 and stored_files(data_dir) == []


def test_a_non_audio_file_named_wav_is_refused_by_name(owner_client, data_dir, assert_error):
    members = [
        ("low/real.wav", dataset_files.wav_bytes(220.0)),
        ("low/fake.wav", b"RIFF? not really audio"),
    ]

    response = upload(owner_client, "tones", "audio", dataset_files.zip_bytes(members), "t.zip")

    body = assert_error(response, 400, "invalid", field="file")
    assert "low/fake.wav" in body["detail"]
    assert Dataset.objects.count() == 0 and stored_files(data_dir) == []


def test_an_upload_over_the_size_limit_is_refused_before_it_is_kept(
    owner_client, settings, data_dir, assert_error
):
    settings.MAX_DATASET_BYTES = 1024
    response = upload(owner_client, "big", "tabular", b"a,b\n" + b"1,2\n" * 1000, "big.csv")

    assert response.status_code in (400, 413)
    assert "limit" in response.json()["detail"]
    assert Dataset.objects.count() == 0 and stored_files(data_dir) == []


def test_a_duplicate_name_is_a_conflict_and_stores_nothing_new(
    owner_client, data_dir, assert_error
):
    upload(owner_client, "iris", "tabular", dataset_files.IRIS_LIKE_CSV, "iris.csv")
    files_before = stored_files(data_dir)

    response = upload(owner_client, "iris", "tabular", b"x,y\n1,2\n", "other.csv")

    assert_error(response, 409, "conflict")
    assert Dataset.objects.count() == 1 and stored_files(data_dir) == files_before


def test_private_datasets_are_invisible_to_others_and_public_ones_are_read_only(
    owner_client, stranger_client, anonymous_client, assert_error
):
    private_id = upload(
        owner_client, "mine", "tabular", dataset_files.IRIS_LIKE_CSV, "a.csv"
    ).json()["id"]
    public_id = upload(
        owner_client, "shared", "tabular", b"x,y\n1,2\n3,4\n", "b.csv", visibility="public"
    ).json()["id"]

    assert_error(stranger_client.get(f"/api/v1/datasets/{private_id}/"), 404, "not_found")
    assert stranger_client.get(f"/api/v1/datasets/{public_id}/").status_code == 200
    assert [item["id"] for item in stranger_client.get("/api/v1/datasets/").json()["results"]] == [
        public_id
    ]
    refused = stranger_client.post(
        f"/api/v1/datasets/{public_id}/versions/",
        {"file": SimpleUploadedFile("c.csv", b"x,y\n5,6\n")},
        format="multipart",
    )
    assert_error(refused, 404, "not_found")
    assert_error(stranger_client.delete(f"/api/v1/datasets/{public_id}/"), 404, "not_found")
    assert anonymous_client.get("/api/v1/datasets/").status_code == 401
    assert DatasetVersion.objects.filter(dataset_id=public_id).count() == 1


def test_relabelling_makes_a_new_version_and_leaves_the_old_one_alone(owner_client):
    body = upload(owner_client, "pets", "image", dataset_files.image_zip(2), "pets.zip").json()
    dataset_id, version_id = body["id"], body["latest_version"]["id"]
    old = DatasetVersion.objects.get(pk=version_id)

    response = owner_client.post(
        f"/api/v1/datasets/{dataset_id}/versions/{version_id}/labels/",
        {"labels": {"cats/cats-0.png": "lions"}, "note": "spotted a lion"},
        format="json",
    )

    assert response.status_code == 201, response.content
    new = response.json()
    assert new["number"] == 2 and new["parent"] == version_id
    assert {"name": "lions", "count": 1} in new["schema"]["classes"]
    old.refresh_from_db()
    assert {"name": "cats", "count": 2} in old.schema["classes"]
    assert (
        next(item for item in old.manifest if item["path"] == "cats/cats-0.png")["label"] == "cats"
    )


def test_brushes_are_listed_with_their_config_schema(anonymous_client):
    brushes = {brush["name"]: brush for brush in anonymous_client.get("/api/v1/brushes/").json()}

    for name in (
        "standard_scaler",
        "min_max_scaler",
        "one_hot",
        "impute",
        "image_resize",
        "image_normalize",
        "image_augmenter",
        "audio_spectrogram",
        "audio_mfcc",
    ):
        assert brushes[name]["config_schema"]["type"] == "object"
    assert brushes["image_augmenter"]["training_only"] is True
