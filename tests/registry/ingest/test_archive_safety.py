"""Hostile and malformed ZIPs: unsafe paths, links, encryption, bombs, counts. Each is refused
with a message naming the problem, before anything is decoded and without writing to disk."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import pytest

from registry.ingest import IngestLimits, IngestRejected, ingest
from registry.ingest.archive import InflationBudget, read_member_bytes
from tests.registry.ingest.builders import (
    deflated_zeros,
    image_bytes,
    patch_central_record,
    write_deflated_zip,
    write_symlink_zip,
    write_zip,
)

PNG = image_bytes()


def ingest_images(path: Path, **limits: int):
    return ingest(path, modality="image", original_name="images.zip", limits=IngestLimits(**limits))


def refusal_of(path: Path, **limits: int) -> str:
    with pytest.raises(IngestRejected) as refusal:
        ingest_images(path, **limits)
    return str(refusal.value)


@pytest.mark.parametrize(
    ("member", "message"),
    [
        ("../evil.png", 'member "../evil.png" escapes the archive'),
        ("cats/../../evil.png", 'member "cats/../../evil.png" escapes the archive'),
        ("/etc/evil.png", 'member "/etc/evil.png" has an absolute path'),
        ("C:\\evil.png", 'member "C:\\evil.png" has an absolute path'),
        ("C:/evil.png", 'member "C:/evil.png" has an absolute path'),
        ("cats\\evil.png", 'member "cats\\evil.png" has a backslash in its path'),
        ("cats/./evil.png", 'member "cats/./evil.png" has an empty or "." part in its path'),
    ],
)
def test_unsafe_member_paths(tmp_path, member, message):
    path = write_zip(tmp_path / "unsafe.zip", {"cats/ok.png": PNG, member: PNG})

    assert refusal_of(path) == message


def test_unsafe_paths_are_refused_even_among_skipped_entries(tmp_path):
    path = write_zip(tmp_path / "unsafe.zip", {"ok.png": PNG, "__MACOSX/../../._x": b"x"})

    assert "escapes the archive" in refusal_of(path)


def test_symbolic_link(tmp_path):
    path = write_symlink_zip(tmp_path / "link.zip", "cats/a.png", "/etc/passwd")

    assert refusal_of(path) == 'member "cats/a.png" is a symbolic link'


def test_encrypted_member(tmp_path):
    plain = write_zip(tmp_path / "plain.zip", {"a.png": PNG, "b.png": PNG}).read_bytes()
    path = tmp_path / "encrypted.zip"
    path.write_bytes(patch_central_record(plain, "b.png", flag_bits=0x1))

    assert refusal_of(path) == 'member "b.png" is encrypted'


def test_compression_without_bounded_reads(tmp_path):
    path = write_zip(tmp_path / "bz.zip", {"a.png": PNG}, compression=zipfile.ZIP_BZIP2)

    assert 'member "a.png" uses an unsupported compression method' in refusal_of(path)


def test_duplicate_member(tmp_path):
    path = tmp_path / "twice.zip"
    with zipfile.ZipFile(path, "w") as archive, pytest.warns(UserWarning, match="Duplicate"):
        archive.writestr("a.png", PNG)
        archive.writestr("a.png", PNG)

    assert refusal_of(path) == 'member "a.png" appears twice in the archive'


def test_not_a_zip_and_an_empty_one(tmp_path):
    not_zip = tmp_path / "images.zip"
    not_zip.write_bytes(PNG)
    only_junk = write_zip(tmp_path / "junk.zip", {"__MACOSX/._a.png": b"x", ".DS_Store": b"x"})

    assert refusal_of(not_zip) == "the upload is not a readable ZIP archive"
    assert refusal_of(only_junk) == "the archive holds no images"


def test_member_count(tmp_path):
    members = {f"{index}.png": PNG for index in range(4)}
    four_files = write_zip(tmp_path / "four.zip", members)
    one_file_much_junk = write_zip(
        tmp_path / "junk.zip",
        {"a.png": PNG, "__MACOSX/._a.png": b"", ".hidden": b"", "folder/": b"", "Thumbs.db": b""},
    )

    assert refusal_of(four_files, max_members=3) == "the archive holds more than 3 files"
    assert ingest_images(four_files, max_members=4).n_samples == 4
    # Entries are bounded before zipfile parses them: 5 entries > 3 per allowed file.
    assert refusal_of(one_file_much_junk, max_members=1) == "the archive holds more than 1 files"
    assert ingest_images(one_file_much_junk, max_members=2).n_samples == 1


def test_bomb_declaring_gigabytes_is_refused_unread(tmp_path):
    # A few real bytes whose central record claims 2 GiB: refused from the claim alone.
    plain = write_zip(tmp_path / "plain.zip", {"bomb.png": PNG}).read_bytes()
    path = tmp_path / "lying.zip"
    path.write_bytes(patch_central_record(plain, "bomb.png", file_size=2 * 2**30))

    started = time.perf_counter()
    message = refusal_of(path)

    assert message == 'member "bomb.png" inflates past the 50 MiB limit'
    assert time.perf_counter() - started < 0.5


@pytest.fixture(scope="module")
def zeros_45_mib() -> tuple[bytes, int]:
    return deflated_zeros(45)


def test_honest_bomb_of_a_gigabyte_is_refused_quickly(tmp_path, zeros_45_mib):
    # 25 members of 45 MiB of zeros, each under the member limit, 1.1 GiB in all; ~1 MiB on disk.
    stream, crc = zeros_45_mib
    members = {f"zeros/{index:02}.png": (stream, crc, 45 * 2**20) for index in range(25)}
    path = write_deflated_zip(tmp_path / "bomb.zip", members)
    with zipfile.ZipFile(path) as archive:  # the archive is valid: zipfile inflates a member
        assert archive.open("zeros/00.png").read(2**20) == bytes(2**20)

    started = time.perf_counter()
    message = refusal_of(path)

    assert message == "archive inflates past the 1 GiB limit"
    assert time.perf_counter() - started < 0.5
    assert path.stat().st_size < 2 * 2**20


def test_honest_huge_member_written_through_zipfile(tmp_path):
    path = tmp_path / "huge.zip"
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
        archive.open("huge.png", "w") as member,
    ):
        for _ in range(6):
            member.write(bytes(2**20))

    started = time.perf_counter()
    message = refusal_of(path, max_member_bytes=5 * 2**20)

    assert message == 'member "huge.png" inflates past the 5 MiB limit'
    assert time.perf_counter() - started < 0.5


def test_member_lying_small_is_never_inflated_past_its_claim(tmp_path, zeros_45_mib):
    # 45 MiB of zeros claiming to be 1 KiB: zipfile stops at the claim and the CRC fails.
    stream, crc = zeros_45_mib
    path = write_deflated_zip(tmp_path / "small.zip", {"a.png": (stream, crc, 1024)})

    started = time.perf_counter()
    message = refusal_of(path)

    assert message.startswith("1 file could not be decoded: a.png (damaged in the archive: Bad CRC")
    assert time.perf_counter() - started < 0.5


def test_real_inflated_bytes_are_counted(tmp_path):
    # The counts themselves, past any declared size: a member of 4 KiB against smaller budgets.
    path = write_zip(tmp_path / "a.zip", {"a.png": bytes(4096)})
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("a.png")
        member_budget = InflationBudget(IngestLimits(max_member_bytes=4095))
        archive_budget = InflationBudget(IngestLimits(max_uncompressed_bytes=10_000))
        archive_budget.inflated_bytes = 6000

        with pytest.raises(IngestRejected) as member_refusal:
            read_member_bytes(archive, info, member_budget)
        with pytest.raises(IngestRejected) as archive_refusal:
            read_member_bytes(archive, info, archive_budget)
        assert read_member_bytes(archive, info, InflationBudget(IngestLimits())) == bytes(4096)

    assert str(member_refusal.value) == 'member "a.png" inflates past the 4.0 KiB limit'
    assert str(archive_refusal.value) == "archive inflates past the 9.8 KiB limit"
    assert (member_budget.inflated_bytes, archive_budget.inflated_bytes) == (4096, 10096)


def test_upload_size_is_checked_first(tmp_path):
    path = write_zip(tmp_path / "a.zip", {"../evil.png": PNG})

    assert refusal_of(path, max_upload_bytes=10).startswith("the upload is ")
