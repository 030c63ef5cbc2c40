"""Writes for sample outputs: what a run's model predicts on a few fixed examples, per epoch.

The picture (a PNG grid) and the clip (a WAV) become run artifacts under `samples/`; the items
and the files' addresses are announced on the run's live stream as a `sample` event, in the
same transaction, so a page that shows the newest sample event can always open its files.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, TypedDict

from django.db import transaction

from registry import streams
from registry.errors import Conflict, InvalidInput
from registry.models import Run, StreamEvent
from registry.services import live
from registry.services.artifacts import run_log_artifact
from registry.services.blobs import remove_unused_blobs
from registry.services.runs import ensure_open

SAMPLE_KINDS = ("image", "audio", "table")
MAX_SAMPLE_ITEMS = 16
MAX_SAMPLES_PER_RUN = 50
MAX_ITEM_FIELDS = 8
MAX_ITEM_KEY_CHARS = 40
MAX_ITEM_TEXT_CHARS = 200
MAX_SAMPLE_FILE_BYTES = 8 * 1024 * 1024
MAX_EPOCH = 1_000_000
# File kinds a sample may carry: suffix -> (content type, how the bytes must begin).
SAMPLE_FILE_TYPES = {".png": ("image/png", b"\x89PNG\r\n\x1a\n"), ".wav": ("audio/wav", b"RIFF")}


class SamplePayload(TypedDict):
    """The `sample` event: `url` is the picture's address, `audio_url` the clip's."""

    epoch: int
    kind: str
    items: list[dict[str, Any]]
    url: NotRequired[str]
    audio_url: NotRequired[str]
    columns: NotRequired[int]


def _check_value(value: Any, where: str) -> Any:
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInput(f"{where} must be a finite number or null", field="items")
        return value
    if isinstance(value, str):
        if len(value) > MAX_ITEM_TEXT_CHARS:
            raise InvalidInput(
                f"{where} must be at most {MAX_ITEM_TEXT_CHARS} characters", field="items"
            )
        return value
    raise InvalidInput(
        f"{where} must be text, a number, true/false or null, not {type(value).__name__}",
        field="items",
    )


def check_sample_items(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Items as stored: at most MAX_SAMPLE_ITEMS flat objects of short keys and JSON scalars
    (e.g. label, predicted, correct, confidence; or value, predicted, error)."""
    if isinstance(items, str | bytes) or not isinstance(items, Sequence):
        raise InvalidInput("items must be a list of objects", field="items")
    if len(items) > MAX_SAMPLE_ITEMS:
        raise InvalidInput(
            f"a sample shows at most {MAX_SAMPLE_ITEMS} items, got {len(items)}", field="items"
        )
    checked = []
    for position, item in enumerate(items):
        if not isinstance(item, Mapping) or len(item) > MAX_ITEM_FIELDS:
            raise InvalidInput(
                f"items[{position}] must be an object of at most {MAX_ITEM_FIELDS} fields",
                field="items",
            )
        clean = {}
        for key, value in item.items():
            if not isinstance(key, str) or not 0 < len(key) <= MAX_ITEM_KEY_CHARS:
                raise InvalidInput(
                    f"items[{position}] has a key that is not a name of 1 to "
                    f"{MAX_ITEM_KEY_CHARS} characters",
                    field="items",
                )
            clean[key] = _check_value(value, f"items[{position}].{key}")
        checked.append(clean)
    return checked


def _check_files(files: Mapping[str, bytes]) -> dict[str, tuple[bytes, str]]:
    """{suffix: (bytes, content type)}: at most one PNG and one WAV, each recognisably one."""
    checked: dict[str, tuple[bytes, str]] = {}
    for name, data in files.items():
        suffix = "." + str(name).rsplit(".", 1)[-1].lower() if "." in str(name) else ""
        if suffix not in SAMPLE_FILE_TYPES:
            raise InvalidInput(
                f"sample file {name!r}: only a .png picture and a .wav clip are kept",
                field="files",
            )
        content_type, magic = SAMPLE_FILE_TYPES[suffix]
        if suffix in checked:
            raise InvalidInput(f"a sample holds one {suffix} file at most", field="files")
        if not isinstance(data, bytes) or not data.startswith(magic):
            raise InvalidInput(f"sample file {name!r} is not a {suffix} file", field="files")
        if len(data) > MAX_SAMPLE_FILE_BYTES:
            raise InvalidInput(
                f"sample file {name!r} is larger than {MAX_SAMPLE_FILE_BYTES // 2**20} MiB",
                field="files",
            )
        checked[suffix] = (data, content_type)
    return checked


def _check_head(epoch: int, kind: str) -> None:
    if kind not in SAMPLE_KINDS:
        raise InvalidInput(
            f"kind must be one of {', '.join(SAMPLE_KINDS)}, got {kind!r}", field="kind"
        )
    if isinstance(epoch, bool) or not isinstance(epoch, int) or not 1 <= epoch <= MAX_EPOCH:
        raise InvalidInput(f"epoch must be a whole number from 1 (got {epoch!r})", field="epoch")


def run_log_sample(
    *,
    run: Run,
    epoch: int,
    kind: str,
    items: Sequence[Mapping[str, Any]],
    files: Mapping[str, bytes] | None = None,
    columns: int | None = None,
) -> SamplePayload:
    """Stores a sample of `epoch` (1-based) and announces it on the run's live stream.

    `files` ({name: bytes}) may hold one PNG (stored as `samples/epoch-<NNN>.png`, linked as the
    payload's `url`) and one WAV (`samples/epoch-<NNN>.wav`, `audio_url`); a later sample of the
    same epoch (a resumed run) replaces them. `columns` tells pages how many pictures a grid row
    holds. Locks the run row; refuses a finished run, a bad kind, epoch, item or file
    (`InvalidInput`), and a run that already has MAX_SAMPLES_PER_RUN samples (`Conflict`).
    Returns the announced payload.
    """
    _check_head(epoch, kind)
    clean_items = check_sample_items(items)
    checked_files = _check_files(files or {})
    if columns is not None and (isinstance(columns, bool) or not isinstance(columns, int)):
        raise InvalidInput("columns must be a whole number", field="columns")
    stored: set[str] = set()
    try:
        with transaction.atomic():
            locked = Run.objects.select_for_update().only("id", "status").get(pk=run.pk)
            ensure_open(locked)
            stream = streams.run_stream(run.pk)
            n_samples = StreamEvent.objects.filter(stream__name=stream, type="sample").count()
            if n_samples >= MAX_SAMPLES_PER_RUN:
                raise Conflict(f"run {run.pk} already has {MAX_SAMPLES_PER_RUN} samples")
            payload: SamplePayload = {"epoch": epoch, "kind": kind, "items": clean_items}
            if columns is not None:
                payload["columns"] = max(1, min(columns, MAX_SAMPLE_ITEMS))
            for suffix, (data, content_type) in checked_files.items():
                artifact = run_log_artifact(
                    run=locked,
                    path=f"samples/epoch-{epoch:03d}{suffix}",
                    stream=io.BytesIO(data),
                    content_type=content_type,
                )
                stored.add(artifact.sha256)
                address = f"/api/v1/runs/{run.pk}/artifacts/{artifact.pk}/"
                payload["url" if suffix == ".png" else "audio_url"] = address
            live.announce_sample(run.pk, payload)
    except BaseException:
        remove_unused_blobs(stored)  # bytes of a rolled-back sample, unless shared
        raise
    return payload
