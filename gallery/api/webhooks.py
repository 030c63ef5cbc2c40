"""`/api/v1/models/{name}/webhooks/`: the owner's webhooks of a model — list, register (the
signing secret is shown in that answer only), delete, and each one's delivery log."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from gallery import model_selectors
from registry.errors import NotFound
from registry.models import ModelWebhook, WebhookDelivery, WebhookEvent
from registry.services import webhooks


class WebhookSerializer(serializers.ModelSerializer):
    secret_prefix = serializers.SerializerMethodField()

    class Meta:
        model = ModelWebhook
        fields = ["id", "url", "events", "is_active", "secret_prefix", "created_at"]

    def get_secret_prefix(self, hook: ModelWebhook) -> str:
        return hook.secret[:6] + "…"


class WebhookCreateSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=500)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.values),
        required=False,
        help_text="Default: every event.",
    )


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
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


class WebhookViewSet(viewsets.GenericViewSet):
    serializer_class = WebhookSerializer
    queryset = ModelWebhook.objects.none()  # for the schema; reads are scoped below
    permission_classes = [permissions.IsAuthenticated]

    def _model(self):
        return model_selectors.model_owned_by(self.request.user, self.kwargs["model_name"])

    def _hook(self, pk) -> ModelWebhook:
        text = str(pk)
        model = self._model()
        hook = None
        if text.isascii() and text.isdigit() and len(text) <= 18:
            hook = ModelWebhook.objects.filter(model=model, pk=int(text)).first()
        if hook is None:
            raise NotFound(f"webhook {pk} not found", field="webhook")
        return hook

    def list(self, request, model_name=None):
        hooks = ModelWebhook.objects.filter(model=self._model()).order_by("id")
        return Response(WebhookSerializer(hooks, many=True).data)

    @extend_schema(request=WebhookCreateSerializer, responses={201: WebhookSerializer})
    def create(self, request, model_name=None):
        body = WebhookCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        hook = webhooks.webhook_create(
            user=request.user,
            model=self._model(),
            url=body.validated_data["url"],
            events=body.validated_data.get("events"),
            allow_private=settings.WEBHOOK_ALLOW_PRIVATE,
        )
        answer = WebhookSerializer(hook).data
        answer["secret"] = hook.secret  # shown once: it signs every delivery
        return Response(answer, status=status.HTTP_201_CREATED)

    def destroy(self, request, model_name=None, pk=None):
        webhooks.webhook_delete(webhook=self._hook(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["get"])
    def deliveries(self, request, model_name=None, pk=None):
        """The webhook's newest deliveries, each with its attempts and last answer."""
        deliveries = self._hook(pk).deliveries.order_by("-created_at", "-id")[:100]
        return Response(DeliverySerializer(deliveries, many=True).data)
