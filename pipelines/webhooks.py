"""Webhook deliveries: registry signals become signed HTTP POSTs to each model's webhooks.

A version published or an alias moved stores one delivery per listening webhook and hands
each to a worker on commit (`pipelines.tasks.deliver_webhook`). An attempt POSTs the JSON
payload with `X-CanvasCraft-Event`, `X-CanvasCraft-Delivery` and `X-CanvasCraft-Signature:
sha256=<HMAC of the body with the webhook's secret>`, follows no redirect, and gives up after
WEBHOOK_TIMEOUT_S; anything but a 2xx is retried with growing pauses (the minute schedule
picks due retries up) until MAX_ATTEMPTS.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from registry.models import ModelVersion, RegisteredModel, WebhookDelivery, WebhookEvent
from registry.services import webhooks
from registry.signals import AliasMoved, ModelVersionCreated

logger = logging.getLogger("canvascraft.webhooks")
USER_AGENT = "CanvasCraft-Webhooks/1"


def on_version_created(sender, event: ModelVersionCreated, **kwargs) -> None:
    version = ModelVersion.objects.select_related("model", "created_by").get(pk=event.version_id)
    payload = {
        "event": WebhookEvent.VERSION_CREATED,
        "model": version.model.name,
        "version": version.number,
        "run": version.run_id,
        "created_by": version.created_by.get_username() if version.created_by else None,
        "at": version.created_at.isoformat(),
    }
    _store_and_send(event.model_id, WebhookEvent.VERSION_CREATED, payload)


def on_alias_moved(sender, event: AliasMoved, **kwargs) -> None:
    numbers = dict(
        ModelVersion.objects.filter(
            pk__in=[event.from_version_id, event.to_version_id]
        ).values_list("pk", "number")
    )
    model = RegisteredModel.objects.get(pk=event.model_id)
    payload = {
        "event": WebhookEvent.ALIAS_MOVED,
        "model": model.name,
        "alias": event.alias,
        "from_version": numbers.get(event.from_version_id),
        "to_version": numbers.get(event.to_version_id),
        "at": timezone.now().isoformat(),
    }
    _store_and_send(event.model_id, WebhookEvent.ALIAS_MOVED, payload)


def _store_and_send(model_id: int, event: str, payload: dict[str, Any]) -> None:
    from django_q.tasks import async_task

    with transaction.atomic():
        deliveries = webhooks.deliveries_create(model_id=model_id, event=event, payload=payload)
        for delivery in deliveries:
            transaction.on_commit(
                lambda delivery_id=delivery.pk: async_task(
                    "pipelines.tasks.deliver_webhook",
                    delivery_id,
                    cluster=settings.TASK_QUEUES["cpu"],
                    task_name=f"webhook delivery {delivery_id}",
                )
            )


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 3xx is an answer, not a hop to an address nobody checked


_opener = urllib.request.build_opener(_NoRedirects)


def deliver(delivery_id: int) -> str:
    """One attempt of one delivery; returns its status afterwards."""
    delivery = WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)
    if delivery.status != "pending":
        return delivery.status
    hook = delivery.webhook
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    status_code, error = None, ""
    try:
        webhooks.check_webhook_url(hook.url, allow_private=settings.WEBHOOK_ALLOW_PRIVATE)
        request = urllib.request.Request(
            hook.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "X-CanvasCraft-Event": delivery.event,
                "X-CanvasCraft-Delivery": str(delivery.pk),
                "X-CanvasCraft-Signature": signature(hook.secret, body),
            },
        )
        with _opener.open(request, timeout=settings.WEBHOOK_TIMEOUT_S) as response:
            status_code = response.status
    except urllib.error.HTTPError as failure:
        status_code = failure.code
    except webhooks.UnsafeWebhookUrl as refused:
        error = refused.message
    except (OSError, ValueError) as failure:
        error = f"{type(failure).__name__}: {failure}"
    recorded = webhooks.delivery_record_attempt(
        delivery_id=delivery.pk, now=timezone.now(), status_code=status_code, error=error
    )
    if recorded.status != "succeeded":
        logger.warning(
            "webhook delivery %s: attempt %s %s",
            delivery.pk,
            recorded.attempts,
            recorded.last_error,
        )
    return recorded.status


def retry_due_deliveries() -> int:
    """Attempts every delivery whose retry time has come (the minute schedule calls this)."""
    due = webhooks.due_delivery_ids(now=timezone.now())
    for delivery_id in due:
        deliver(delivery_id)
    return len(due)
