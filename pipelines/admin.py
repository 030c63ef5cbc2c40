"""Operators' view of sweeps: each sweep with its trials, and stop / resume actions.

The rows are the registry's (`Sweep`, `SweepTrial`), but stopping and resuming are orchestration
(cancelling trial runs, launching new ones), which lives here: registry/admin.py may not import
pipelines (imports run gallery -> pipelines -> registry), so the sweep admin is registered by
this app.
"""

from __future__ import annotations

from django.contrib import admin

from registry.admin_actions import apply_to_each
from registry.models import Sweep, SweepTrial


class SweepTrialInline(admin.TabularInline):
    model = SweepTrial
    fields = [
        "number",
        "state",
        "run",
        "params",
        "values",
        "pruned_at_step",
        "warm_start",
        "ended_at",
    ]
    readonly_fields = fields
    show_change_link = True
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["number"]


@admin.register(Sweep)
class SweepAdmin(admin.ModelAdmin):
    """Sweeps are created by their owners (page, API, `manage.py sweep`); operators watch,
    stop and resume them. Settings are read-only: trials already ran with them."""

    list_display = [
        "id",
        "name",
        "owner",
        "experiment",
        "status",
        "strategy",
        "pruner",
        "n_trials",
        "parallelism",
        "created_at",
        "ended_at",
    ]
    list_filter = ["status", "strategy", "pruner", "created_at"]
    search_fields = ["name", "owner__username", "experiment__name", "error_text"]
    list_select_related = ["owner", "experiment"]
    inlines = [SweepTrialInline]
    actions = ["stop_sweeps", "resume_sweeps"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Sweep._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Stop selected sweeps (cancel their running trials)")
    def stop_sweeps(self, request, queryset):
        from pipelines.sweeps import stop_sweep

        self._apply(request, queryset, stop_sweep, "Stopped")

    @admin.action(description="Resume selected sweeps")
    def resume_sweeps(self, request, queryset):
        from pipelines.sweeps import resume_sweep

        self._apply(request, queryset, resume_sweep, "Resumed")

    def _apply(self, request, queryset, operation, verb: str) -> None:
        done = apply_to_each(
            self,
            request,
            queryset.order_by("pk"),
            lambda sweep: operation(sweep=sweep),
            label=lambda sweep: f"sweep {sweep.pk}",
        )
        self.message_user(request, f"{verb} {done} sweeps.")


@admin.register(SweepTrial)
class SweepTrialAdmin(admin.ModelAdmin):
    """Read-only: trials are written by the sweep's orchestration and its runs."""

    list_display = ["sweep", "number", "state", "run", "pruned_at_step", "warm_start", "ended_at"]
    list_filter = ["state", "warm_start"]
    search_fields = ["sweep__name"]
    list_select_related = ["sweep", "run"]
    ordering = ["-sweep_id", "number"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in SweepTrial._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
