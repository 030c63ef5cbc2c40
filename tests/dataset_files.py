"""Small dataset files built in memory for tests: tables, image ZIPs, audio ZIPs, bad ZIPs."""

from __future__ import annotations

import io
import stat
import zipfile

import numpy as np
import soundfile
from PIL import Image

IRIS_LIKE_CSV = (
    b"sepal_length,sepal_width,species\n"
    b"5.1,3.5,setosa\n4.9,3.0,setosa\n6.4,3.2,versicolor\n"
    b"6.9,3.1,versicolor\n6.3,3.3,virginica\n5.8,,virginica\n"
)


def png_bytes(
    colour: tuple[int, int, int], size: tuple[int, int] = (8, 8), fmt: str = "PNG"
) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format=fmt)
    return buffer.getvalue()


def wav_bytes(
    frequency: float, *, duration_s: float = 0.25, sample_rate: int = 8000, fmt: str = "WAV"
) -> bytes:
    time_s = np.arange(int(duration_s * sample_rate)) / sample_rate
    buffer = io.BytesIO()
    soundfile.write(
        buffer,
        (0.5 * np.sin(2 * np.pi * frequency * time_s)).astype(np.float32),
        sample_rate,
        format=fmt,
    )
    return buffer.getvalue()


def zip_bytes(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def image_zip(n_per_class: int = 3, classes: tuple[str, ...] = ("cats", "dogs")) -> bytes:
    colours = [(200, 40, 40), (40, 40, 200), (40, 200, 40)]
    return zip_bytes(
        [
            (f"{name}/{name}-{index}.png", png_bytes(colours[position % 3], (8 + index, 8)))
            for position, name in enumerate(classes)
            for index in range(n_per_class)
        ]
    )


def audio_zip(n_per_class: int = 2) -> bytes:
    return zip_bytes(
        [
            (f"{name}/{name}-{index}.wav", wav_bytes(frequency * (index + 1)))
            for name, frequency in (("low", 220.0), ("high", 880.0))
            for index in range(n_per_class)
        ]
    )


def symlink_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("cats/link.png")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


def bomb_zip(declared_bytes: int = 2**30) -> bytes:
    """A member that inflates to `declared_bytes` of zeros, written in chunks (a few MB zipped)."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
        archive.open("cats/bomb.png", "w", force_zip64=True) as member,
    ):
        chunk = b"\0" * (16 * 2**20)
        for _ in range(declared_bytes // len(chunk)):
            member.write(chunk)
    return buffer.getvalue()
