"""`/api/v1/models/`: published models by name — list, read, edit; publish a run as a version;
move an alias or roll it back; predict (docs/models.md).

Everyone sees public models; a private model is its owner's alone (a 404 for anyone else).
Only the owner publishes, edits and moves aliases (a 403 on someone else's public model).
"""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from gallery import model_selectors, predict_lane, predictions
from gallery.api.published_serializers import (
    AliasMoveSerializer,
    AliasSerializer,
    ModelSerializer,
    ModelUpdateSerializer,
    MoveSerializer,
    PredictRequestSerializer,
    PublishSerializer,
    RollbackSerializer,
    VersionSerializer,
)
from pipelines.publishing import publish_run
from registry import services
from registry.errors import NotFound
from registry.models import ApiToken, ModelAlias, PromotionRequest, RegisteredModel, Run

NAME_PATTERN = r"[a-z0-9-]{1,100}"


def _with_listing(models):
    """Aliases and the latest version in two queries, whatever the number of models."""
    return models.select_related("owner", "latest_version").prefetch_related(
        Prefetch("aliases", queryset=ModelAlias.objects.select_related("version"))
    )


def _pending(promotion: PromotionRequest) -> Response:
    return Response(
        {
            "pending_approval": True,
            "alias": promotion.alias,
            "version": promotion.version.number,
            "detail": "production moves of this model wait for an operator's approval",
        },
        status=status.HTTP_202_ACCEPTED,
    )


class ModelViewSet(viewsets.GenericViewSet):
    serializer_class = ModelSerializer
    lookup_field = "name"
    lookup_value_regex = NAME_PATTERN
    queryset = RegisteredModel.objects.none()  # for the schema; reads go through selectors
    permission_classes = [permissions.AllowAny]

    def get_permissions(self):
        if self.action in ("list", "retrieve", "versions", "aliases", "predict", "version"):
            return [permissions.AllowAny()]
        return [permissions.IsAuthenticated()]

    @extend_schema(
        parameters=[
            OpenApiParameter("modality", str, description="tabular, image or audio"),
            OpenApiParameter("task", str, description="classification or regression"),
            OpenApiParameter("owner", str, description="username"),
            OpenApiParameter("mine", bool, description="only my models"),
        ]
    )
    def list(self, request):
        models = model_selectors.models_visible_to(request.user)
        for key in ("modality", "task"):
            if request.query_params.get(key):
                models = models.filter(**{key: request.query_params[key]})
        if request.query_params.get("owner"):
            models = models.filter(owner__username=request.query_params["owner"])
        if request.query_params.get("mine") in ("1", "true") and request.user.is_authenticated:
            models = models.filter(owner=request.user)
        page = self.paginate_queryset(_with_listing(models).order_by("-updated_at", "-id"))
        return self.get_paginated_response(ModelSerializer(page, many=True).data)

    def retrieve(self, request, name=None):
        model = model_selectors.model_for_user(request.user, name)
        model = _with_listing(RegisteredModel.objects.filter(pk=model.pk)).get()
        return Response(ModelSerializer(model).data)

    @extend_schema(request=ModelUpdateSerializer)
    def partial_update(self, request, name=None):
        model = model_selectors.model_owned_by(request.user, name)
        body = ModelUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.model_update(model=model, **body.validated_data)
        return self.retrieve(request, name=name)

    @extend_schema(request=PublishSerializer, responses={201: VersionSerializer})
    @action(detail=True, methods=["get", "post"])
    def versions(self, request, name=None):
        """GET: the versions, newest first. POST {"run": id}: publish the run as the next
        version (the model is created on first use) -> 201 with `version`."""
        if request.method == "POST":
            return self._publish(request, name)
        model = model_selectors.model_for_user(request.user, name)
        versions = model.versions.select_related("model", "created_by").prefetch_related("files")
        page = self.paginate_queryset(versions.order_by("-number"))
        return self.get_paginated_response(VersionSerializer(page, many=True).data)

    def _publish(self, request, name):
        body = PublishSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        run = Run.objects.filter(pk=body.validated_data["run"], owner=request.user).first()
        if run is None:
            raise NotFound(f"run {body.validated_data['run']} not found", field="run")
        version = publish_run(
            user=request.user,
            run=run,
            name=name,
            description=body.validated_data.get("description", ""),
            visibility=body.validated_data.get("visibility"),
        )
        return Response(VersionSerializer(version).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["get"], url_path=r"versions/(?P<number>[0-9]+)")
    def version(self, request, name=None, number=None):
        model = model_selectors.model_for_user(request.user, name)
        return Response(VersionSerializer(model_selectors.version_of(model, number)).data)

    @extend_schema(request=AliasMoveSerializer)
    @action(detail=True, methods=["get", "post"])
    def aliases(self, request, name=None):
        """GET: where each alias points and every move (newest first). POST {"alias", "version",
        "reason"}: move an alias -> 200 with the move, or 202 when it waits for approval."""
        if request.method == "POST":
            return self._move(request, name)
        model = model_selectors.model_for_user(request.user, name)
        return Response(
            {
                "aliases": AliasSerializer(model_selectors.aliases_of(model), many=True).data,
                "history": MoveSerializer(model_selectors.moves_of(model), many=True).data,
            }
        )

    def _move(self, request, name):
        model = model_selectors.model_owned_by(request.user, name)
        body = AliasMoveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        version = model_selectors.version_of(model, body.validated_data["version"])
        outcome = services.model_alias_move(
            user=request.user,
            model=model,
            alias=body.validated_data["alias"],
            version=version,
            reason=body.validated_data.get("reason", ""),
        )
        if isinstance(outcome, PromotionRequest):
            return _pending(outcome)
        return Response(MoveSerializer(outcome).data)

    @extend_schema(request=RollbackSerializer)
    @action(detail=True, methods=["post"], url_path=r"aliases/(?P<alias>[a-z][a-z0-9-]*)/rollback")
    def rollback(self, request, name=None, alias=None):
        """Moves the alias back to where it pointed before its last move."""
        model = model_selectors.model_owned_by(request.user, name)
        body = RollbackSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        outcome = services.model_alias_rollback(
            user=request.user, model=model, alias=alias, reason=body.validated_data.get("reason")
        )
        if isinstance(outcome, PromotionRequest):
            return _pending(outcome)
        return Response(MoveSerializer(outcome).data)

    @extend_schema(
        request=PredictRequestSerializer,
        parameters=[
            OpenApiParameter("alias", str, description="default production"),
            OpenApiParameter("version", int, description="a version number instead of an alias"),
            OpenApiParameter(
                "runtime",
                str,
                enum=[*predictions.RUNTIMES],
                description="auto (default: the ONNX export when the version has a checked "
                "one, else in-process), in-process, or onnx",
            ),
        ],
    )
    @action(detail=True, methods=["post"])
    def predict(self, request, name=None):
        """{"inputs": [...]} -> {"version": n, "runtime", "predictions": [...]}
        (see docs/models.md)."""
        predictions.check_body_size(request.META.get("CONTENT_LENGTH"))
        runtime = predictions.chosen_runtime(request.query_params)
        model = model_selectors.model_for_user(request.user, name)
        version, alias = predictions.chosen_version(model, request.query_params)
        body = PredictRequestSerializer(data=request.data)
        if not body.is_valid():
            raise ValidationError(body.errors)
        answer = predictions.predict(
            model, version, body.validated_data["inputs"], alias=alias, runtime=runtime
        )
        if isinstance(request.auth, ApiToken):  # the lane may answer this route next time
            predict_lane.remember(
                token_digest=request.auth.key_digest,
                name=name,
                query_string=request.META.get("QUERY_STRING", ""),
                model=model,
                version=version,
                alias=alias,
                runtime=runtime,
            )
        return Response(answer)
