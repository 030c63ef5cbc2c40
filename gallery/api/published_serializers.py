"""Serializers of `/api/v1/models/`: read shapes of models, versions, aliases and moves, and the
request bodies of publishing, alias moves and predictions (validated here, stored by services)."""

from __future__ import annotations

from rest_framework import serializers

from gallery import predictions
from registry.models import AliasMove, ModelAlias, ModelVersion, RegisteredModel


class AliasSerializer(serializers.ModelSerializer):
    alias = serializers.CharField(source="name")
    version = serializers.IntegerField(source="version.number")

    class Meta:
        model = ModelAlias
        fields = ["alias", "version", "updated_at"]


class MoveSerializer(serializers.ModelSerializer):
    from_version = serializers.IntegerField(source="from_version.number", allow_null=True)
    to_version = serializers.IntegerField(source="to_version.number", allow_null=True)
    moved_by = serializers.CharField(source="moved_by.username", allow_null=True)

    class Meta:
        model = AliasMove
        fields = [
            "alias",
            "from_version",
            "to_version",
            "moved_by",
            "moved_at",
            "reason",
            "is_rollback",
        ]


class VersionSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="number")
    model = serializers.CharField(source="model.name")
    created_by = serializers.CharField(source="created_by.username", allow_null=True)
    files = serializers.SerializerMethodField()
    missing_allowed = serializers.SerializerMethodField(
        help_text="The table columns a prediction may send as null (the model fills them in)."
    )

    class Meta:
        model = ModelVersion
        fields = [
            "version",
            "model",
            "run",
            "created_by",
            "created_at",
            "description",
            "signature",
            "label_names",
            "metrics",
            "lineage",
            "files",
            "missing_allowed",
        ]

    def get_missing_allowed(self, version: ModelVersion) -> list[str]:
        return predictions.missing_allowed(version)

    def get_files(self, version: ModelVersion) -> list[dict]:
        return [
            {"path": file.path, "sha256": file.sha256, "size_bytes": file.size_bytes}
            for file in version.files.all()
        ]


class ModelSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username")
    aliases = serializers.SerializerMethodField()
    latest_version = serializers.SerializerMethodField()

    class Meta:
        model = RegisteredModel
        fields = [
            "name",
            "owner",
            "modality",
            "task",
            "tags",
            "visibility",
            "description",
            "licence",
            "intended_use",
            "production_needs_approval",
            "n_predictions",
            "headline_metric",
            "headline_value",
            "aliases",
            "latest_version",
            "created_at",
            "updated_at",
        ]

    def get_aliases(self, model: RegisteredModel) -> dict[str, int]:
        """{alias: version number}; from the prefetched aliases on list pages."""
        return {alias.name: alias.version.number for alias in model.aliases.all()}

    def get_latest_version(self, model: RegisteredModel) -> int | None:
        return model.latest_version.number if model.latest_version else None


class ModelUpdateSerializer(serializers.Serializer):
    description = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    licence = serializers.CharField(required=False, allow_blank=True, max_length=100)
    intended_use = serializers.CharField(required=False, allow_blank=True, max_length=5_000)
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False)
    visibility = serializers.ChoiceField(choices=["private", "public"], required=False)
    production_needs_approval = serializers.BooleanField(required=False)


class PublishSerializer(serializers.Serializer):
    run = serializers.IntegerField(min_value=1, help_text="A succeeded run of yours.")
    description = serializers.CharField(required=False, allow_blank=True, max_length=5_000)
    visibility = serializers.ChoiceField(
        choices=["private", "public"],
        required=False,
        help_text="For a new model (private by default), or to change an existing one's.",
    )


class AliasMoveSerializer(serializers.Serializer):
    alias = serializers.CharField(max_length=50)
    version = serializers.IntegerField(min_value=1)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


class RollbackSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


class PredictRequestSerializer(serializers.Serializer):
    inputs = serializers.ListField(
        child=serializers.JSONField(),
        allow_empty=False,
        help_text="Rows as objects keyed by column (tables); base64 file bytes (images, audio).",
    )
