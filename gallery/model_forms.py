"""Forms of the model pages: publish a run, the card's text, move an alias. They check shapes;
the registry services check the rest (names, alias rules, ownership)."""

from __future__ import annotations

from django import forms

from registry.models import RegisteredModel


class PublishForm(forms.Form):
    name = forms.SlugField(
        max_length=100,
        help_text="Lower-case letters, digits and hyphens; a new name creates the model.",
    )
    description = forms.CharField(required=False, max_length=5_000, widget=forms.Textarea)


class ModelTextForm(forms.ModelForm):
    tags = forms.CharField(
        required=False, max_length=500, help_text="Comma-separated, e.g. sketches, digits"
    )

    class Meta:
        model = RegisteredModel
        fields = [
            "description",
            "intended_use",
            "licence",
            "tags",
            "visibility",
            "production_needs_approval",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "intended_use": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance and not self.is_bound:
            self.initial["tags"] = ", ".join(self.instance.tags or [])

    def clean_tags(self) -> list[str]:
        return [tag.strip() for tag in self.cleaned_data["tags"].split(",") if tag.strip()]

    def save(self, commit: bool = True):  # pragma: no cover - the service saves
        raise NotImplementedError("model_update saves a model's text")


class AliasMoveForm(forms.Form):
    alias = forms.CharField(max_length=50, initial="production")
    version = forms.TypedChoiceField(coerce=int)
    reason = forms.CharField(required=False, max_length=500)

    def __init__(self, *args, versions=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["version"].choices = [
            (version.number, f"version {version.number}") for version in versions
        ]
