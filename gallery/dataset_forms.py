"""Forms of the dataset pages: uploading a dataset or a version, saving an annotation session.

They only check the shape of what was sent; the registry services validate the files (format,
size, archive paths) and their messages are added to the form by the views.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.conf import settings

from registry.ingest.limits import describe_bytes
from registry.models import Modality, Visibility

MAX_NOTE_LENGTH = 2000
# Multipart framing and the form's text fields ride along with the file.
UPLOAD_OVERHEAD_BYTES = 64 * 1024
MAX_LABELS_PER_SAVE = 100_000

# What each modality accepts, shown on the radio cards and used for the file input's `accept`.
MODALITY_HINTS: dict[str, dict[str, str]] = {
    Modality.TABULAR: {
        "title": "Table",
        "formats": "CSV or Parquet",
        "hint": "One row per sample, one column per feature.",
        "accept": ".csv,.parquet,.pq,text/csv",
    },
    Modality.IMAGE: {
        "title": "Images",
        "formats": "ZIP of PNG, JPEG or WebP",
        "hint": "One folder per class, or flat to label them here.",
        "accept": ".zip,application/zip",
    },
    Modality.AUDIO: {
        "title": "Audio",
        "formats": "ZIP of WAV, FLAC or OGG",
        "hint": "One folder per class, or flat to label them here.",
        "accept": ".zip,application/zip",
    },
}


def max_upload_label() -> str:
    return describe_bytes(settings.MAX_DATASET_BYTES)


def too_large_message(content_length: str | None) -> str:
    """The refusal of a request whose declared size is past the limit; "" when it fits."""
    try:
        declared = int(content_length or 0)
    except ValueError:
        return ""
    if declared <= settings.MAX_DATASET_BYTES + UPLOAD_OVERHEAD_BYTES:
        return ""
    return (
        f"The upload is {describe_bytes(declared)}; datasets are limited to {max_upload_label()}."
    )


def refused_unread(form_class: type[forms.Form], message: str) -> forms.Form:
    """A form that carries only `message` on its file, for a body that was never read."""
    initial = {name: field.initial for name, field in form_class.base_fields.items()}
    form = form_class(data={name: value for name, value in initial.items() if value is not None})
    form.is_valid()
    form.errors.clear()
    form.add_error("file", message)
    return form


class DatasetUploadForm(forms.Form):
    """A new dataset and its first version."""

    name = forms.CharField(
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "e.g. sketch moods", "autocomplete": "off"}),
    )
    modality = forms.ChoiceField(
        choices=Modality.choices, initial=Modality.TABULAR, widget=forms.RadioSelect
    )
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 2, "placeholder": "What it holds, where it came from"}
        ),
    )
    visibility = forms.ChoiceField(
        choices=Visibility.choices,
        initial=Visibility.PRIVATE,
        widget=forms.RadioSelect,
        help_text="Public datasets can be previewed (not changed) by every creator.",
    )
    file = forms.FileField()
    note = forms.CharField(
        required=False,
        max_length=MAX_NOTE_LENGTH,
        label="Version note",
        widget=forms.TextInput(attrs={"placeholder": "e.g. first export from my sketchbook"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = f"Up to {max_upload_label()}."


class VersionUploadForm(forms.Form):
    """A new version of an existing dataset."""

    file = forms.FileField()
    note = forms.CharField(
        required=False,
        max_length=MAX_NOTE_LENGTH,
        label="Version note",
        widget=forms.TextInput(attrs={"placeholder": "What changed?"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = f"Up to {max_upload_label()}."


class AnnotationForm(forms.Form):
    """The JSON body of "Save as new version": `{"labels": {path: class | null}, "note": ""}`."""

    labels = forms.JSONField()
    note = forms.CharField(required=False, max_length=MAX_NOTE_LENGTH)

    @classmethod
    def from_body(cls, body: bytes) -> AnnotationForm:
        try:
            payload = json.loads(body or b"{}")
        except (ValueError, UnicodeDecodeError):
            payload = None
        if not isinstance(payload, dict):
            payload = {}
        data = {"labels": json.dumps(payload.get("labels")), "note": payload.get("note") or ""}
        if not isinstance(data["note"], str):
            data["note"] = ""
        return cls(data)

    def clean_labels(self) -> dict[str, str | None]:
        labels = self.cleaned_data["labels"]
        if not isinstance(labels, dict) or not labels:
            raise forms.ValidationError("Label at least one sample before saving.")
        if len(labels) > MAX_LABELS_PER_SAVE:
            raise forms.ValidationError(f"At most {MAX_LABELS_PER_SAVE} labels per save.")
        for path, label in labels.items():
            if not isinstance(path, str) or not (label is None or isinstance(label, str)):
                raise forms.ValidationError("Each label is a class name (text) or null.")
        return labels
