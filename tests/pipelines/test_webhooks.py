"""Model webhooks: registered through the API, refused for internal addresses, told about a
published version and an alias move with a signed body, retried with growing pauses, and
logged. A real HTTP server on loopback plays the receiver (allowed by setting)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.utils import timezone

from pipelines import webhooks as delivery
from registry import services
from registry.models import DeliveryStatus, ModelWebhook, WebhookDelivery
from registry.services import webhooks
from tests.registry.test_services_published import publish, trained_run


class Receiver:
    """An HTTP server that answers each POST with the next status of `answers` (then 204)."""

    def __init__(self, answers=()):
        self.requests: list[tuple[object, bytes]] = []
        self.answers = list(answers)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((self.headers, body))
                self.send_response(receiver.answers.pop(0) if receiver.answers else 204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def queued_tasks(monkeypatch):
    """Runs webhook tasks as soon as they are handed over (a worker would, moments later)."""
    import django_q.tasks

    def run_now(name, *args, **kwargs):
        assert name == "pipelines.tasks.deliver_webhook"
        delivery.deliver(*args)

    monkeypatch.setattr(django_q.tasks, "async_task", run_now)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data",
        "ftp://example.com/hook",
        "http://user:pw@example.com/hook",
    ],
)
def test_internal_addresses_and_odd_urls_are_refused(url):
    with pytest.raises(webhooks.UnsafeWebhookUrl) as caught:
        webhooks.check_webhook_url(url, allow_private=False)
    assert caught.value.field == "url"


def test_a_public_address_is_accepted_and_loopback_only_when_allowed():
    assert webhooks.check_webhook_url("https://93.184.216.34/hook", allow_private=False)
    assert webhooks.check_webhook_url("http://127.0.0.1:9/x", allow_private=True)


@pytest.mark.django_db(transaction=True)
def test_events_reach_the_hook_signed_and_are_logged(
    owner, owner_client, receiver, queued_tasks, settings
):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    first = publish(owner, trained_run(owner))
    created = owner_client.post(
        "/api/v1/models/sketch-digits/webhooks/", {"url": receiver.url}, format="json"
    )
    assert created.status_code == 201, created.content
    secret = created.json()["secret"]
    assert owner_client.get("/api/v1/models/sketch-digits/webhooks/").json()[0]["events"] == [
        "alias_moved",
        "version_created",
    ]

    second = publish(owner, trained_run(owner))
    services.model_alias_move(user=owner, model=first.model, alias="production", version=second)

    events = [json.loads(body) for _headers, body in receiver.requests]
    assert [(e["event"], e.get("version"), e.get("to_version")) for e in events] == [
        ("version_created", 2, None),
        ("alias_moved", None, 2),
    ]
    headers, body = receiver.requests[1]
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-CanvasCraft-Signature"] == expected
    assert headers["X-CanvasCraft-Event"] == "alias_moved"
    hook = ModelWebhook.objects.get()
    log = owner_client.get(f"/api/v1/models/sketch-digits/webhooks/{hook.pk}/deliveries/").json()
    assert [(d["status"], d["attempts"], d["last_status_code"]) for d in log] == [
        ("succeeded", 1, 204),
        ("succeeded", 1, 204),
    ]


@pytest.mark.django_db(transaction=True)
def test_a_failing_hook_is_retried_with_growing_pauses_then_given_up(owner, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    failing = Receiver(answers=[500, 502, 503, 500, 500])
    version = publish(owner, trained_run(owner))
    hook = webhooks.webhook_create(
        user=owner, model=version.model, url=failing.url, allow_private=True
    )
    (queued,) = webhooks.deliveries_create(
        model_id=version.model_id, event="version_created", payload={"event": "version_created"}
    )

    pauses = []
    for _attempt in range(5):
        delivery.deliver(queued.pk)
        queued.refresh_from_db()
        if queued.next_attempt_at:
            pauses.append(round((queued.next_attempt_at - timezone.now()).total_seconds()))
            # The minute schedule finds it due only once its pause is over.
            assert queued.pk not in webhooks.due_delivery_ids(now=timezone.now())
            assert queued.pk in webhooks.due_delivery_ids(now=queued.next_attempt_at)
    failing.close()

    assert pauses == [30, 120, 600, 3600]
    assert (queued.status, queued.attempts, queued.last_error) == (
        DeliveryStatus.FAILED,
        5,
        "HTTP 500",
    )
    assert len(failing.requests) == 5 and hook.deliveries.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_hook_whose_address_turned_internal_is_not_called(owner, receiver, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    version = publish(owner, trained_run(owner))
    webhooks.webhook_create(user=owner, model=version.model, url=receiver.url, allow_private=True)
    (queued,) = webhooks.deliveries_create(
        model_id=version.model_id, event="version_created", payload={}
    )
    settings.WEBHOOK_ALLOW_PRIVATE = False

    delivery.deliver(queued.pk)

    queued.refresh_from_db()
    assert receiver.requests == []
    assert "private, loopback or reserved" in queued.last_error
    assert queued.next_attempt_at > timezone.now() + timedelta(seconds=20)


@pytest.mark.django_db
def test_a_delivery_whose_first_attempt_was_lost_is_taken_up_by_the_schedule(owner):
    version = publish(owner, trained_run(owner))
    webhooks.webhook_create(
        user=owner, model=version.model, url="http://127.0.0.1:9/x", allow_private=True
    )
    now = timezone.now()

    (queued,) = webhooks.deliveries_create(
        model_id=version.model_id, event="version_created", payload={}, now=now
    )

    assert queued.pk not in webhooks.due_delivery_ids(now=now)
    later = now + timedelta(seconds=webhooks.FIRST_ATTEMPT_GRACE_S)
    assert webhooks.due_delivery_ids(now=later) == [queued.pk]


@pytest.mark.django_db
def test_the_api_refuses_an_internal_url_and_strangers(owner, owner_client, stranger_client):
    publish(owner, trained_run(owner))

    refused = owner_client.post(
        "/api/v1/models/sketch-digits/webhooks/", {"url": "http://127.0.0.1/x"}, format="json"
    )
    hidden = stranger_client.post(
        "/api/v1/models/sketch-digits/webhooks/", {"url": "https://93.184.216.34/"}, format="json"
    )

    assert refused.status_code == 400 and "url" in refused.json()["errors"]
    assert hidden.status_code == 404
    assert not ModelWebhook.objects.exists() and not WebhookDelivery.objects.exists()
