"""The "New training" form: the scalar settings of a training request as plain form fields.

Params and brushes come from the page's editor as JSON in the hidden `config` field (they are
generated from each template's and brush's JSON Schema, so they have no fixed fields); without
JavaScript the form still works and the studio's defaults fill them in. Checking the request
itself (template fits the data, target exists, params in range) is `start_run`'s job, so these
fields only check their own types.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django import forms

NEW_EXPERIMENT = "new"
TASK_CHOICES = [("classification", "Classification"), ("regression", "Regression")]
DEVICE_CHOICES = [("auto", "Auto"), ("cpu", "CPU"), ("gpu", "GPU")]
DEFAULT_FRACTION = 0.15
MAX_CONFIG_CHARS = 200_000


@dataclass(frozen=True)
class VersionChoice:
    """A dataset version the user may train on, as the form's select and the page's script
    see it."""

    id: int
    dataset_name: str
    number: int
    modality: str
    n_samples: int

    @property
    def label(self) -> str:
        unit = "rows" if self.modality == "tabular" else "samples"
        return f"{self.dataset_name} · v{self.number} · {self.n_samples:,} {unit}"


class TrainingForm(forms.Form):
    experiment = forms.ChoiceField(label="Experiment")
    new_experiment = forms.CharField(
        label="New experiment name",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "e.g. Which brush helps my sketches?"}),
    )
    name = forms.CharField(
        label="Run name",
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "e.g. forest-200-trees", "data-run-name": ""}),
    )
    dataset_version = forms.TypedChoiceField(label="Dataset", coerce=int)
    target = forms.CharField(
        label="Target column",
        required=False,
        help_text="The column the model learns to predict.",
        widget=forms.Select(),
    )
    task = forms.ChoiceField(
        choices=TASK_CHOICES, initial="classification", widget=forms.RadioSelect
    )
    template = forms.CharField(label="Model template")
    device = forms.ChoiceField(
        label="Device", choices=DEVICE_CHOICES, initial="auto", widget=forms.RadioSelect
    )
    seed = forms.IntegerField(
        label="Seed",
        initial=0,
        min_value=0,
        max_value=2**31 - 1,
        help_text="The same seed, data and settings train the same model.",
    )
    validation_fraction = forms.FloatField(
        label="Validation fraction",
        initial=DEFAULT_FRACTION,
        help_text="Held out to pick the best epoch.",
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0.01", "max": "0.49"}),
    )
    test_fraction = forms.FloatField(
        label="Test fraction",
        initial=DEFAULT_FRACTION,
        help_text="Held out to score the final model.",
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0.01", "max": "0.49"}),
    )
    timeout_s = forms.IntegerField(
        label="Timeout (seconds)",
        required=False,
        help_text="Blank: the template's own budget.",
        widget=forms.NumberInput(attrs={"min": "10", "max": "604800", "step": "1"}),
    )
    config = forms.CharField(required=False, widget=forms.HiddenInput(attrs={"data-config": ""}))

    def __init__(
        self,
        *args: Any,
        experiments: list[tuple[int, str]],
        versions: list[VersionChoice],
        columns: list[str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.versions = {version.id: version for version in versions}
        self.fields["experiment"].choices = [
            *((str(pk), name) for pk, name in experiments),
            (NEW_EXPERIMENT, "+ New experiment…"),
        ]
        grouped: dict[str, list[tuple[int, str]]] = {}
        for version in versions:
            grouped.setdefault(version.dataset_name, []).append((version.id, version.label))
        self.fields["dataset_version"].choices = [("", "Pick a dataset…"), *grouped.items()]
        self.fields["target"].widget.choices = [("", "—"), *((name, name) for name in columns)]

    def clean_config(self) -> dict[str, Any]:
        """The editor's JSON; only its params and brushes are used (see the module docstring)."""
        raw = self.cleaned_data["config"].strip()
        if not raw:
            return {}
        if len(raw) > MAX_CONFIG_CHARS:
            raise forms.ValidationError("The settings are too long.")
        try:
            config = json.loads(raw)
        except ValueError:
            config = None
        if not isinstance(config, dict):
            raise forms.ValidationError("The settings could not be read; reload the page.")
        return config

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("experiment") == NEW_EXPERIMENT and not data.get("new_experiment", "").strip():
            self.add_error("new_experiment", "Name the new experiment, or pick an existing one.")
        return data

    def training_config(self) -> dict[str, Any]:
        """The request for `start_run`, from the cleaned fields plus the editor's params and
        brushes; a target is only sent for tables (the other kinds train on their classes)."""
        data = self.cleaned_data
        editor = data["config"]
        version = self.versions.get(data["dataset_version"])
        config: dict[str, Any] = {
            "dataset_version": data["dataset_version"],
            "task": data["task"],
            "template": data["template"].strip(),
            "params": editor.get("params") or {},
            "device": data["device"],
            "seed": data["seed"],
            "validation_fraction": data["validation_fraction"],
            "test_fraction": data["test_fraction"],
        }
        if editor.get("brushes") is not None:
            config["brushes"] = editor["brushes"]
        if version is not None and version.modality == "tabular":
            config["target"] = data["target"] or None
        if data["timeout_s"] is not None:
            config["timeout_s"] = data["timeout_s"]
        return config
