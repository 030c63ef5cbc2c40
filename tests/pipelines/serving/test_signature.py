"""Input signatures: JSON round trips, refusal of malformed stored JSON, the sentence for people,
and the signature built from what the registry knows about a dataset version."""

from __future__ import annotations

import json

import pytest

from pipelines.serving import ColumnSpec, InputSignature, signature_for

TIMES = "\N{MULTIPLICATION SIGN}"
IRIS = InputSignature.tabular(
    [
        ColumnSpec("sepal_length", "float"),
        ColumnSpec("petals", "integer"),
        ColumnSpec("colour", "categorical"),
    ]
)
GREY_32 = InputSignature.image(width=32, height=32, channels=1, resizes=False)
ANY_COLOUR = InputSignature.image(width=64, height=48, channels=3, resizes=True)
CLIPS = InputSignature.audio(sample_rate=22050, duration_s=1.0)


@pytest.mark.parametrize("signature", [IRIS, GREY_32, ANY_COLOUR, CLIPS])
def test_a_signature_round_trips_through_json(signature):
    stored = json.loads(json.dumps(signature.to_dict()))

    assert InputSignature.from_dict(stored) == signature


def test_the_stored_json_holds_only_the_modalitys_own_keys():
    assert IRIS.to_dict() == {
        "modality": "tabular",
        "columns": [
            {"name": "sepal_length", "type": "float"},
            {"name": "petals", "type": "integer"},
            {"name": "colour", "type": "categorical"},
        ],
    }
    assert GREY_32.to_dict() == {
        "modality": "image",
        "width": 32,
        "height": 32,
        "channels": 1,
        "resizes": False,
    }
    assert CLIPS.to_dict() == {"modality": "audio", "sample_rate": 22050, "duration_s": 1.0}
    assert InputSignature.audio(sample_rate=8000, duration_s=None).to_dict()["duration_s"] is None


def test_an_integer_duration_is_read_as_a_float():
    stored = {"modality": "audio", "sample_rate": 8000, "duration_s": 2}

    signature = InputSignature.from_dict(stored)

    assert signature.duration_s == 2.0 and isinstance(signature.duration_s, float)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (["tabular"], "a signature is an object, got list"),
        ({"modality": "video"}, "modality is one of tabular, image, audio, got 'video'"),
        ({"modality": ["image"]}, "modality is one of"),
        ({"modality": "tabular"}, "the signature of tabular inputs has columns, modality: missing"),
        ({"modality": "tabular", "columns": [], "width": 3}, "unknown key 'width'"),
        ({"modality": "tabular", "columns": []}, "needs at least one column"),
        ({"modality": "tabular", "columns": {"a": "float"}}, "columns is a list, got dict"),
        ({"modality": "tabular", "columns": [{"name": "a"}]}, "column 0 is not an object with"),
        (
            {"modality": "tabular", "columns": [{"name": "a", "type": "number"}]},
            "column 'a' has type 'number'; expected one of integer, float, boolean",
        ),
        (
            {"modality": "tabular", "columns": [{"name": "", "type": "float"}]},
            "a column name is non-empty text",
        ),
        (
            {"modality": "tabular", "columns": [{"name": "a", "type": "float"}] * 2},
            "column 'a' appears twice",
        ),
        ({**GREY_32.to_dict(), "width": 0}, "width is a positive integer, got 0"),
        ({**GREY_32.to_dict(), "height": 32.0}, "height is a positive integer, got 32.0"),
        ({**GREY_32.to_dict(), "width": True}, "width is a positive integer, got True"),
        ({**GREY_32.to_dict(), "channels": 4}, "channels is 1 (grey) or 3 (colour), got 4"),
        ({**GREY_32.to_dict(), "resizes": "yes"}, "resizes is true or false, got 'yes'"),
        ({**CLIPS.to_dict(), "sample_rate": -1}, "sample_rate is a positive integer (Hz)"),
        ({**CLIPS.to_dict(), "duration_s": "1s"}, "duration_s is a number of seconds or null"),
        ({**CLIPS.to_dict(), "duration_s": 0}, "duration_s is a positive number of seconds"),
        ({**CLIPS.to_dict(), "duration_s": float("nan")}, "positive number of seconds, got nan"),
    ],
)
def test_a_malformed_stored_signature_is_refused(data, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        InputSignature.from_dict(data)


def test_fields_of_another_modality_are_refused():
    with pytest.raises(ValueError, match="the signature of audio inputs has no columns, width"):
        InputSignature(
            modality="audio", sample_rate=8000, columns=(ColumnSpec("a", "float"),), width=3
        )


def test_describe_says_what_to_send():
    assert IRIS.describe() == (
        "a row with columns sepal_length (float), petals (integer), colour (categorical)"
    )
    assert GREY_32.describe() == f"a 32{TIMES}32 grey image (PNG, JPEG, GIF, BMP or WebP)"
    assert ANY_COLOUR.describe() == (
        f"an image of any size (PNG, JPEG, GIF, BMP or WebP), resized to 64{TIMES}48 colour"
    )
    assert CLIPS.describe() == "mono audio (WAV, FLAC or OGG), resampled to 22,050 Hz, about 1.0 s"
    assert InputSignature.audio(sample_rate=8000, duration_s=None).describe() == (
        "mono audio (WAV, FLAC or OGG), resampled to 8,000 Hz"
    )
    assert InputSignature.audio(sample_rate=8000, duration_s=2.5).describe().endswith("2.5 s")
    assert InputSignature.audio(sample_rate=8000, duration_s=0.25).describe().endswith("0.25 s")


def test_describe_counts_the_columns_past_the_twelfth():
    signature = InputSignature.tabular([ColumnSpec(f"c{index}", "float") for index in range(15)])

    assert signature.describe().endswith("c10 (float), c11 (float) and 3 more")


def test_a_tabular_signature_keeps_the_schema_order_without_the_target():
    schema_columns = [
        {"name": "petal_length", "type": "float", "n_missing": 0},
        {"name": "species", "type": "categorical", "n_missing": 0},
        {"name": "is_wild", "type": "boolean", "n_missing": 0},
    ]

    signature = signature_for("tabular", table_columns=schema_columns, target="species")

    assert signature == InputSignature.tabular(
        [ColumnSpec("petal_length", "float"), ColumnSpec("is_wild", "boolean")]
    )
    with pytest.raises(ValueError, match="the target column 'kind' is not in the table"):
        signature_for("tabular", table_columns=schema_columns, target="kind")


def test_an_image_signature_follows_the_resize_brush_with_its_defaults_filled():
    configs = [{"name": "image_resize", "params": {"height": 28, "channels": 1}}]

    signature = signature_for("image", chain_configs=configs, image_sizes=[(500, 400)])

    assert signature == InputSignature.image(width=64, height=28, channels=1, resizes=True)


def test_without_a_resize_brush_the_most_common_size_and_mode_are_taken():
    signature = signature_for(
        "image",
        image_sizes=[(12, 10), (12, 10), (8, 8)],
        image_modes=["I;16", "LA", "RGB"],
        chain_configs=[],
    )

    assert signature == InputSignature.image(width=12, height=10, channels=1, resizes=False)
    colour = signature_for("image", image_sizes=[(8, 8)], image_modes=["P", "RGB", "P"])
    assert colour.channels == 3
    with pytest.raises(ValueError, match="the images' sizes and modes are needed"):
        signature_for("image", image_sizes=[(8, 8)])


def test_an_audio_signature_takes_the_spectrogram_clip_length_else_the_longest_clip():
    spectrogram = [{"name": "audio_spectrogram", "params": {"duration_s": 2.5}}]

    from_chain = signature_for(
        "audio", sample_rate=16000, durations_s=[1.0, 4.0], chain_configs=spectrogram
    )
    from_clips = signature_for("audio", sample_rate=16000, durations_s=[1.0, 4.0, 2.0])
    unknown = signature_for("audio", sample_rate=16000)

    assert from_chain == InputSignature.audio(sample_rate=16000, duration_s=2.5)
    assert from_clips.duration_s == 4.0
    assert unknown.duration_s is None
    with pytest.raises(ValueError, match="needs the dataset's sample rate"):
        signature_for("audio", durations_s=[1.0])
