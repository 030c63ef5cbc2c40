"""Writes for model webhooks: register a URL, record deliveries and their attempts.

A webhook URL must reach a public address: the studio refuses loopback, private, link-local and
other reserved addresses (a webhook is an open door for a request from inside the studio's
network otherwise), unless `WEBHOOK_ALLOW_PRIVATE` is on. The check runs when the hook is
registered and again before every attempt (`pipelines.webhooks`), since a name can be pointed
elsewhere later.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from registry.errors import Conflict, InvalidInput
from registry.models import (
    DeliveryStatus,
    ModelWebhook,
    RegisteredModel,
    WebhookDelivery,
    WebhookEvent,
)

MAX_WEBHOOKS_PER_MODEL = 10
MAX_ATTEMPTS = 5
# Pause before attempts 2, 3, 4 and 5.
RETRY_AFTER_S = (30, 120, 600, 3600)
MAX_ERROR_CHARS = 500


class UnsafeWebhookUrl(InvalidInput):
    """A URL the studio will not call: not http(s), no host, or an internal address."""


def check_webhook_url(url: Any, *, allow_private: bool) -> str:
    """The URL when the studio may call it; UnsafeWebhookUrl saying why not."""
    if not isinstance(url, str) or len(url) > 500:
        raise UnsafeWebhookUrl("url: an http or https URL of at most 500 characters", field="url")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeWebhookUrl("url: an http or https URL with a host name", field="url")
    if parts.username or parts.password:
        raise UnsafeWebhookUrl(
            "url: credentials in the URL are refused; use the secret", field="url"
        )
    if not allow_private:
        for address in resolved_addresses(parts.hostname, parts.port):
            if not address.is_global or address.is_multicast:
                raise UnsafeWebhookUrl(
                    f"url: {parts.hostname} is {address}, a private, loopback or reserved "
                    "address; webhooks call public addresses only",
                    field="url",
                )
    return url.strip()


def resolved_addresses(host: str, port: int | None) -> list[ipaddress._BaseAddress]:
    """Every address `host` stands for (a literal address stands for itself)."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port or 443, type=socket.SOCK_STREAM)
    except OSError:
        raise UnsafeWebhookUrl(f"url: the host {host!r} does not resolve", field="url") from None
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


def check_events(events: Any) -> list[str]:
    if events is None:
        return sorted(WebhookEvent.values)
    if (
        not isinstance(events, list)
        or not events
        or any(event not in WebhookEvent.values for event in events)
    ):
        raise InvalidInput(f"events: a list of {', '.join(WebhookEvent.values)}", field="events")
    return sorted(set(events))


@transaction.atomic
def webhook_create(
    *,
    user: AbstractBaseUser,
    model: RegisteredModel,
    url: str,
    events: Sequence[str] | None = None,
    allow_private: bool = False,
) -> ModelWebhook:
    """Registers a webhook on `model` with a fresh signing secret (locks the model row)."""
    model = RegisteredModel.objects.select_for_update().get(pk=model.pk)
    url = check_webhook_url(url, allow_private=allow_private)
    if model.webhooks.count() >= MAX_WEBHOOKS_PER_MODEL:
        raise Conflict(f"a model has at most {MAX_WEBHOOKS_PER_MODEL} webhooks", field="url")
    return ModelWebhook.objects.create(
        model=model,
        url=url,
        events=check_events(list(events) if events is not None else None),
        secret=secrets.token_hex(32),
        created_by=user,
    )


def webhook_delete(*, webhook: ModelWebhook) -> None:
    webhook.delete()


# A delivery's first attempt is handed to a worker at once; should that task be lost (the Redis
# broker delivers at most once), the minute schedule takes the delivery up after this long.
FIRST_ATTEMPT_GRACE_S = 120


def deliveries_create(
    *, model_id: int, event: str, payload: dict[str, Any], now: datetime | None = None
) -> list[WebhookDelivery]:
    """One pending delivery per active webhook of the model that listens to `event`."""
    hooks = [
        hook
        for hook in ModelWebhook.objects.filter(model_id=model_id, is_active=True)
        if event in hook.events
    ]
    fallback = (now or timezone.now()) + timedelta(seconds=FIRST_ATTEMPT_GRACE_S)
    return WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(webhook=hook, event=event, payload=payload, next_attempt_at=fallback)
            for hook in hooks
        ]
    )


@transaction.atomic
def delivery_record_attempt(
    *, delivery_id: int, now: datetime, status_code: int | None, error: str = ""
) -> WebhookDelivery:
    """Records one attempt (locks the delivery row): a 2xx answer delivers it; otherwise the
    next attempt is scheduled, or the delivery fails after MAX_ATTEMPTS."""
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
    delivery.attempts += 1
    delivery.last_status_code = status_code
    succeeded = status_code is not None and 200 <= status_code < 300 and not error
    delivery.last_error = "" if succeeded else (error or f"HTTP {status_code}")[:MAX_ERROR_CHARS]
    if succeeded:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = (
            DeliveryStatus.SUCCEEDED,
            now,
            None,
        )
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
    else:
        pause = RETRY_AFTER_S[min(delivery.attempts - 1, len(RETRY_AFTER_S) - 1)]
        delivery.next_attempt_at = now + timedelta(seconds=pause)
    delivery.save()
    return delivery


def due_delivery_ids(*, now: datetime, limit: int = 100) -> list[int]:
    """Pending deliveries whose retry time has come (first attempts are sent at once)."""
    return list(
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
