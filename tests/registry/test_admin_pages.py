"""The operators' admin: every registered model's list, add (where allowed) and change pages
open, with published models, aliases, approvals, webhooks and deliveries in them."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from registry import services
from registry.models import PromotionRequest, PromotionStatus, WebhookDelivery
from registry.services import webhooks
from tests.clients import signed_in
from tests.factories import UserFactory
from tests.registry.test_services_published import publish, trained_run


@pytest.fixture
def operator_pages(db) -> Client:
    operator = UserFactory(username="oscar_operator", is_staff=True, is_superuser=True)
    return signed_in(operator)


@pytest.fixture
def published_world(owner):
    version = publish(owner, trained_run(owner))
    model = services.model_update(model=version.model, production_needs_approval=True)
    services.model_alias_move(user=owner, model=model, alias="staging", version=version)
    services.model_alias_move(user=owner, model=model, alias="production", version=version)
    hook = webhooks.webhook_create(
        user=owner, model=model, url="http://127.0.0.1:9/hook", allow_private=True
    )
    webhooks.deliveries_create(model_id=model.pk, event="alias_moved", payload={"x": 1})
    services.prediction_log(
        version=version, alias="staging", inputs=[{"hue": 1}], outputs=[{}], latency_ms=1, keep=9
    )
    return model, hook


def test_every_admin_page_opens(operator_pages, published_world):
    for model_class in admin.site._registry:
        meta = model_class._meta
        changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        assert operator_pages.get(changelist).status_code == 200, changelist
        first = model_class._default_manager.first()
        if first is not None:
            change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[first.pk])
            assert operator_pages.get(change).status_code == 200, change


def test_an_operator_approves_a_pending_production_move(operator_pages, published_world):
    model, _hook = published_world
    pending = PromotionRequest.objects.get()

    response = operator_pages.post(
        reverse("admin:registry_promotionrequest_changelist"),
        {"action": "approve", "_selected_action": [pending.pk]},
        follow=True,
    )

    assert response.status_code == 200
    pending.refresh_from_db()
    assert pending.status == PromotionStatus.APPROVED
    assert model.aliases.get(name="production").version.number == 1
    assert WebhookDelivery.objects.filter(event="alias_moved").count() >= 1
