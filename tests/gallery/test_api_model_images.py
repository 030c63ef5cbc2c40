"""Predictions of a published image model: base64 file bytes in, the same classes and
probabilities as the run's own model on the same picture out; pictures that are not images or
are too large are refused at their field."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from gallery.demo_datasets import digits_zip
from pipelines.runner import execute_run
from pipelines.serving import Predictor
from registry import services
from registry.models import Run
from tests.gallery.test_api_models import run_files


def png_of_digit(seed: int, size: int = 32) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = (rng.random((size, size)) * 255).astype(np.uint8)
    pixels[:, size // 2 - 2 : size // 2 + 2] = 255  # a bar, roughly a "1"
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(buffer, format="PNG")
    return buffer.getvalue()


def encoded(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def digits_model(owner, owner_client, experiment):
    _dataset, version = services.dataset_create(
        owner=owner,
        name="digits",
        modality="image",
        upload=io.BytesIO(digits_zip()),
        original_name="digits.zip",
    )
    config = {
        "dataset_version": version.pk,
        "task": "classification",
        "template": "mlp",
        "params": {"epochs": 2, "hidden_units": 32},
        "device": "cpu",
    }
    run_id = owner_client.post(
        "/api/v1/runs/", {"experiment": experiment.pk, "config": config}, format="json"
    ).json()["id"]
    assert execute_run(run_id) == "succeeded", Run.objects.get(pk=run_id).error_text
    assert owner_client.post("/api/v1/models/digits/versions/", {"run": run_id}).status_code == 201
    owner_client.post("/api/v1/models/digits/aliases/", {"alias": "production", "version": 1})
    return run_id


@pytest.mark.django_db(transaction=True)
def test_an_image_model_answers_like_the_run_model_for_any_size(digits_model, owner_client):
    pictures = [png_of_digit(0), png_of_digit(1, size=28), png_of_digit(2, size=64)]

    answer = owner_client.post(
        "/api/v1/models/digits/predict/",
        {
            "inputs": [
                encoded(pictures[0]),
                f"data:image/png;base64,{encoded(pictures[1])}",
                encoded(pictures[2]),
            ]
        },
        format="json",
    )

    assert answer.status_code == 200, answer.content
    files = run_files(digits_model)
    version = owner_client.get("/api/v1/models/digits/versions/1/").json()
    assert version["signature"]["modality"] == "image" and version["signature"]["resizes"]
    predictor = Predictor.from_files(files, version["signature"])
    expected = predictor.predict([encoded(picture) for picture in pictures])
    for got, want in zip(answer.json()["predictions"], expected, strict=True):
        assert got["label"] == want["label"]
        assert np.allclose(
            list(got["probabilities"].values()), list(want["probabilities"].values()), atol=1e-4
        )
    assert sorted(answer.json()["predictions"][0]["probabilities"]) == [str(n) for n in range(10)]


@pytest.mark.django_db(transaction=True)
def test_not_an_image_and_a_ten_megabyte_image_are_refused(
    digits_model, owner_client, assert_error
):
    noise = np.random.default_rng(0).integers(0, 255, (2000, 1800, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, format="BMP")  # BMP keeps all ~10.8 MB
    huge = buffer.getvalue()
    assert len(huge) > 10_000_000

    response = owner_client.post(
        "/api/v1/models/digits/predict/",
        {"inputs": [encoded(b"not a picture at all"), encoded(huge)]},
        format="json",
    )

    body = assert_error(response, 400, "invalid", field="inputs[0]")
    assert "not an image" in " ".join(body["errors"]["inputs[0]"])
    assert "MiB" in " ".join(body["errors"]["inputs[1]"]) or "MB" in " ".join(
        body["errors"]["inputs[1]"]
    )
