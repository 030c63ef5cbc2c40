"""Operators' view of the registry: experiments, runs with their metric summaries, artifacts,
API tokens, datasets, the feature store and the live event streams."""

from __future__ import annotations

from django.contrib import admin

from registry.admin_actions import apply_to_each
from registry.models import (
    ApiToken,
    Artifact,
    Dataset,
    DatasetVersion,
    EventStream,
    Experiment,
    FeatureSet,
    MetricSummary,
    Run,
    RunFeatureUse,
    StreamEvent,
)


class RunInline(admin.TabularInline):
    model = Run
    fields = ["name", "status", "created_at", "ended_at"]
    readonly_fields = fields
    show_change_link = True
    extra = 0
    max_num = 0
    ordering = ["-created_at"]


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "created_at", "updated_at"]
    list_filter = ["created_at"]
    search_fields = ["name", "description", "owner__username"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    inlines = [RunInline]


class MetricSummaryInline(admin.TabularInline):
    model = MetricSummary
    fields = ["key", "last_value", "last_step", "min_value", "max_value", "n_points"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False


class ArtifactInline(admin.TabularInline):
    model = Artifact
    fields = ["path", "size_bytes", "content_type", "sha256", "created_at"]
    readonly_fields = fields
    extra = 0
    max_num = 0


class FeaturesOfRunInline(admin.TabularInline):
    """Shows whether a run's features came from the feature store (a hit) or were computed."""

    model = RunFeatureUse
    fields = ["feature_set", "hit", "load_s", "created_at"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    verbose_name_plural = "features used"


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "name",
        "experiment",
        "owner",
        "status",
        "device",
        "created_at",
        "ended_at",
    ]
    list_filter = ["status", "device_class", "device", "created_at"]
    search_fields = ["name", "experiment__name", "owner__username", "error_text"]
    list_select_related = ["experiment", "owner"]
    raw_id_fields = ["experiment", "owner", "parent", "remix_of"]
    readonly_fields = [
        "created_at",
        "started_at",
        "ended_at",
        "heartbeat_at",
        "attempt",
        "cancel_requested_at",
        "progress",
        "summary",
        "log_text",
    ]
    inlines = [MetricSummaryInline, ArtifactInline, FeaturesOfRunInline]
    actions = ["cancel_runs"]

    @admin.action(description="Cancel selected runs (queued: now; running: at the next batch)")
    def cancel_runs(self, request, queryset):
        from registry.services import run_request_cancel

        cancelled = apply_to_each(
            self,
            request,
            queryset,
            lambda run: run_request_cancel(run=run),
            label=lambda run: f"run {run.pk}",
        )
        self.message_user(request, f"Cancel requested for {cancelled} runs.")


@admin.register(MetricSummary)
class MetricSummaryAdmin(admin.ModelAdmin):
    list_display = ["run", "key", "last_value", "last_step", "min_value", "max_value", "n_points"]
    search_fields = ["key", "run__name"]
    list_select_related = ["run"]
    raw_id_fields = ["run"]


@admin.register(Artifact)
class ArtifactAdmin(admin.ModelAdmin):
    list_display = ["path", "run", "size_bytes", "content_type", "created_at"]
    search_fields = ["path", "sha256", "run__name"]
    list_select_related = ["run"]
    raw_id_fields = ["run"]
    readonly_fields = ["sha256", "size_bytes", "created_at"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at", "created_at"]
    search_fields = ["name", "prefix", "user__username"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    readonly_fields = ["prefix", "key_digest", "created_at", "last_used_at"]
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False  # keys are created by their owners, who must see them once

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        from registry.services import api_token_revoke

        for token in queryset:
            api_token_revoke(token=token)


class DatasetVersionInline(admin.TabularInline):
    model = DatasetVersion
    fields = ["number", "file_format", "n_samples", "size_bytes", "sha256", "note", "created_at"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    exclude = ["manifest"]


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "modality", "visibility", "updated_at"]
    list_filter = ["modality", "visibility"]
    search_fields = ["name", "description", "owner__username"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    inlines = [DatasetVersionInline]


@admin.register(DatasetVersion)
class DatasetVersionAdmin(admin.ModelAdmin):
    """Versions are immutable: operators read them; uploads and annotation make new ones."""

    list_display = ["__str__", "file_format", "n_samples", "size_bytes", "created_by", "created_at"]
    list_filter = ["file_format", "dataset__modality"]
    search_fields = ["dataset__name", "sha256", "original_name"]
    list_select_related = ["dataset", "created_by"]
    exclude = ["manifest"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in DatasetVersion._meta.fields if field.name != "manifest"]

    def has_add_permission(self, request) -> bool:
        return False


class RunFeatureUseInline(admin.TabularInline):
    model = RunFeatureUse
    fields = ["run", "hit", "load_s", "created_at"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False


@admin.register(FeatureSet)
class FeatureSetAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "n_samples",
        "feature_shape",
        "size_bytes",
        "compute_s",
        "n_hits",
        "last_used_at",
    ]
    search_fields = ["dataset_version__dataset__name", "chain_hash", "dataset_sha256"]
    list_select_related = ["dataset_version__dataset"]
    readonly_fields = [
        "dataset_version",
        "dataset_sha256",
        "chain_hash",
        "chain_config",
        "blob_sha256",
        "chain_blob_sha256",
        "size_bytes",
        "n_samples",
        "feature_shape",
        "compute_s",
        "n_hits",
        "created_at",
        "last_used_at",
    ]
    inlines = [RunFeatureUseInline]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(RunFeatureUse)
class RunFeatureUseAdmin(admin.ModelAdmin):
    list_display = ["run", "feature_set", "hit", "load_s", "created_at"]
    list_filter = ["hit"]
    list_select_related = ["run", "feature_set__dataset_version__dataset"]
    raw_id_fields = ["run", "feature_set"]


@admin.register(EventStream)
class EventStreamAdmin(admin.ModelAdmin):
    """Each stream live clients can watch: how far it got and what was purged."""

    list_display = ["name", "last_seq", "purged_through"]
    search_fields = ["name"]
    readonly_fields = ["name", "last_seq", "purged_through"]
    ordering = ["-id"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(StreamEvent)
class StreamEventAdmin(admin.ModelAdmin):
    """What live clients were told, in order (read-only: the services append events)."""

    list_display = ["stream", "seq", "type", "created_at"]
    list_filter = ["type", "created_at"]
    search_fields = ["stream__name"]
    list_select_related = ["stream"]
    readonly_fields = ["stream", "seq", "type", "payload", "created_at"]
    ordering = ["-id"]
    show_full_result_count = False  # a COUNT(*) over millions of events per page is wasted

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


from registry import admin_published  # noqa: E402, F401  (published models live beside)
