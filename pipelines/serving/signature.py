"""InputSignature: what one prediction input must be for a published model.

A model is trained on samples in the shape the dataset's readers produce (table rows with typed
columns, images of some size and colour, mono clips at the dataset's rate). The signature records
that shape when the model is published, so requests are checked against it, and pages and the API
can tell people what to send. It is stored as JSON beside the model version; `from_dict` trusts
nothing it reads.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image

from pipelines.brushes import BrushChain, BrushConfig

MODALITIES = ("tabular", "image", "audio")
# The column types that ingest records (registry/ingest/table_schema.py `classify`).
COLUMN_TYPES = ("integer", "float", "boolean", "datetime", "categorical", "text")
IMAGE_FORMATS_TEXT = "PNG, JPEG, GIF, BMP or WebP"
AUDIO_FORMATS_TEXT = "WAV, FLAC or OGG"
# Sizes read "32 times 32" with the multiplication sign; written by name, as linters flag it.
TIMES = "\N{MULTIPLICATION SIGN}"
# describe() names this many columns, then counts the rest: a 1,000-column table is no sentence.
DESCRIBED_COLUMNS = 12

_KEYS_OF_MODALITY = {
    "tabular": {"modality", "columns"},
    "image": {"modality", "width", "height", "channels", "resizes"},
    "audio": {"modality", "sample_rate", "duration_s"},
}


@dataclass(frozen=True)
class ColumnSpec:
    """One input column: its name in the table and its ingest type (one of COLUMN_TYPES)."""

    name: str
    type: str

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"a column name is non-empty text, got {self.name!r}")
        if self.type not in COLUMN_TYPES:
            raise ValueError(
                f"column {self.name!r} has type {self.type!r}; expected one of "
                f"{', '.join(COLUMN_TYPES)}"
            )


def size_text(width: int | None, height: int | None) -> str:
    """An image size as people write it, width first, with the multiplication sign."""
    return f"{width}{TIMES}{height}"


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class InputSignature:
    """The input a model takes, for one modality; the other modalities' fields stay unset.

    tabular: `columns` in the table's order (the training target left out).
    image: `width` x `height` with `channels` (1 grey, 3 colour) the model was trained at;
    `resizes` is True when the brush chain starts with image_resize, so an image of any size is
    accepted, and False when a request image must be exactly width x height.
    audio: `sample_rate` (Hz) every clip is resampled to, and `duration_s`, the clip length the
    model was trained on (None when unknown); much longer clips are refused.
    """

    modality: str
    columns: tuple[ColumnSpec, ...] = ()
    width: int | None = None
    height: int | None = None
    channels: int | None = None
    resizes: bool = False
    sample_rate: int | None = None
    duration_s: float | None = None

    def __post_init__(self) -> None:
        if self.modality not in MODALITIES:
            raise ValueError(
                f"modality must be one of {', '.join(MODALITIES)}, got {self.modality!r}"
            )
        object.__setattr__(self, "columns", tuple(self.columns or ()))
        set_fields = {
            name
            for name in ("columns", "width", "height", "channels", "sample_rate", "duration_s")
            if getattr(self, name) not in (None, ())
        }
        if self.resizes:
            set_fields.add("resizes")
        foreign = sorted(set_fields - _KEYS_OF_MODALITY[self.modality])
        if foreign:
            raise ValueError(f"the signature of {self.modality} inputs has no {', '.join(foreign)}")
        getattr(self, f"_check_{self.modality}")()

    def _check_tabular(self) -> None:
        if not self.columns:
            raise ValueError("a tabular signature needs at least one column")
        for column in self.columns:
            if not isinstance(column, ColumnSpec):
                raise ValueError(f"columns hold ColumnSpec items, got {type(column).__name__}")
        names = [column.name for column in self.columns]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"column {repeated[0]!r} appears twice")

    def _check_image(self) -> None:
        for name in ("width", "height"):
            value = getattr(self, name)
            if not _is_integer(value) or value < 1:
                raise ValueError(
                    f"an image signature's {name} is a positive integer, got {value!r}"
                )
        if self.channels not in (1, 3) or isinstance(self.channels, bool):
            raise ValueError(f"channels is 1 (grey) or 3 (colour), got {self.channels!r}")
        if not isinstance(self.resizes, bool):
            raise ValueError(f"resizes is true or false, got {self.resizes!r}")

    def _check_audio(self) -> None:
        if not _is_integer(self.sample_rate) or self.sample_rate < 1:
            raise ValueError(f"sample_rate is a positive integer (Hz), got {self.sample_rate!r}")
        duration_s = self.duration_s
        if duration_s is None:
            return
        if isinstance(duration_s, bool) or not isinstance(duration_s, int | float):
            raise ValueError(f"duration_s is a number of seconds or null, got {duration_s!r}")
        if not math.isfinite(duration_s) or duration_s <= 0:
            raise ValueError(f"duration_s is a positive number of seconds, got {duration_s!r}")
        object.__setattr__(self, "duration_s", float(duration_s))

    @classmethod
    def tabular(cls, columns: Sequence[ColumnSpec]) -> InputSignature:
        return cls(modality="tabular", columns=tuple(columns))

    @classmethod
    def image(cls, *, width: int, height: int, channels: int, resizes: bool) -> InputSignature:
        return cls(modality="image", width=width, height=height, channels=channels, resizes=resizes)

    @classmethod
    def audio(cls, *, sample_rate: int, duration_s: float | None) -> InputSignature:
        return cls(modality="audio", sample_rate=sample_rate, duration_s=duration_s)

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form stored with a model version: only the modality's own keys."""
        if self.modality == "tabular":
            columns = [{"name": column.name, "type": column.type} for column in self.columns]
            return {"modality": "tabular", "columns": columns}
        return {key: getattr(self, key) for key in sorted(_KEYS_OF_MODALITY[self.modality])}

    @classmethod
    def from_dict(cls, data: Any) -> InputSignature:
        """The signature `to_dict` wrote; ValueError names the first thing that is wrong."""
        if not isinstance(data, dict):
            raise ValueError(f"a signature is an object, got {type(data).__name__}")
        modality = data.get("modality")
        if not isinstance(modality, str) or modality not in _KEYS_OF_MODALITY:
            raise ValueError(
                f"a signature's modality is one of {', '.join(MODALITIES)}, got {modality!r}"
            )
        expected = _KEYS_OF_MODALITY[modality]
        unknown = sorted(str(key) for key in set(data) - expected)
        missing = sorted(expected - set(data))
        if unknown or missing:
            problem = f"unknown key {unknown[0]!r}" if unknown else f"missing key {missing[0]!r}"
            keys = ", ".join(sorted(expected))
            raise ValueError(f"the signature of {modality} inputs has {keys}: {problem}")
        values = dict(data)
        if modality == "tabular":
            values["columns"] = _columns_from_json(data["columns"])
        try:
            return cls(**values)
        except TypeError as error:  # an unhashable or otherwise odd value
            raise ValueError(f"a malformed signature of {modality} inputs: {error}") from error

    def describe(self) -> str:
        """What to send, in one sentence for people (a page's hint, an API error's detail)."""
        if self.modality == "tabular":
            shown = [f"{column.name} ({column.type})" for column in self.columns]
            hidden = len(shown) - DESCRIBED_COLUMNS
            text = ", ".join(shown[:DESCRIBED_COLUMNS])
            return f"a row with columns {text}" + (f" and {hidden:,} more" if hidden > 0 else "")
        if self.modality == "image":
            colour = "grey" if self.channels == 1 else "colour"
            size = size_text(self.width, self.height)
            if self.resizes:
                return f"an image of any size ({IMAGE_FORMATS_TEXT}), resized to {size} {colour}"
            return f"a {size} {colour} image ({IMAGE_FORMATS_TEXT})"
        text = f"mono audio ({AUDIO_FORMATS_TEXT}), resampled to {self.sample_rate:,} Hz"
        if self.duration_s is None:
            return text
        seconds = f"{self.duration_s:.2f}".rstrip("0")  # 1.0 -> "1.0", 0.25 -> "0.25"
        return f"{text}, about {seconds}{'0' if seconds.endswith('.') else ''} s"


def _columns_from_json(columns: Any) -> tuple[ColumnSpec, ...]:
    if not isinstance(columns, list):
        raise ValueError(f"columns is a list, got {type(columns).__name__}")
    specs = []
    for index, column in enumerate(columns):
        if not isinstance(column, dict) or set(column) != {"name", "type"}:
            raise ValueError(f"column {index} is not an object with exactly name and type")
        specs.append(ColumnSpec(name=column["name"], type=column["type"]))
    return tuple(specs)


def signature_for(
    modality: str,
    *,
    table_columns: Sequence[Mapping[str, Any]] | None = None,
    target: str | None = None,
    image_sizes: Sequence[tuple[int, int]] | None = None,
    image_modes: Sequence[str] | None = None,
    sample_rate: int | None = None,
    durations_s: Sequence[float] | None = None,
    chain_configs: list[BrushConfig] | None = None,
) -> InputSignature:
    """The signature of a model trained on a dataset version with a brush chain, from what the
    registry stored at ingest; ValueError when something it needs is missing.

    tabular: `table_columns` is the version's `schema["columns"]` ({"name", "type", ...} each);
    `target`, the run's target column, is left out, as training leaves it out.
    image: with a chain starting with image_resize, its height, width and channels (any size is
    accepted); otherwise the most common (width, height) of `image_sizes` and grey when the most
    common of `image_modes` (each image's Pillow mode, from the manifest) is a grey mode.
    audio: `sample_rate` is the version's (readers resample every clip to it); `duration_s` is
    the clip length of the chain's spectrogram brush (what the model sees), else the longest of
    `durations_s`, else None.
    """
    chain = BrushChain.from_config(list(chain_configs or []))
    if modality == "tabular":
        if not table_columns:
            raise ValueError("a tabular signature needs the table's columns")
        columns = [
            ColumnSpec(name=str(column["name"]), type=column["type"])
            for column in table_columns
            if column["name"] != target
        ]
        if target is not None and len(columns) == len(table_columns):
            raise ValueError(f"the target column {target!r} is not in the table")
        return InputSignature.tabular(columns)
    if modality == "image":
        return _image_signature(chain, image_sizes or [], image_modes or [])
    if modality == "audio":
        if sample_rate is None:
            raise ValueError("an audio signature needs the dataset's sample rate")
        brush_durations = [
            brush.config()["duration_s"] for brush in chain if "duration_s" in brush.config()
        ]
        duration_s = brush_durations[0] if brush_durations else max(durations_s or [], default=None)
        return InputSignature.audio(sample_rate=sample_rate, duration_s=duration_s)
    raise ValueError(f"modality must be one of {', '.join(MODALITIES)}, got {modality!r}")


def _image_signature(
    chain: BrushChain, image_sizes: Sequence[tuple[int, int]], image_modes: Sequence[str]
) -> InputSignature:
    first = chain.brushes[0] if len(chain) else None
    if first is not None and first.name == "image_resize":
        params = first.config()
        return InputSignature.image(
            width=params["width"],
            height=params["height"],
            channels=params["channels"],
            resizes=True,
        )
    if not image_sizes or not image_modes:
        raise ValueError("without an image_resize brush, the images' sizes and modes are needed")
    sizes = Counter((int(width), int(height)) for width, height in image_sizes)
    (width, height), _count = sizes.most_common(1)[0]
    mode, _count = Counter(image_modes).most_common(1)[0]
    # The grey test of the dataset readers: grey modes (1, L, LA, I;16, ...) load as one channel.
    is_grey = Image.getmodebase(mode) == "L"
    return InputSignature.image(
        width=width, height=height, channels=1 if is_grey else 3, resizes=False
    )
