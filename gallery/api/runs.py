"""`/api/v1/runs/`: runs and what scripts log into them (params, metrics, artifacts)."""

from __future__ import annotations

import orjson
from django.conf import settings
from django.http import FileResponse, HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from gallery.api.parsers import FastJSONParser
from gallery.api.serializers import (
    ArtifactSerializer,
    ArtifactUploadSerializer,
    MetricBatchSerializer,
    MetricSeriesResponseSerializer,
    ParamsSerializer,
    RunCreateSerializer,
    RunFinishSerializer,
    RunSerializer,
    RunUpdateSerializer,
)
from gallery.live.snapshots import resolve_metric_ranges
from pipelines.services import cancel_run, start_run
from registry import artifact_store, selectors, services, streams
from registry.errors import InvalidInput, LimitExceeded, NotFound
from registry.models import Run, RunStatus

MAX_EVENTS_PAGE = 5_000


def _optional_run(user, run_id: int | None, field: str) -> Run | None:
    if run_id is None:
        return None
    try:
        return selectors.run_for_user(user, run_id)
    except NotFound:
        raise InvalidInput(f"{field} run {run_id} not found", field=field) from None


MULTIPART_OVERHEAD_BYTES = 64 * 1024
MAX_ID = 2**63 - 1


def _int_param(request, name: str, *, default: int, low: int, high: int) -> int:
    text = request.query_params.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise InvalidInput(f"{name} must be an integer from {low} to {high}", field=name)
    return int(text)


def _is_id(text: str) -> bool:
    """ASCII digits within the database's integer range ("²".isdigit() is true; int() refuses it,
    and SQLite refuses integers past 64 bits)."""
    return text.isascii() and text.isdigit() and int(text) <= MAX_ID


def _refuse_oversized_body(request) -> None:
    """Answers 413 from the Content-Length alone, before a byte of an oversized upload is read."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    limit = settings.MAX_ARTIFACT_BYTES
    if declared > limit + MULTIPART_OVERHEAD_BYTES:
        raise LimitExceeded(
            f"the upload is {declared / 2**20:.1f} MiB; artifacts are limited to "
            f"{limit // 2**20} MiB",
            field="file",
        )


class RunViewSet(viewsets.GenericViewSet):
    serializer_class = RunSerializer
    queryset = Run.objects.none()  # for the schema; reads go through selectors

    @extend_schema(
        parameters=[
            OpenApiParameter("experiment", int, description="Only runs of this experiment."),
            OpenApiParameter("status", str, enum=[choice.value for choice in RunStatus]),
            OpenApiParameter(
                "filter", str, description="e.g. `val_acc > 0.9 and params.lr < 0.01`"
            ),
            OpenApiParameter("order_by", str, description="e.g. `-metrics.val_acc`, `created_at`"),
            OpenApiParameter("page_size", int, description="1-1000, default 50."),
        ],
        responses=RunSerializer(many=True),
    )
    def list(self, request):
        experiment = request.query_params.get("experiment")
        if experiment is not None and not _is_id(experiment):
            raise InvalidInput("experiment must be an id", field="experiment")
        runs = selectors.runs_for_user(
            request.user,
            experiment_id=int(experiment) if experiment else None,
            status=request.query_params.get("status") or None,
            filter_text=request.query_params.get("filter", ""),
            order_by=request.query_params.get("order_by", ""),
            with_related=False,
        )
        page = self.paginate_queryset(runs)
        context = {"metric_summaries": selectors.metric_summaries_of([run.pk for run in page])}
        return self.get_paginated_response(RunSerializer(page, many=True, context=context).data)

    @extend_schema(request=RunCreateSerializer, responses={201: RunSerializer})
    def create(self, request):
        serializer = RunCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        experiment = selectors.experiment_for_user(request.user, data["experiment"])
        remix_of = _optional_run(request.user, data["remix_of"], "remix_of")
        if data["config"] is not None:
            run = start_run(
                owner=request.user,
                experiment=experiment,
                name=data["name"],
                config=data["config"],
                remix_of=remix_of,
            )
            return Response(RunSerializer(run).data, status=status.HTTP_201_CREATED)
        run = services.run_create(
            owner=request.user,
            experiment=experiment,
            name=data["name"],
            params=data["params"],
            parent=_optional_run(request.user, data["parent"], "parent"),
            remix_of=remix_of,
        )
        return Response(RunSerializer(run).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=RunSerializer)
    def retrieve(self, request, pk=None):
        return Response(RunSerializer(selectors.run_for_user(request.user, pk)).data)

    @extend_schema(request=RunUpdateSerializer, responses=RunSerializer)
    def partial_update(self, request, pk=None):
        run = selectors.run_for_user(request.user, pk)
        serializer = RunUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        run = services.run_update(run=run, name=serializer.validated_data["name"])
        return Response(RunSerializer(run).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        services.run_delete(run=selectors.run_for_user(request.user, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=RunSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancels a queued run at once; a running one stops at its next batch."""
        run = cancel_run(run=selectors.run_for_user(request.user, pk))
        return Response(RunSerializer(selectors.run_for_user(request.user, run.pk)).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("after", int, description="the last sequence number seen (0)"),
            OpenApiParameter("limit", int, description="at most this many events (500, ≤ 5000)"),
        ],
        responses={200: dict},
    )
    @action(detail=True, methods=["get"])
    def events(self, request, pk=None):
        """The run's live events after `after`, as the websocket `/ws/runs/{id}/` sends them:
        for clients that cannot hold a socket open. `reset: true` means the cursor is too far
        behind (or purged): read the run and its metrics afresh, then follow from `head`."""
        run = selectors.run_for_user(request.user, pk)
        after = _int_param(request, "after", default=0, low=0, high=2**63 - 1)
        limit = _int_param(request, "limit", default=500, low=1, high=MAX_EVENTS_PAGE)
        stream = streams.run_stream(run.pk)
        head = streams.stream_head(stream)
        events = None
        if after <= head:
            events = streams.events_after(stream, after, limit=limit, partial=True)
        if events is None:
            return Response({"head": head, "events": [], "reset": True})
        resolved = [resolve_metric_ranges(run.pk, event) for event in events]
        return Response({"head": head, "events": resolved, "reset": False})

    @extend_schema(request=RunFinishSerializer, responses=RunSerializer)
    @action(detail=True, methods=["post"])
    def finish(self, request, pk=None):
        """Ends the run: succeeded, failed (with error_text) or cancelled."""
        run = selectors.run_for_user(request.user, pk)
        serializer = RunFinishSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        run = services.run_finish(run=run, **serializer.validated_data)
        return Response(RunSerializer(selectors.run_for_user(request.user, run.pk)).data)

    @extend_schema(methods=["GET"], responses=ParamsSerializer)
    @extend_schema(methods=["POST"], request=ParamsSerializer, responses=ParamsSerializer)
    @action(detail=True, methods=["get", "post"])
    def params(self, request, pk=None):
        """GET the run's params; POST `{"params": {...}}` adds params (logged ones never change)."""
        run = selectors.run_for_user(request.user, pk)
        if request.method == "POST":
            serializer = ParamsSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            run = services.run_log_params(run=run, params=serializer.validated_data["params"])
        return Response({"params": run.params})

    @extend_schema(
        methods=["GET"],
        parameters=[
            OpenApiParameter("keys", str, description="Comma-separated keys; default: all."),
            OpenApiParameter("max_points", int, description="Downsample each series to N points."),
            OpenApiParameter("timestamps", bool, description="Include wall times (epoch ms)."),
        ],
        responses=MetricSeriesResponseSerializer,
    )
    @extend_schema(
        methods=["POST"],
        request=MetricBatchSerializer,
        responses={201: {"type": "object", "properties": {"n_points": {"type": "integer"}}}},
    )
    @action(detail=True, methods=["get", "post"], parser_classes=[FastJSONParser])
    def metrics(self, request, pk=None):
        """POST a batch of up to 10,000 points; GET series, whole or downsampled."""
        run = selectors.run_for_user(request.user, pk)
        if request.method == "POST":
            if not isinstance(request.data, dict) or "metrics" not in request.data:
                raise InvalidInput(
                    'send {"metrics": [{"key", "step", "value"}, ...]}', field="metrics"
                )
            batch = services.check_metric_batch(request.data["metrics"])
            n_points = services.run_log_metrics(run=run, batch=batch)
            return Response({"n_points": n_points}, status=status.HTTP_201_CREATED)
        return self._metric_series_response(request, run)

    def _metric_series_response(self, request, run: Run) -> HttpResponse:
        keys_text = request.query_params.get("keys", "")
        keys = [k for k in (part.strip() for part in keys_text.split(",")) if k]
        if not keys:
            keys = selectors.run_metric_keys(run)
        max_points_text = request.query_params.get("max_points")
        max_points = None
        if max_points_text:
            if not (max_points_text.isascii() and max_points_text.isdigit()):
                raise InvalidInput("max_points must be a positive integer", field="max_points")
            max_points = int(max_points_text)
        with_timestamps = request.query_params.get("timestamps") in ("1", "true", "yes")
        series = selectors.run_metric_series(
            run, keys, max_points=max_points, with_timestamps=with_timestamps
        )
        body = {"series": {}}
        for key, one in series.items():
            entry = {"steps": one.steps, "values": one.values, "n_points_total": one.n_points_total}
            if one.timestamps_ms is not None:
                entry["timestamps"] = one.timestamps_ms
            body["series"][key] = entry
        # orjson writes 100,000 floats in a few milliseconds and round-trips them exactly.
        return HttpResponse(orjson.dumps(body), content_type="application/json")

    @extend_schema(methods=["GET"], responses=ArtifactSerializer(many=True))
    @extend_schema(
        methods=["POST"], request=ArtifactUploadSerializer, responses={201: ArtifactSerializer}
    )
    @action(detail=True, methods=["get", "post"], parser_classes=[MultiPartParser, FormParser])
    def artifacts(self, request, pk=None):
        """GET lists the run's files; POST (multipart `file`, optional `path`) stores one."""
        run = selectors.run_for_user(request.user, pk)
        if request.method == "POST":
            _refuse_oversized_body(request)
            serializer = ArtifactUploadSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            upload = serializer.validated_data["file"]
            artifact = services.run_log_artifact(
                run=run,
                path=serializer.validated_data.get("path") or upload.name,
                stream=upload,
                content_type=upload.content_type or "",
            )
            return Response(ArtifactSerializer(artifact).data, status=status.HTTP_201_CREATED)
        artifacts = selectors.artifacts_of_run(run)
        return Response(ArtifactSerializer(artifacts, many=True).data)

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    @action(detail=True, methods=["get"], url_path=r"artifacts/(?P<artifact_id>\d+)")
    def artifact_download(self, request, pk=None, artifact_id=None):
        """Downloads one artifact's bytes."""
        run = selectors.run_for_user(request.user, pk)
        artifact = selectors.artifact_of_run(run, artifact_id)
        response = FileResponse(
            artifact_store.open_blob(artifact.sha256),
            as_attachment=True,
            filename=artifact.path.rsplit("/", 1)[-1],
            content_type=artifact.content_type,
        )
        response["X-Content-SHA256"] = artifact.sha256
        return response
