"""Class labels from folders: root stripping, class folders, unlabelled, deeper, mixed."""

from __future__ import annotations

import pytest

from registry.ingest import IngestRejected
from registry.ingest.layout import assign_labels, class_counts


def test_one_common_root_folder_is_stripped():
    labels = assign_labels(["digits/0/a.png", "digits/1/b.png", "digits/1/c.png"])

    assert labels == {"digits/0/a.png": "0", "digits/1/b.png": "1", "digits/1/c.png": "1"}


def test_class_folders_at_the_top():
    assert assign_labels(["cats/a.png", "dogs/b.png"]) == {
        "cats/a.png": "cats",
        "dogs/b.png": "dogs",
    }


def test_files_at_the_top_or_in_one_folder_are_unlabelled():
    assert assign_labels(["a.png", "b.png"]) == {"a.png": None, "b.png": None}
    assert assign_labels(["shots/a.png", "shots/b.png"]) == {
        "shots/a.png": None,
        "shots/b.png": None,
    }


def test_deeper_files_take_their_first_folder_as_class():
    labels = assign_labels(["cats/indoor/a.png", "cats/b.png", "dogs/park/day/c.png"])

    assert labels == {
        "cats/indoor/a.png": "cats",
        "cats/b.png": "cats",
        "dogs/park/day/c.png": "dogs",
    }


@pytest.mark.parametrize(
    ("paths", "message"),
    [
        (
            ["a.png", "cats/b.png"],
            "mixes files at the top level (a.png) with files in class folders (cats/b.png)",
        ),
        (
            ["data/a.png", "data/cats/b.png"],
            "(data/a.png) with files in class folders (data/cats/b.png)",
        ),
    ],
)
def test_a_mix_is_refused(paths, message):
    with pytest.raises(IngestRejected) as refusal:
        assign_labels(paths)

    assert message in str(refusal.value)
    assert str(refusal.value).endswith("put every file in a class folder, or none")


def test_class_counts_sorted_by_name_without_unlabelled():
    manifest = [{"label": "b"}, {"label": "a"}, {"label": "b"}, {"label": None}]

    assert class_counts(manifest) == [{"name": "a", "count": 1}, {"name": "b", "count": 2}]
