"""Webhooks of a published model: a URL told about its events (a version published, an alias
moved), and the log of every delivery with its attempts."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class WebhookEvent(models.TextChoices):
    VERSION_CREATED = "version_created", "A version was published"
    ALIAS_MOVED = "alias_moved", "An alias moved"


class ModelWebhook(models.Model):
    model = models.ForeignKey(
        "registry.RegisteredModel", on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list, help_text="Event names it is told about.")
    secret = models.CharField(
        max_length=64, help_text="Signs each body: X-CanvasCraft-Signature: sha256=HMAC."
    )
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["model", "id"]

    def __str__(self) -> str:
        return f"{self.model.name} → {self.url}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One event for one webhook: tried at once, then again with growing pauses until it
    succeeds or runs out of attempts."""

    webhook = models.ForeignKey(ModelWebhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=32, choices=WebhookEvent.choices)
    payload = models.JSONField()
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]

    def __str__(self) -> str:
        return f"{self.event} → webhook {self.webhook_id} ({self.status})"
