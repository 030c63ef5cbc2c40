"""Operators' view of the registry: experiments, runs with their metric summaries, artifacts,
API tokens."""

from __future__ import annotations

from django.contrib import admin

from registry.models import ApiToken, Artifact, Experiment, MetricSummary, Run


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
    list_filter = ["status", "device", "created_at"]
    search_fields = ["name", "experiment__name", "owner__username", "error_text"]
    list_select_related = ["experiment", "owner"]
    raw_id_fields = ["experiment", "owner", "parent", "remix_of"]
    readonly_fields = ["created_at", "started_at", "ended_at"]
    inlines = [MetricSummaryInline, ArtifactInline]


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
