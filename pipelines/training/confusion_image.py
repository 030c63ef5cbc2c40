"""A confusion matrix as a PNG heat map, drawn with Pillow (no plotting library needed).

Cells show counts; their colour is the share of the true class (row-normalised), so that a rare
class's mistakes stand out as much as a common one's. Rows are true classes, columns predicted.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFont

WHITE = (255, 255, 255)
INK = (33, 37, 41)
DARKEST_CELL = (23, 70, 140)
GRID_SIDE_PX = 520  # cells share about this many pixels, within the size bounds below
MIN_CELL_PX, MAX_CELL_PX = 28, 72
MAX_LABEL_CHARACTERS = 16
MARGIN_PX = 16


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (OSError, TypeError, ImportError):  # Pillow built without FreeType: bitmap font
        return ImageFont.load_default()


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL_CHARACTERS else label[: MAX_LABEL_CHARACTERS - 1] + "…"


def _text_size(font: ImageFont.ImageFont, text: str) -> tuple[int, int]:
    left, top, right, bottom = font.getbbox(text)
    return int(right - left), int(bottom - top)


def _cell_colour(share: float) -> tuple[int, int, int]:
    return tuple(round(w + (d - w) * share) for w, d in zip(WHITE, DARKEST_CELL, strict=True))


def _vertical_text(text: str, font: ImageFont.ImageFont) -> Image.Image:
    width, height = _text_size(font, text)
    strip = Image.new("RGBA", (width + 4, height + 6), (0, 0, 0, 0))
    ImageDraw.Draw(strip).text((2, 0), text, fill=INK, font=font, anchor="lt")
    return strip.rotate(90, expand=True)


def confusion_matrix_png(matrix: np.ndarray, label_names: list[str]) -> bytes:
    """A readable heat map of `matrix` (K x K counts) with `label_names` on both axes."""
    counts = np.asarray(matrix, dtype=np.int64)
    n_classes = len(counts)
    if counts.shape != (n_classes, n_classes) or len(label_names) != n_classes:
        raise ValueError(
            f"a confusion matrix of shape {counts.shape} needs a square matrix and one label "
            f"per row, got {len(label_names)} labels"
        )
    cell = int(np.clip(GRID_SIDE_PX // max(n_classes, 1), MIN_CELL_PX, MAX_CELL_PX))
    font = _font(int(np.clip(cell * 0.36, 10, 16)))
    title_font = _font(18)
    labels = [_short(str(name)) for name in label_names]
    label_width = max(_text_size(font, label)[0] for label in labels)
    line_height = _text_size(font, "Ag")[1]
    left = MARGIN_PX + line_height + 8 + label_width + 8
    top = MARGIN_PX + 2 * _text_size(title_font, "Ag")[1] + 16
    grid = cell * n_classes
    total = int(counts.sum())
    accuracy = np.trace(counts) / total if total else 0.0
    subtitle = f"rows: true class, columns: predicted; {total} samples, accuracy {accuracy:.1%}"
    column_strips = [_vertical_text(label, font) for label in labels]
    strips_height = max(strip.height for strip in column_strips)
    width = max(left + grid, MARGIN_PX + _text_size(font, subtitle)[0]) + MARGIN_PX
    height = top + grid + 8 + strips_height + 8 + line_height + MARGIN_PX
    image = Image.new("RGB", (width, height), WHITE)
    draw = ImageDraw.Draw(image)
    draw.text((MARGIN_PX, MARGIN_PX), "Confusion matrix", fill=INK, font=title_font)
    draw.text((MARGIN_PX, MARGIN_PX + 24), subtitle, fill=INK, font=font)
    row_totals = np.maximum(counts.sum(axis=1, keepdims=True), 1)
    shares = counts / row_totals
    for row in range(n_classes):
        for column in range(n_classes):
            x, y = left + column * cell, top + row * cell
            share = float(shares[row, column])
            draw.rectangle((x, y, x + cell - 1, y + cell - 1), fill=_cell_colour(share))
            draw.text(
                (x + cell / 2, y + cell / 2),
                str(counts[row, column]),
                fill=WHITE if share > 0.5 else INK,
                font=font,
                anchor="mm",
            )
    draw.rectangle((left - 1, top - 1, left + grid, top + grid), outline=INK)
    for index, label in enumerate(labels):
        middle = index * cell + cell / 2
        draw.text((left - 8, top + middle), label, fill=INK, font=font, anchor="rm")
        strip = column_strips[index]
        image.paste(strip, (left + index * cell + (cell - strip.width) // 2, top + grid + 8), strip)
    predicted_y = top + grid + 8 + strips_height + 8
    draw.text((left + grid / 2, predicted_y), "predicted", fill=INK, font=font, anchor="mt")
    axis_title = _vertical_text("true", font)
    image.paste(axis_title, (MARGIN_PX, top + (grid - axis_title.height) // 2), axis_title)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
