"""Saved chains: one ZIP without pickle, reproducible bytes, refusal of anything untrustworthy."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from pipelines.brushes import BrushChain, BrushNotFittedError, BrushStateError
from pipelines.brushes.archive import FIXED_TIMESTAMP
from tests.pipelines.samples import assert_identical, sample_input

CONFIG = [{"name": "standard_scaler"}, {"name": "one_hot", "params": {"max_categories": 2}}]


@pytest.fixture
def fitted_bytes() -> bytes:
    return BrushChain.from_config(CONFIG).fit(sample_input("tabular")).to_bytes()


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rezip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, payload in files.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=FIXED_TIMESTAMP), payload)
    return buffer.getvalue()


def flip_a_byte_of_chain_json(data: bytes) -> bytes:
    """Damages the compressed bytes of chain.json (its local header is 30 bytes + its name)."""
    position = data.index(b"chain.json") + len(b"chain.json") + 5
    return data[:position] + bytes([data[position] ^ 0xFF]) + data[position + 1 :]


def with_document(data: bytes, change) -> bytes:
    files = members(data)
    document = json.loads(files["chain.json"])
    change(document)
    return rezip({**files, "chain.json": json.dumps(document).encode()})


def test_the_file_is_a_zip_of_json_and_plain_arrays(fitted_bytes):
    files = members(fitted_bytes)

    assert sorted(files) == ["chain.json", "state.npz"]
    document = json.loads(files["chain.json"])
    assert (document["format"], document["format_version"]) == ("canvascraft.brush_chain", 1)
    assert [item["name"] for item in document["brushes"]] == ["standard_scaler", "one_hot"]
    with np.load(io.BytesIO(files["state.npz"]), allow_pickle=False) as arrays:
        assert sorted(arrays.files) == ["0.mean_", "0.scale_"]
        assert arrays["0.mean_"].shape == (2,)


def test_equal_fitted_chains_give_equal_bytes(fitted_bytes):
    again = BrushChain.from_config(CONFIG).fit(sample_input("tabular")).to_bytes()

    assert again == fitted_bytes
    assert BrushChain.from_bytes(fitted_bytes).to_bytes() == fitted_bytes


def test_save_replaces_the_file_in_one_step(tmp_path):
    folder = tmp_path / "chains"
    folder.mkdir()
    target = folder / "chain.zip"
    target.write_bytes(b"an older chain")
    chain = BrushChain.from_config(CONFIG).fit(sample_input("tabular"))

    chain.save(target)

    assert [path.name for path in folder.iterdir()] == ["chain.zip"]  # no temporary left over
    assert_identical(
        BrushChain.load(target).transform(sample_input("tabular")),
        chain.transform(sample_input("tabular")),
    )


def test_an_unfitted_chain_loads_unfitted():
    loaded = BrushChain.from_bytes(BrushChain.from_config(CONFIG).to_bytes())

    assert loaded.config() == BrushChain.from_config(CONFIG).config()
    with pytest.raises(BrushNotFittedError):
        loaded.transform(sample_input("tabular"))


def test_unknown_brushes_and_other_format_versions_are_refused(fitted_bytes):
    def rename(document):
        document["brushes"][1]["name"] = "sepia"

    def bump(document):
        document["format_version"] = 2

    with pytest.raises(
        BrushStateError, match="cannot be loaded: chain item 1: unknown brush 'sepia'"
    ):
        BrushChain.from_bytes(with_document(fitted_bytes, rename))
    with pytest.raises(BrushStateError, match="format version 2 is not supported"):
        BrushChain.from_bytes(with_document(fitted_bytes, bump))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda data: data[: len(data) // 2], "not a ZIP archive"),
        (lambda data: b"\x00" * 64, "not a ZIP archive"),
        (flip_a_byte_of_chain_json, "corrupt"),
        (lambda data: rezip({**members(data), "extra.py": b"print(1)"}), "holds exactly"),
        (lambda data: rezip({**members(data), "chain.json": b"{not json"}), "corrupt"),
        (lambda data: rezip({**members(data), "state.npz": b"junk"}), "state.npz is not a ZIP"),
    ],
    ids=["truncated", "not a zip", "bad checksum", "extra member", "bad json", "bad npz"],
)
def test_damaged_files_are_refused(fitted_bytes, damage, message):
    with pytest.raises(BrushStateError, match=message):
        BrushChain.from_bytes(damage(fitted_bytes))


def test_pickled_or_misplaced_arrays_are_refused(fitted_bytes):
    files = members(fitted_bytes)
    pickled = io.BytesIO()
    np.savez(pickled, **{"0.mean_": np.array([{"a": 1}], dtype=object), "0.scale_": np.ones(2)})
    extra = io.BytesIO()
    np.savez(extra, **{"0.mean_": np.zeros(2), "0.scale_": np.ones(2), "7.stray_": np.ones(1)})
    missing = io.BytesIO()
    np.savez(missing, **{"0.mean_": np.zeros(2)})

    with pytest.raises(BrushStateError, match=r"corrupt: .*allow_pickle"):
        BrushChain.from_bytes(rezip({**files, "state.npz": pickled.getvalue()}))
    with pytest.raises(BrushStateError, match="arrays that belong to no brush"):
        BrushChain.from_bytes(rezip({**files, "state.npz": extra.getvalue()}))
    with pytest.raises(BrushStateError, match="lacks arrays of standard_scaler"):
        BrushChain.from_bytes(rezip({**files, "state.npz": missing.getvalue()}))


def test_state_that_does_not_match_the_brush_is_refused(fitted_bytes):
    def drop_columns(document):
        del document["brushes"][1]["state"]["values"]["columns_"]

    def break_shape(document):
        document["brushes"][0]["state"] = "fitted"

    with pytest.raises(BrushStateError, match=r"one_hot: state names .* do not match"):
        BrushChain.from_bytes(with_document(fitted_bytes, drop_columns))
    with pytest.raises(BrushStateError, match=r"malformed: 'fitted' is not of type"):
        BrushChain.from_bytes(with_document(fitted_bytes, break_shape))


def test_files_that_unpack_too_large_are_refused(fitted_bytes):
    with pytest.raises(BrushStateError, match=r"unpacks to \d+ bytes, over 100"):
        BrushChain.from_bytes(fitted_bytes, max_unpacked_bytes=100)
