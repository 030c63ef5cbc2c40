"""`/api/v1/tokens/`: a user's API tokens (the key is returned once, on creation)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from gallery.api.serializers import ApiTokenSerializer
from registry import selectors, services
from registry.errors import NotFound
from registry.models import ApiToken


class ApiTokenViewSet(viewsets.GenericViewSet, mixins.ListModelMixin):
    serializer_class = ApiTokenSerializer
    queryset = ApiToken.objects.none()

    def get_queryset(self):
        return selectors.api_tokens_for_user(self.request.user)

    @extend_schema(
        request=ApiTokenSerializer,
        responses={201: {"type": "object", "properties": {"key": {"type": "string"}}}},
    )
    def create(self, request):
        """Creates a token; `key` in the answer is the only time the key is shown."""
        serializer = ApiTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, key = services.api_token_create(
            user=request.user, name=serializer.validated_data["name"]
        )
        return Response({**ApiTokenSerializer(token).data, "key": key}, status=201)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        """Revokes a token."""
        is_id = str(pk).isascii() and str(pk).isdigit()  # "²".isdigit() is true too
        token = self.get_queryset().filter(pk=pk).first() if is_id else None
        if token is None:
            raise NotFound(f"token {pk} not found")
        services.api_token_revoke(token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)
