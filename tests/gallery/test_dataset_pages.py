"""Dataset pages: uploading (plain and XHR), who sees what, samples, annotation, bounded queries.

Files are built in memory (tests/dataset_files.py) and go through the real services and ingest;
assertions read the context the views pass, the stored rows, and text any template shows.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from pytest_django.asserts import assertContains, assertNotContains, assertTemplateUsed

from registry import services
from registry.models import Dataset, DatasetVersion
from tests.dataset_files import (
    IRIS_LIKE_CSV,
    audio_zip,
    image_zip,
    png_bytes,
    wav_bytes,
    zip_bytes,
)

pytestmark = pytest.mark.django_db
XHR = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}


def upload(data: bytes, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def create(owner, modality: str, data: bytes, name: str, **extra):
    return services.dataset_create(
        owner=owner,
        name=name,
        modality=modality,
        upload=io.BytesIO(data),
        original_name=f"{name}.{'csv' if modality == 'tabular' else 'zip'}",
        **extra,
    )


def stored_blobs(data_dir: Path) -> list[Path]:
    root = data_dir / "artifacts"
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def flat_image_zip() -> bytes:
    """Four unlabelled images at the top of the archive."""
    colours = [(250, 120, 80), (90, 60, 220), (30, 170, 140), (240, 190, 40)]
    return zip_bytes([(f"img-{i}.png", png_bytes(colour)) for i, colour in enumerate(colours)])


@pytest.fixture
def table(owner):
    return create(owner, "tabular", IRIS_LIKE_CSV, "iris")


@pytest.fixture
def images(owner):
    return create(owner, "image", image_zip(), "pets")


@pytest.fixture
def sounds(owner):
    return create(owner, "audio", audio_zip(), "tones")


@pytest.fixture
def public_images(owner):
    return create(owner, "image", image_zip(), "shared pets", visibility="public")


# ---------- upload ----------
def new_dataset_form(**overrides) -> dict:
    form = {
        "name": "iris",
        "modality": "tabular",
        "description": "flowers",
        "visibility": "private",
        "note": "first export",
        "file": upload(IRIS_LIKE_CSV, "iris.csv"),
    }
    return {**form, **overrides}


def test_the_upload_page_offers_the_three_kinds(owner_pages):
    response = owner_pages.get("/datasets/new/")

    assertTemplateUsed(response, "gallery/datasets/new.html")
    for text in ("CSV or Parquet", "ZIP of PNG, JPEG or WebP", "ZIP of WAV, FLAC or OGG"):
        assertContains(response, text)
    assertContains(response, "data-upload-progress")


def test_uploading_a_csv_through_the_page_creates_a_dataset_and_redirects(owner_pages, owner):
    response = owner_pages.post("/datasets/new/", new_dataset_form())

    dataset = Dataset.objects.get()
    version = dataset.versions.get()
    assert (dataset.owner, dataset.name, dataset.modality) == (owner, "iris", "tabular")
    assert (dataset.description, dataset.visibility) == ("flowers", "private")
    assert (version.number, version.n_samples, version.note) == (1, 6, "first export")
    assert version.original_name == "iris.csv"
    assert response.status_code == 302
    assert response["Location"] == f"/datasets/{dataset.pk}/?version={version.pk}"
    page = owner_pages.get(response["Location"])
    assertContains(page, "Dataset “iris” uploaded: 6 rows.")
    assertContains(page, "sepal_length")


def test_the_xhr_upload_answers_json_with_the_redirect(owner_pages):
    response = owner_pages.post("/datasets/new/", new_dataset_form(), **XHR)

    version = DatasetVersion.objects.get()
    assert response.status_code == 200
    assert response.json() == {"redirect": f"/datasets/{version.dataset_id}/?version={version.pk}"}


def test_a_refused_upload_shows_the_message_and_stores_nothing(owner_pages, data_dir):
    bad = new_dataset_form(modality="image", file=upload(b"not,a,zip\n1,2,3\n", "pets.zip"))

    response = owner_pages.post("/datasets/new/", bad)

    assert response.status_code == 400
    assertTemplateUsed(response, "gallery/datasets/new.html")
    message = response.context["form"].errors["file"][0]
    assert message
    assertContains(response, "This upload was refused", status_code=400)
    assertContains(response, message, status_code=400)
    assert response.context["form"]["name"].value() == "iris"  # what was typed stays
    assert not Dataset.objects.exists()
    assert not DatasetVersion.objects.exists()
    assert stored_blobs(data_dir) == []


def test_a_refused_xhr_upload_answers_400_with_field_errors(owner_pages, data_dir):
    bad = new_dataset_form(file=upload(png_bytes((1, 2, 3)), "iris.csv"))

    response = owner_pages.post("/datasets/new/", bad, **XHR)

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == ["file"]
    assert errors["file"][0]
    assert not Dataset.objects.exists()
    assert stored_blobs(data_dir) == []


def test_a_second_dataset_with_the_same_name_is_a_name_error(owner_pages, table):
    response = owner_pages.post("/datasets/new/", new_dataset_form(), **XHR)

    assert response.status_code == 400
    assert response.json() == {"errors": {"name": ["you already have a dataset named 'iris'"]}}
    assert Dataset.objects.count() == 1


def test_an_upload_declared_larger_than_the_limit_is_refused_unread(owner_pages, settings):
    settings.MAX_DATASET_BYTES = 1024
    big = new_dataset_form(file=upload(IRIS_LIKE_CSV * 1000, "iris.csv"))

    response = owner_pages.post("/datasets/new/", big, **XHR)

    assert response.status_code == 400
    assert "limited to 1 KiB" in response.json()["errors"]["file"][0]
    assert not Dataset.objects.exists()


def test_a_missing_file_is_a_form_error(owner_pages):
    form = new_dataset_form()
    del form["file"]

    response = owner_pages.post("/datasets/new/", form)

    assert response.status_code == 400
    assert "file" in response.context["form"].errors
    assert not Dataset.objects.exists()


# ---------- versions ----------
def test_the_owner_adds_a_version_and_the_same_file_again_adds_nothing(owner_pages, table):
    dataset, _first = table
    bigger = IRIS_LIKE_CSV + b"7.7,2.6,virginica\n"
    url = f"/datasets/{dataset.pk}/versions/new/"

    response = owner_pages.post(url, {"file": upload(bigger, "iris2.csv"), "note": "more"}, **XHR)

    second = dataset.versions.get(number=2)
    assert (second.n_samples, second.note, second.parent) == (7, "more", None)
    assert response.json() == {"redirect": f"/datasets/{dataset.pk}/?version={second.pk}"}
    again = owner_pages.post(url, {"file": upload(bigger, "copy.csv")})
    assert again.status_code == 302
    assert dataset.versions.count() == 2
    page = owner_pages.get(again["Location"])
    assertContains(page, "same data as version 2")


def test_a_refused_version_rerenders_its_form(owner_pages, images, data_dir):
    dataset, _version = images
    blobs_before = stored_blobs(data_dir)

    response = owner_pages.post(
        f"/datasets/{dataset.pk}/versions/new/", {"file": upload(IRIS_LIKE_CSV, "pets.zip")}
    )

    assert response.status_code == 400
    assertTemplateUsed(response, "gallery/datasets/version_new.html")
    assert response.context["form"].errors["file"]
    assert dataset.versions.count() == 1
    assert stored_blobs(data_dir) == blobs_before


# ---------- who sees what ----------
def test_anonymous_visitors_are_sent_to_log_in(client, images):
    dataset, version = images
    for url in (
        "/datasets/",
        "/datasets/new/",
        f"/datasets/{dataset.pk}/",
        f"/datasets/{dataset.pk}/versions/{version.pk}/samples/0/",
        f"/datasets/{dataset.pk}/versions/{version.pk}/annotate/",
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/"), url


def test_others_get_404_for_a_private_dataset(other_pages, images):
    dataset, version = images
    base = f"/datasets/{dataset.pk}"
    for url in (
        f"{base}/",
        f"{base}/versions/new/",
        f"{base}/versions/{version.pk}/samples/0/",
        f"{base}/versions/{version.pk}/samples/0/thumbnail.png",
        f"{base}/versions/{version.pk}/annotate/",
    ):
        assert other_pages.get(url).status_code == 404, url
    assert other_pages.post(f"{base}/versions/new/").status_code == 404
    assert dataset.name not in other_pages.get("/datasets/").content.decode()


def test_others_see_a_public_dataset_but_cannot_upload_or_annotate(other_pages, public_images):
    dataset, version = public_images
    base = f"/datasets/{dataset.pk}"

    page = other_pages.get(f"{base}/")
    assert page.status_code == 200
    assert page.context["is_owner"] is False
    assertNotContains(page, "Add a version")
    assertNotContains(page, "/annotate/")
    assert other_pages.get(f"{base}/versions/{version.pk}/samples/0/").status_code == 200
    assert other_pages.get(f"{base}/versions/new/").status_code == 404
    relabel = json.dumps({"labels": {"cats/cats-0.png": "dogs"}})
    annotate = f"{base}/versions/{version.pk}/annotate/"
    assert other_pages.get(annotate).status_code == 404
    assert other_pages.post(annotate, relabel, content_type="application/json").status_code == 404
    upload_attempt = other_pages.post(
        f"{base}/versions/new/", {"file": upload(image_zip(4), "more.zip")}
    )
    assert upload_attempt.status_code == 404
    assert dataset.versions.count() == 1


def test_a_version_of_another_dataset_is_404(owner_pages, images, sounds):
    dataset, _version = images
    _other, other_version = sounds

    response = owner_pages.get(f"/datasets/{dataset.pk}/?version={other_version.pk}")

    assert response.status_code == 404


# ---------- list ----------
def test_the_list_shows_own_and_public_datasets_and_filters(owner_pages, table, sounds, stranger):
    theirs, _ = create(stranger, "image", image_zip(), "their pets", visibility="public")
    create(stranger, "image", image_zip(2), "their secret")

    def names(**query) -> set[str]:
        response = owner_pages.get("/datasets/", query)
        return {dataset.name for dataset in response.context["page"].object_list}

    assert names() == {"iris", "tones", "their pets"}
    assert names(scope="mine") == {"iris", "tones"}
    assert names(scope="public") == {"their pets"}
    assert names(modality="audio") == {"tones"}
    assert names(scope="mine", modality="image") == set()
    cards = owner_pages.get("/datasets/").context["page"].object_list
    iris = next(card for card in cards if card.name == "iris")
    assert (iris.n_versions, iris.latest_n_samples) == (1, 6)
    assert iris.latest_size_bytes == len(IRIS_LIKE_CSV)
    assert theirs.pk in {card.pk for card in cards}


def test_an_empty_list_invites_an_upload(owner_pages):
    response = owner_pages.get("/datasets/")

    assertContains(response, "No datasets yet")
    assertContains(response, "/datasets/new/")


@pytest.mark.parametrize("n_datasets", [2, 6])
def test_the_list_costs_the_same_queries_whatever_the_number_of_datasets(
    owner_pages, owner, django_assert_num_queries, n_datasets
):
    for index in range(n_datasets):
        create(owner, "tabular", IRIS_LIKE_CSV + f"5.0,3.0,s{index}\n".encode(), f"t{index}")

    # session, user, count, the page of datasets with their latest version's figures
    with django_assert_num_queries(4):
        response = owner_pages.get("/datasets/")

    assert len(response.context["page"].object_list) == n_datasets


# ---------- previews ----------
def test_the_table_preview_shows_columns_types_missing_and_histograms(owner_pages, table):
    dataset, version = table

    response = owner_pages.get(f"/datasets/{dataset.pk}/")

    assert response.context["version"] == version
    columns = response.context["preview"]["table"]["columns"]
    assert [(c["name"], c["type"], c["n_missing"]) for c in columns] == [
        ("sepal_length", "float", 0),
        ("sepal_width", "float", 1),
        ("species", "categorical", 0),
    ]
    assert len(columns[0]["bars"]) == 10
    assert [bar["count"] for bar in columns[2]["top"]] == [2, 2, 2]
    assert response.context["preview"]["table"]["target"]["name"] == "species"
    assertContains(response, '<svg class="histogram"', count=2)
    assertContains(response, "virginica")


def test_the_image_preview_shows_class_balance_and_thumbnails(owner_pages, images):
    dataset, version = images

    response = owner_pages.get(f"/datasets/{dataset.pk}/")

    preview = response.context["preview"]
    assert [(bar["name"], bar["count"]) for bar in preview["balance"]] == [("cats", 3), ("dogs", 3)]
    assert [group["name"] for group in preview["groups"]] == ["cats", "dogs"]
    thumbnail = f"/datasets/{dataset.pk}/versions/{version.pk}/samples/3/thumbnail.png"
    assertContains(response, thumbnail)
    assertContains(response, f"/datasets/{dataset.pk}/versions/{version.pk}/annotate/")


def test_the_audio_preview_has_players_and_spectrograms(owner_pages, sounds):
    dataset, version = sounds

    response = owner_pages.get(f"/datasets/{dataset.pk}/")

    assertContains(response, "<audio controls", count=4)
    assertContains(response, f"/datasets/{dataset.pk}/versions/{version.pk}/samples/0/")
    assertContains(response, "8,000 Hz")


def test_an_older_version_is_shown_on_request(owner_pages, table):
    dataset, first = table
    services.dataset_version_add(
        dataset=dataset,
        upload=io.BytesIO(IRIS_LIKE_CSV + b"7.7,2.6,virginica\n"),
        created_by=dataset.owner,
        original_name="iris2.csv",
    )

    latest = owner_pages.get(f"/datasets/{dataset.pk}/")
    older = owner_pages.get(f"/datasets/{dataset.pk}/", {"version": first.pk})

    assert latest.context["version"].number == 2
    assert older.context["version"] == first
    assert older.context["preview"]["table"]["n_rows"] == 6


@pytest.mark.parametrize("n_versions", [1, 5])
def test_the_dataset_page_costs_the_same_queries_whatever_the_number_of_versions(
    owner_pages, images, django_assert_num_queries, n_versions
):
    dataset, version = images
    for index in range(n_versions - 1):
        services.dataset_version_relabel(
            version=version,
            labels={"cats/cats-0.png": f"class{index}"},
            created_by=dataset.owner,
        )

    # session, user, dataset, versions, the version shown (with its manifest)
    with django_assert_num_queries(5):
        response = owner_pages.get(f"/datasets/{dataset.pk}/")

    assert len(response.context["versions"]) == n_versions


# ---------- samples ----------
def test_a_sample_is_served_as_stored_with_its_type_and_cached_for_good(owner_pages, images):
    dataset, version = images
    expected = image_zip()  # the fixture's bytes are deterministic
    with zipfile.ZipFile(io.BytesIO(expected)) as archive:
        first = archive.read(version.manifest[0]["path"])

    response = owner_pages.get(f"/datasets/{dataset.pk}/versions/{version.pk}/samples/0/")

    assert response.status_code == 200
    assert response.content == first
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "private, max-age=31536000, immutable"


def test_an_audio_sample_is_a_wav_and_its_thumbnail_a_spectrogram(owner_pages, sounds):
    dataset, version = sounds
    base = f"/datasets/{dataset.pk}/versions/{version.pk}/samples/1"

    clip = owner_pages.get(f"{base}/")
    picture = owner_pages.get(f"{base}/thumbnail.png")

    assert clip["Content-Type"] == "audio/wav"
    assert clip.content[:4] == b"RIFF"
    assert len(clip.content) == version.manifest[1]["size_bytes"]
    assert picture["Content-Type"] == "image/png"
    assert picture.content.startswith(b"\x89PNG")
    assert picture["Cache-Control"] == "private, max-age=31536000, immutable"


def test_an_image_thumbnail_is_a_png(owner_pages, images):
    dataset, version = images

    response = owner_pages.get(
        f"/datasets/{dataset.pk}/versions/{version.pk}/samples/2/thumbnail.png"
    )

    assert response["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")


def test_a_sample_past_the_end_or_of_a_table_is_404(owner_pages, images, table):
    dataset, version = images
    table_dataset, table_version = table

    past = owner_pages.get(f"/datasets/{dataset.pk}/versions/{version.pk}/samples/6/")
    of_table = owner_pages.get(
        f"/datasets/{table_dataset.pk}/versions/{table_version.pk}/samples/0/"
    )

    assert past.status_code == 404
    assert of_table.status_code == 404


def test_a_sample_named_without_an_extension_is_sniffed(owner_pages, owner):
    dataset, version = create(
        owner, "audio", zip_bytes([("a", wav_bytes(440.0)), ("b", wav_bytes(660.0))]), "bare"
    )

    response = owner_pages.get(f"/datasets/{dataset.pk}/versions/{version.pk}/samples/0/")

    assert response["Content-Type"] == "audio/wav"


# ---------- annotate ----------
def annotate_url(dataset, version) -> str:
    return f"/datasets/{dataset.pk}/versions/{version.pk}/annotate/"


def test_the_annotator_lists_unlabelled_samples_first(owner_pages, owner):
    dataset, version = create(owner, "image", flat_image_zip(), "loose")
    labelled, _ = services.dataset_version_relabel(
        version=version, labels={"img-0.png": "warm", "img-2.png": "cool"}, created_by=owner
    )

    response = owner_pages.get(annotate_url(dataset, labelled))

    data = response.context["annotate_data"]
    assert [sample["path"] for sample in data["samples"]] == [
        "img-1.png",
        "img-3.png",
        "img-0.png",
        "img-2.png",
    ]
    assert data["classes"] == ["cool", "warm"]
    assertContains(response, 'id="annotate-data"')
    only = owner_pages.get(annotate_url(dataset, labelled), {"only": "unlabelled"})
    assert [s["index"] for s in only.context["annotate_data"]["samples"]] == [1, 3]
    warm = owner_pages.get(annotate_url(dataset, labelled), {"only": "warm"})
    assert [s["path"] for s in warm.context["annotate_data"]["samples"]] == ["img-0.png"]


def test_saving_labels_creates_a_new_version_and_leaves_the_old_one(owner_pages, owner):
    dataset, version = create(owner, "image", flat_image_zip(), "loose")
    body = {"labels": {"img-0.png": "warm", "img-1.png": "cool"}, "note": "first pass"}

    response = owner_pages.post(
        annotate_url(dataset, version), json.dumps(body), content_type="application/json"
    )

    created = dataset.versions.get(number=2)
    assert response.status_code == 302
    assert response["Location"] == f"/datasets/{dataset.pk}/?version={created.pk}"
    assert created.parent == version
    assert created.note == "first pass"
    assert created.created_by == owner
    assert {item["path"]: item["label"] for item in created.manifest} == {
        "img-0.png": "warm",
        "img-1.png": "cool",
        "img-2.png": None,
        "img-3.png": None,
    }
    version.refresh_from_db()
    assert all(item["label"] is None for item in version.manifest)
    assert version.schema["n_unlabelled"] == 4
    page = owner_pages.get(response["Location"])
    assertContains(page, "Labels saved as version 2.")
    assertContains(page, "relabelled from v1")


def test_saving_labels_from_the_page_script_answers_json(owner_pages, images):
    dataset, version = images
    body = json.dumps({"labels": {"cats/cats-0.png": "dogs"}})

    response = owner_pages.post(
        annotate_url(dataset, version), body, content_type="application/json", **XHR
    )

    created = dataset.versions.get(number=2)
    assert response.json() == {"redirect": f"/datasets/{dataset.pk}/?version={created.pk}"}
    assert created.schema["classes"] == [{"name": "cats", "count": 2}, {"name": "dogs", "count": 4}]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"labels": {"cats/cats-0.png": "a/b"}}, "labels"),
        ({"labels": {"nowhere.png": "dogs"}}, "labels"),
        ({"labels": {}}, "labels"),
        ({"labels": {"cats/cats-0.png": 3}}, "labels"),
        ({"note": "no labels"}, "labels"),
    ],
)
def test_bad_labels_are_refused_and_nothing_is_saved(owner_pages, images, body, field):
    dataset, version = images

    response = owner_pages.post(
        annotate_url(dataset, version), json.dumps(body), content_type="application/json", **XHR
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert dataset.versions.count() == 1


def test_a_body_that_is_not_json_is_refused(owner_pages, images):
    dataset, version = images

    response = owner_pages.post(
        annotate_url(dataset, version), b"labels=1", content_type="text/plain", **XHR
    )

    assert response.status_code == 400
    assert dataset.versions.count() == 1


def test_tables_have_no_annotator(owner_pages, table):
    dataset, version = table

    assert owner_pages.get(annotate_url(dataset, version)).status_code == 404
    assertNotContains(owner_pages.get(f"/datasets/{dataset.pk}/"), "/annotate/")
