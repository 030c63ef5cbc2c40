"""Feature benchmark: spectrograms, augmentation, and the feature store's hit against a miss.

    .venv/bin/python bench/features.py

Prints seconds of audio turned into log-mel spectrograms per second of wall time, images
augmented per second, and how much faster a feature-store hit is than computing the same
features (goal: at least 10x). Runs on a fresh SQLite studio in a temporary directory, with
the demo datasets (1,797 digit images, 320 synthesised clips). Medians of repeated runs.
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPEATS = 5


def _median_s(action, repeats: int = REPEATS) -> float:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def _setup_django(data_dir: str) -> None:
    os.environ["CANVASCRAFT_DATA_DIR"] = data_dir
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvascraft.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def spectrogram_speed(waves: list, sample_rate: int) -> float:
    """Seconds of audio turned into log-mel spectrograms per wall second."""
    from pipelines.brushes import brush_from_config

    brush = brush_from_config({"name": "audio_spectrogram", "params": {"sample_rate": sample_rate}})
    brush.fit(waves[:4])
    brush.transform(waves[:4])  # numba compiles (or loads its cache) once
    audio_s = sum(len(wave) for wave in waves) / sample_rate
    return audio_s / _median_s(lambda: brush.transform(waves))


def augmentation_speed(images) -> float:
    """Images augmented per second (default probabilities: flips, rotations, crops, jitter,
    noise), on float32 batches as the trainer feeds them."""
    from pipelines.brushes import brush_from_config

    brush = brush_from_config({"name": "image_augmenter", "params": {"random_state": 3}})
    brush.fit(images)
    return len(images) / _median_s(lambda: brush.transform(images))


def store_speedup(version, chain: list[dict]) -> tuple[float, float]:
    """(seconds to compute, seconds to load from the store) for one dataset and chain."""
    from pipelines.features import features_for
    from registry.models import FeatureSet

    def compute() -> None:
        FeatureSet.objects.filter(dataset_version=version).delete()
        assert features_for(version, chain).hit is False

    compute_s = _median_s(compute, repeats=3)
    features_for(version, chain)
    hit_s = _median_s(lambda: features_for(version, chain))
    return compute_s, hit_s


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="canvascraft-bench-") as data_dir:
        _setup_django(data_dir)
        from django.contrib.auth import get_user_model

        from gallery.demo_datasets import AUDIO_SAMPLE_RATE, digits_zip, timbres_zip
        from registry import services
        from registry.ingest.readers import read_audio, read_images

        owner = get_user_model().objects.create_user("bench", password="bench-password-1")
        _, digits = services.dataset_create(
            owner=owner,
            name="digits",
            modality="image",
            upload=io.BytesIO(digits_zip()),
            original_name="d.zip",
        )
        _, timbres = services.dataset_create(
            owner=owner,
            name="timbres",
            modality="audio",
            upload=io.BytesIO(timbres_zip()),
            original_name="t.zip",
        )
        from registry.dataset_selectors import version_file

        waves, _ = read_audio(
            version_file(timbres), timbres.manifest, sample_rate=AUDIO_SAMPLE_RATE
        )
        images, _ = read_images(version_file(digits), digits.manifest)
        import numpy as np

        batch = np.stack([image.reshape(image.shape[0], image.shape[1], -1) for image in images])
        batch = np.repeat(batch, 3 // batch.shape[-1], axis=3).astype(np.float32) / 255.0

        python = sys.version.split()[0]
        print(f"CanvasCraft feature benchmark — {os.cpu_count()} CPUs, Python {python}")
        audio_rate = spectrogram_speed(waves, AUDIO_SAMPLE_RATE)
        print(
            f"  log-mel spectrograms: {audio_rate:,.0f} s of audio per wall second "
            f"({len(waves)} clips, {sum(map(len, waves)) / AUDIO_SAMPLE_RATE:.0f} s, 64 mels)"
        )
        image_rate = augmentation_speed(batch)
        print(f"  image augmentation:   {image_rate:,.0f} images/s ({len(batch)} images 32x32x3)")

        chains = [
            (
                "digits",
                digits,
                [
                    {"name": "image_resize", "params": {"height": 32, "width": 32, "channels": 3}},
                    {"name": "image_normalize"},
                ],
            ),
            (
                "timbres",
                timbres,
                [{"name": "audio_spectrogram", "params": {"sample_rate": AUDIO_SAMPLE_RATE}}],
            ),
        ]
        all_met = True
        for label, version, chain in chains:
            compute_s, hit_s = store_speedup(version, chain)
            speedup = compute_s / hit_s
            all_met &= speedup >= 10
            print(
                f"  feature store, {label:8} compute {compute_s * 1000:7.0f} ms, hit "
                f"{hit_s * 1000:6.1f} ms -> {speedup:5.0f}x  (goal >= 10x)"
            )
        print("all goals met" if all_met else "some goals missed")


if __name__ == "__main__":
    main()
