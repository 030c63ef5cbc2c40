"""Admin for published models: models, versions (read-only: they are immutable), aliases with
their history, promotion approvals and the sampled prediction log.

Approvals go through `registry.services.promotion_decide`, so an approved promotion moves the
alias and records the move exactly as a creator's move would be recorded.
"""

from __future__ import annotations

from django.contrib import admin, messages

from registry.admin_actions import apply_to_each
from registry.models import (
    AliasMove,
    ModelAlias,
    ModelVersion,
    ModelVersionFile,
    ModelWebhook,
    PredictionLog,
    PromotionRequest,
    PromotionStatus,
    RegisteredModel,
    WebhookDelivery,
)
from registry.services.aliases import promotion_decide


class VersionInline(admin.TabularInline):
    model = ModelVersion
    fields = ["number", "run", "created_by", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


class AliasInline(admin.TabularInline):
    model = ModelAlias
    fields = ["name", "version", "updated_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False


class MoveInline(admin.TabularInline):
    model = AliasMove
    fields = [
        "moved_at",
        "alias",
        "from_version",
        "to_version",
        "moved_by",
        "reason",
        "is_rollback",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    max_num = 0


@admin.register(RegisteredModel)
class RegisteredModelAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "owner",
        "modality",
        "task",
        "visibility",
        "production_needs_approval",
        "n_predictions",
        "updated_at",
    ]
    list_filter = ["modality", "task", "visibility", "production_needs_approval"]
    search_fields = ["name", "owner__username", "description"]
    readonly_fields = ["name", "owner", "modality", "task", "n_predictions", "created_at"]
    inlines = [AliasInline, VersionInline, MoveInline]


class VersionFileInline(admin.TabularInline):
    model = ModelVersionFile
    fields = ["path", "size_bytes", "sha256"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    max_num = 0


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "run", "created_by", "created_at"]
    list_select_related = ["model", "run", "created_by"]
    search_fields = ["model__name"]
    readonly_fields = [
        "model",
        "number",
        "run",
        "created_by",
        "description",
        "signature",
        "label_names",
        "metrics",
        "lineage",
        "created_at",
    ]
    inlines = [VersionFileInline]

    def has_add_permission(self, request) -> bool:
        return False  # versions are made from runs, by the registry service


@admin.register(AliasMove)
class AliasMoveAdmin(admin.ModelAdmin):
    list_display = [
        "moved_at",
        "model",
        "alias",
        "from_version",
        "to_version",
        "moved_by",
        "is_rollback",
        "reason",
    ]
    list_select_related = ["model", "from_version", "to_version", "moved_by"]
    list_filter = ["alias", "is_rollback"]
    search_fields = ["model__name", "reason"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # the history is kept as it happened


@admin.action(description="Approve: move the alias")
def approve(modeladmin, request, queryset) -> None:
    _decide(modeladmin, request, queryset, approve=True)


@admin.action(description="Reject")
def reject(modeladmin, request, queryset) -> None:
    _decide(modeladmin, request, queryset, approve=False)


def _decide(modeladmin, request, queryset, *, approve: bool) -> None:
    done = apply_to_each(
        modeladmin,
        request,
        queryset.filter(status=PromotionStatus.PENDING),
        lambda promotion: promotion_decide(
            request=promotion, operator=request.user, approve=approve
        ),
        label=str,
        refused_level=messages.ERROR,
    )
    verb = "approved" if approve else "rejected"
    modeladmin.message_user(request, f"{done} promotion request(s) {verb}.", messages.SUCCESS)


@admin.register(PromotionRequest)
class PromotionRequestAdmin(admin.ModelAdmin):
    list_display = ["created_at", "model", "alias", "version", "requested_by", "status", "reason"]
    list_select_related = ["model", "version", "requested_by"]
    list_filter = ["status", "alias"]
    readonly_fields = [
        "model",
        "alias",
        "version",
        "requested_by",
        "reason",
        "status",
        "decided_by",
        "decided_at",
        "created_at",
    ]
    actions = [approve, reject]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(PredictionLog)
class PredictionLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "version", "alias", "n_inputs", "latency_ms"]
    list_select_related = ["version__model"]
    readonly_fields = [
        "version",
        "alias",
        "n_inputs",
        "inputs_summary",
        "outputs",
        "latency_ms",
        "created_at",
    ]

    def has_add_permission(self, request) -> bool:
        return False


class DeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    fields = ["created_at", "event", "status", "attempts", "last_status_code", "last_error"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    max_num = 0
    ordering = ["-created_at"]


@admin.register(ModelWebhook)
class ModelWebhookAdmin(admin.ModelAdmin):
    list_display = ["model", "url", "events", "is_active", "created_at"]
    list_select_related = ["model"]
    list_filter = ["is_active"]
    search_fields = ["model__name", "url"]
    # The URL was checked against internal addresses when it was registered: it is not
    # edited here, where nothing would check it again. Operators can switch a hook off.
    readonly_fields = ["model", "url", "events", "secret", "created_by", "created_at"]
    inlines = [DeliveryInline]

    def has_add_permission(self, request) -> bool:
        return False


@admin.action(description="Try again now")
def retry_now(modeladmin, request, queryset) -> None:
    from django.utils import timezone

    count = queryset.filter(status="pending").update(next_attempt_at=timezone.now())
    modeladmin.message_user(request, f"{count} delivery(ies) will be tried within a minute.")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "webhook",
        "event",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
    ]
    list_select_related = ["webhook__model"]
    list_filter = ["status", "event"]
    readonly_fields = [
        "webhook",
        "event",
        "payload",
        "status",
        "attempts",
        "last_status_code",
        "last_error",
        "next_attempt_at",
        "created_at",
        "delivered_at",
    ]
    actions = [retry_now]

    def has_add_permission(self, request) -> bool:
        return False
