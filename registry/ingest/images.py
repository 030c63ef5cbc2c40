"""Image datasets: a ZIP of PNG, JPEG or WebP files, optionally sorted into class folders.

The format is read from the bytes by Pillow, never from the extension. The pixel count is read
from the header and checked before any pixel is decoded, then the whole image is decoded, because
only a full decode finds a truncated file.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections import Counter
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from registry.ingest.errors import IngestRejected, UndecodableMember
from registry.ingest.hashing import manifest_sha256
from registry.ingest.layout import class_counts, unlabelled_count
from registry.ingest.limits import IngestLimits
from registry.ingest.media import build_manifest
from registry.ingest.result import IngestResult

ACCEPTED_FORMATS = ("PNG", "JPEG", "WEBP")
# What Pillow's decoders raise on damaged data; anything else is a bug worth a traceback.
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error)


def ingest_images(path: Path, *, limits: IngestLimits) -> IngestResult:
    """Check every image of the archive and describe the dataset."""
    manifest = build_manifest(path, probe=probe_image, limits=limits, noun="images")
    return IngestResult(
        sha256=manifest_sha256(manifest),
        size_bytes=path.stat().st_size,
        file_format="zip",
        n_samples=len(manifest),
        schema=describe_images(manifest),
        manifest=manifest,
    )


def probe_image(data: bytes, member_path: str, limits: IngestLimits) -> dict:
    """width, height and mode of a fully decoded image; refuses a pixel bomb before decoding."""
    try:
        image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except Image.DecompressionBombError as error:  # Pillow's own, far higher, limit
        raise IngestRejected(
            f'image "{member_path}" is over the {limits.max_image_pixels:,}-pixel limit'
        ) from error
    except (UnidentifiedImageError, *DECODE_ERRORS) as error:
        raise UndecodableMember("not a PNG, JPEG or WebP image") from error
    with image:
        width, height = image.size
        if width * height > limits.max_image_pixels:
            raise IngestRejected(
                f'image "{member_path}" is {width}x{height} pixels, '
                f"over the {limits.max_image_pixels:,}-pixel limit"
            )
        image_format = "WebP" if image.format == "WEBP" else image.format
        try:
            image.load()
        except DECODE_ERRORS as error:
            is_truncated = "truncated" in str(error) or isinstance(error, EOFError)
            reason = f"truncated {image_format}" if is_truncated else f"broken {image_format}"
            raise UndecodableMember(reason) from error
        return {"width": width, "height": height, "mode": image.mode}


def describe_images(manifest: list[dict]) -> dict:
    """Classes, sizes and colour modes, for the dataset page and for choosing a model input."""
    widths = [entry["width"] for entry in manifest]
    heights = [entry["height"] for entry in manifest]
    modes = Counter(entry["mode"] for entry in manifest)
    return {
        "kind": "images",
        "classes": class_counts(manifest),
        "n_unlabelled": unlabelled_count(manifest),
        "width": {"min": min(widths), "max": max(widths)},
        "height": {"min": min(heights), "max": max(heights)},
        "modes": {mode: modes[mode] for mode in sorted(modes)},
    }
