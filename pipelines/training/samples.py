"""Sample outputs per epoch: what the model says about a few fixed validation examples.

A run chooses 10 validation examples (fewer in a small split) once, from its seed (spread over
the classes for classification), and shows the model's predictions on them as training goes, so a
creator watches it learn: a PNG grid of the images (framed green when right, red when wrong), a
PNG grid of the spectrograms plus a WAV of the first clip for audio, only the items for tables.

Lifecycle: `SampleMaker.for_validation` chooses the examples before training; after a sampled
epoch the loop hands over `Predictions` for `maker.indices` (cheap: a few rows of the outputs
that validation computed anyway); `maker.render(epoch, predictions)` then builds the `Sample`,
pictures included. Rendering costs a few milliseconds, so callers do it off the training thread.
The pictures and the clip are loaded once, at the first render, through the optional loaders
(e.g. the original images from the dataset archive); without them the features are drawn.
"""

from __future__ import annotations

import io
import logging
import math
import wave
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from PIL import Image

from pipelines.training.data import TrainingData

if TYPE_CHECKING:
    from pipelines.training.model import TrainedModel

logger = logging.getLogger("canvascraft.training")

SampleKind = Literal["image", "audio", "table"]
KIND_OF_MODALITY: dict[str, SampleKind] = {"image": "image", "audio": "audio", "tabular": "table"}
N_EXAMPLES = 10  # within the 8 to 12 a page shows at a glance; fewer when validation is smaller
MAX_ITEMS = 16  # the registry refuses more items per sample
MAX_SAMPLES_PER_RUN = 50
MAX_LABEL_CHARACTERS = 60
MAX_CLIP_S = 4.0  # the WAV of the first example is cut to this long
GRID_COLUMNS = 5
IMAGE_CELL_PX = (96, 96)  # (width, height) of one picture inside its frame
SPECTROGRAM_CELL_PX = (144, 96)
FRAME_PX = 4
GAP_PX = 6
BACKGROUND = (255, 253, 249)
RIGHT_FRAME = (47, 158, 88)
WRONG_FRAME = (214, 57, 43)
NEUTRAL_FRAME = (213, 201, 184)
# Dark to light, for spectrograms (loud = light), interpolated into a 256-entry table.
_SPECTROGRAM_ANCHORS = np.array(
    [[20, 14, 40], [90, 30, 110], [200, 60, 90], [250, 150, 70], [252, 240, 200]], dtype=np.float64
)
SPECTROGRAM_COLOURS = np.stack(
    [
        np.interp(np.linspace(0, 1, 256), np.linspace(0, 1, len(_SPECTROGRAM_ANCHORS)), channel)
        for channel in _SPECTROGRAM_ANCHORS.T
    ],
    axis=1,
).astype(np.uint8)


@dataclass(frozen=True)
class Predictions:
    """What a model says about some examples: class codes (int64) with the probability of each
    predicted class (`confidence`, None for models without probabilities), or values in the
    target's units (regression; `confidence` None)."""

    predicted: np.ndarray
    confidence: np.ndarray | None = None


PredictFunction = Callable[[np.ndarray], Predictions]


@dataclass
class Sample:
    """One sample output: `epoch` 1-based, `items` JSON-safe (at most MAX_ITEMS), `files`
    named "grid.png" (images), "spectrograms.png" and "clip.wav" (audio), none for tables."""

    epoch: int
    kind: SampleKind
    items: list[dict[str, Any]]
    files: dict[str, bytes] = field(default_factory=dict)
    columns: int = GRID_COLUMNS


def choose_examples(
    targets: np.ndarray, *, task: str, seed: int, n_examples: int = N_EXAMPLES
) -> np.ndarray:
    """Positions of `n_examples` examples of a split (all of them when it is smaller), a pure
    function of (targets, task, seed).

    Classification spreads them over the classes: classes in a seeded order, one example of each
    in turn, so with at least as many examples as classes every class shows. The result is sorted
    by class, then position (regression: by target value), so a grid reads in order.
    """
    values = np.asarray(targets)
    n_chosen = min(n_examples, len(values))
    rng = np.random.default_rng(seed)
    if task != "classification":
        chosen = rng.choice(len(values), size=n_chosen, replace=False)
        return chosen[np.lexsort((chosen, values[chosen]))].astype(np.int64)
    classes = rng.permutation(np.unique(values))
    queues = [rng.permutation(np.flatnonzero(values == code)).tolist() for code in classes]
    chosen_list: list[int] = []
    while len(chosen_list) < n_chosen:
        for queue in queues:
            if queue and len(chosen_list) < n_chosen:
                chosen_list.append(queue.pop())
    chosen = np.array(chosen_list, dtype=np.int64)
    return chosen[np.lexsort((chosen, values[chosen]))]


def model_predictions(model: TrainedModel, x: np.ndarray) -> Predictions:
    """`Predictions` of a trained model (torch or scikit-learn) on `x`."""
    predicted = model.predict(x)
    probabilities = model.predict_proba(x)
    if probabilities is None:
        return Predictions(predicted)
    return Predictions(predicted, probabilities[np.arange(len(predicted)), predicted])


def _rounded(value: float) -> float | None:
    """A JSON-safe float with 6 significant digits; None for NaN or infinity."""
    value = float(value)
    return float(f"{value:.6g}") if math.isfinite(value) else None


def _short(name: str) -> str:
    name = str(name)
    return name if len(name) <= MAX_LABEL_CHARACTERS else name[: MAX_LABEL_CHARACTERS - 1] + "…"


class SampleMaker:
    """Makes a run's samples from predictions on its fixed validation examples.

    `pictures` (one array per example: H x W x C images, uint8 or float, or n_mels x n_frames
    spectrograms) are what the grid shows; `load_pictures` and `load_clip` (called once, at the
    first render, off the training thread) may supply better ones, e.g. the original images, and
    the first example's waveform as (float samples in -1..1, sample rate).
    """

    def __init__(
        self,
        *,
        kind: SampleKind,
        task: str,
        indices: np.ndarray,
        truth: np.ndarray,
        label_names: Sequence[str],
        pictures: Sequence[np.ndarray] = (),
        load_pictures: Callable[[], Sequence[np.ndarray]] | None = None,
        load_clip: Callable[[], tuple[np.ndarray, int]] | None = None,
    ) -> None:
        if kind not in KIND_OF_MODALITY.values():
            raise ValueError(f"kind must be image, audio or table, got {kind!r}")
        if not 0 < len(indices) <= MAX_ITEMS or len(truth) != len(indices):
            raise ValueError(f"a sample shows 1 to {MAX_ITEMS} examples, each with its truth")
        self.kind, self.task = kind, task
        self.indices = np.asarray(indices, dtype=np.int64)
        self.truth = np.asarray(truth)
        self.label_names = [_short(name) for name in label_names]
        self.pictures = list(pictures)
        self.load_pictures, self.load_clip = load_pictures, load_clip
        self._tiles: list[Image.Image] | None = None
        self._clip_wav: bytes | None = None

    @classmethod
    def for_validation(
        cls,
        data: TrainingData,
        *,
        seed: int,
        n_examples: int = N_EXAMPLES,
        load_pictures: Callable[[], Sequence[np.ndarray]] | None = None,
        load_clip: Callable[[], tuple[np.ndarray, int]] | None = None,
    ) -> SampleMaker:
        """Chooses the examples among `data`'s validation split (see `choose_examples`)."""
        indices = choose_examples(data.y_val, task=data.task, seed=seed, n_examples=n_examples)
        kind = KIND_OF_MODALITY[data.modality]
        return cls(
            kind=kind,
            task=data.task,
            indices=indices,
            truth=data.y_val[indices],
            label_names=data.label_names,
            pictures=[] if kind == "table" else list(data.x_val[indices]),
            load_pictures=load_pictures,
            load_clip=load_clip,
        )

    # --- items ------------------------------------------------------------------------------
    def items(self, predictions: Predictions) -> list[dict[str, Any]]:
        """classification: label, predicted, correct, confidence; regression: value,
        predicted, error (predicted - value), all in the target's units."""
        predicted = np.asarray(predictions.predicted)
        if len(predicted) != len(self.indices):
            raise ValueError(f"{len(predicted)} predictions for {len(self.indices)} examples")
        if self.task != "classification":
            return [
                {
                    "value": _rounded(truth),
                    "predicted": _rounded(value),
                    "error": _rounded(float(value) - float(truth)),
                }
                for truth, value in zip(self.truth, predicted, strict=True)
            ]
        confidence = predictions.confidence
        return [
            {
                "label": self.label_names[int(truth)],
                "predicted": self.label_names[int(code)],
                "correct": bool(int(code) == int(truth)),
                "confidence": None if confidence is None else _rounded(confidence[row]),
            }
            for row, (truth, code) in enumerate(zip(self.truth, predicted, strict=True))
        ]

    # --- rendering --------------------------------------------------------------------------
    def prepare(self) -> None:
        """Loads and tiles the pictures (and the clip) now rather than at the first render:
        a runner calls it before training, so reading the originals does not compete with
        the first epochs for the CPU."""
        if self.kind == "table":
            return
        self._ready_tiles()
        if self.kind == "audio" and self.load_clip is not None and self._clip_wav is None:
            self._clip_wav = self._loaded_clip()

    def render(self, epoch: int, predictions: Predictions) -> Sample:
        """The sample of epoch `epoch` (0-based, as loops count; the sample says epoch + 1)."""
        items = self.items(predictions)
        sample = Sample(
            epoch=epoch + 1, kind=self.kind, items=items, columns=min(GRID_COLUMNS, len(items))
        )
        if self.kind == "table":
            return sample
        verdicts = [item.get("correct") for item in items]
        name = "grid.png" if self.kind == "image" else "spectrograms.png"
        sample.files[name] = grid_png(self._ready_tiles(), verdicts, columns=sample.columns)
        if self.kind == "audio" and self.load_clip is not None:
            if self._clip_wav is None:
                self._clip_wav = self._loaded_clip()
            if self._clip_wav:
                sample.files["clip.wav"] = self._clip_wav
        return sample

    def _ready_tiles(self) -> list[Image.Image]:
        """The pictures as tiles, made once: only the frames change from epoch to epoch."""
        if self._tiles is None:
            pictures = self.pictures
            if self.load_pictures is not None:
                try:
                    loaded = list(self.load_pictures())
                    if len(loaded) == len(self.indices):
                        pictures = loaded
                except Exception:  # the features still show what the model sees
                    logger.warning("sample pictures not loaded; drawing features", exc_info=True)
            cell = IMAGE_CELL_PX if self.kind == "image" else SPECTROGRAM_CELL_PX
            self._tiles = [picture_tile(picture, cell) for picture in pictures]
        return self._tiles

    def _loaded_clip(self) -> bytes:
        try:
            samples, sample_rate = self.load_clip()  # type: ignore[misc]
            return wav_bytes(samples, sample_rate)
        except Exception:  # a sample without its clip is still a sample
            logger.warning("sample clip not loaded", exc_info=True)
            return b""


def _to_bytes(array: np.ndarray) -> np.ndarray:
    """uint8 as it is; anything else stretched to 0..255 (a constant picture becomes grey)."""
    if array.dtype == np.uint8:
        return array
    values = np.nan_to_num(array.astype(np.float32))
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-12:
        return np.full(values.shape, 128, dtype=np.uint8)
    return np.round((values - low) * (255.0 / (high - low))).astype(np.uint8)


def picture_tile(picture: np.ndarray, cell_px: tuple[int, int]) -> Image.Image:
    """One example as an RGB tile that fits `cell_px` (width, height).

    Images keep their aspect: small ones grow by a whole factor with nearest-neighbour (an 8 x 8
    digit stays crisp), big ones shrink. Spectrograms (2-D) fill the cell, low frequencies at the
    bottom, coloured from quiet (dark) to loud (light).
    """
    array = np.asarray(picture)
    width, height = cell_px
    if array.ndim == 2:
        levels = _to_bytes(array[::-1])
        image = Image.fromarray(SPECTROGRAM_COLOURS[levels], mode="RGB")
        return image.resize((width, height), Image.Resampling.NEAREST)
    if array.ndim != 3:
        raise ValueError(f"a picture is H x W x C or a 2-D spectrogram, got shape {array.shape}")
    channels = array[:, :, :3] if array.shape[2] >= 3 else array[:, :, :1]
    levels = _to_bytes(channels)
    image = Image.fromarray(levels[:, :, 0] if levels.shape[2] == 1 else levels).convert("RGB")
    factor = min(width / image.width, height / image.height)
    if factor >= 2:
        whole = int(factor)
        return image.resize((image.width * whole, image.height * whole), Image.Resampling.NEAREST)
    if factor < 1:
        image.thumbnail((width, height), Image.Resampling.BILINEAR)
    return image


def grid_png(
    tiles: Sequence[Image.Image], verdicts: Sequence[bool | None], *, columns: int = GRID_COLUMNS
) -> bytes:
    """Tiles in rows of `columns`, each centred in a frame: green when its prediction is right,
    red when wrong, neutral without a verdict (regression). Returns PNG bytes."""
    if len(tiles) != len(verdicts) or not tiles:
        raise ValueError("one verdict per tile, and at least one tile")
    cell_width = max(tile.width for tile in tiles) + 2 * FRAME_PX
    cell_height = max(tile.height for tile in tiles) + 2 * FRAME_PX
    columns = max(1, min(columns, len(tiles)))
    rows = math.ceil(len(tiles) / columns)
    grid = Image.new(
        "RGB",
        (columns * cell_width + (columns - 1) * GAP_PX, rows * cell_height + (rows - 1) * GAP_PX),
        BACKGROUND,
    )
    for position, (tile, verdict) in enumerate(zip(tiles, verdicts, strict=True)):
        left = (position % columns) * (cell_width + GAP_PX)
        top = (position // columns) * (cell_height + GAP_PX)
        colour = NEUTRAL_FRAME if verdict is None else RIGHT_FRAME if verdict else WRONG_FRAME
        grid.paste(colour, (left, top, left + cell_width, top + cell_height))
        grid.paste(
            BACKGROUND,
            (
                left + FRAME_PX,
                top + FRAME_PX,
                left + cell_width - FRAME_PX,
                top + cell_height - FRAME_PX,
            ),
        )
        grid.paste(
            tile,
            (left + (cell_width - tile.width) // 2, top + (cell_height - tile.height) // 2),
        )
    buffer = io.BytesIO()
    # Level 1: these pictures are small and made while training runs; size matters less here.
    grid.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def wav_bytes(samples: np.ndarray, sample_rate: int, *, max_s: float = MAX_CLIP_S) -> bytes:
    """Mono 16-bit PCM WAV of `samples` (floats in -1..1, clipped), cut to `max_s` seconds."""
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    values = np.asarray(samples, dtype=np.float32).reshape(-1)[: int(max_s * sample_rate)]
    pcm = np.round(np.clip(np.nan_to_num(values), -1.0, 1.0) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(int(sample_rate))
        writer.writeframes(pcm.tobytes())
    return buffer.getvalue()
