"""`/api/v1/datasets/`: upload, list, read and version datasets; `/api/v1/brushes/`."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from gallery.api.parsers import FastJSONParser
from pipelines.brushes import list_brushes
from pipelines.training.templates import list_templates
from registry import dataset_selectors, services
from registry.errors import InvalidInput, LimitExceeded
from registry.models import Dataset, DatasetVersion, Modality, Visibility


class DatasetVersionSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", default=None)

    class Meta:
        model = DatasetVersion
        fields = [
            "id",
            "number",
            "sha256",
            "file_format",
            "original_name",
            "size_bytes",
            "n_samples",
            "schema",
            "sample_rate",
            "note",
            "parent",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class DatasetSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True)
    n_versions = serializers.IntegerField(read_only=True, default=0)
    latest_version = serializers.SerializerMethodField()

    class Meta:
        model = Dataset
        fields = [
            "id",
            "name",
            "description",
            "modality",
            "visibility",
            "owner",
            "n_versions",
            "latest_version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "owner",
            "n_versions",
            "latest_version",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {"name": {"validators": []}}

    def get_latest_version(self, dataset: Dataset) -> dict | None:
        latest = self.context.get("latest_versions", {}).get(dataset.pk)
        if latest is None and "latest_versions" not in self.context:
            latest = dataset_selectors.latest_version(dataset)
        return DatasetVersionSerializer(latest).data if latest is not None else None


class DatasetUploadSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    modality = serializers.ChoiceField(choices=Modality.choices)
    file = serializers.FileField()
    description = serializers.CharField(required=False, allow_blank=True, default="")
    visibility = serializers.ChoiceField(choices=Visibility.choices, default=Visibility.PRIVATE)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class VersionUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class DatasetUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)


UPLOAD_OVERHEAD_BYTES = 64 * 1024


def _refuse_oversized_upload(request) -> None:
    """413 from the Content-Length alone, before an oversized body is read."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    limit = services.ingest_limits().max_upload_bytes
    if declared > limit + UPLOAD_OVERHEAD_BYTES:
        raise LimitExceeded(
            f"the upload is {declared / 2**20:.1f} MiB; datasets are limited to "
            f"{limit // 2**20} MiB",
            field="file",
        )


class DatasetViewSet(viewsets.GenericViewSet):
    serializer_class = DatasetSerializer
    queryset = Dataset.objects.none()
    parser_classes = [MultiPartParser, FormParser, FastJSONParser]

    def _page_context(self, datasets) -> dict:
        latest: dict[int, DatasetVersion] = {}
        ids = [dataset.pk for dataset in datasets]
        for version in (
            DatasetVersion.objects.filter(dataset_id__in=ids)
            .defer("manifest")
            .select_related("created_by")
            .order_by("dataset_id", "-number")
        ):
            latest.setdefault(version.dataset_id, version)
        return {"latest_versions": latest}

    @extend_schema(
        parameters=[
            OpenApiParameter("scope", str, enum=["all", "mine", "public"]),
            OpenApiParameter("modality", str, enum=list(Modality.values)),
            OpenApiParameter("search", str),
        ],
        responses=DatasetSerializer(many=True),
    )
    def list(self, request):
        datasets = dataset_selectors.datasets_visible_to(
            request.user, scope=request.query_params.get("scope", "all")
        )
        if modality := request.query_params.get("modality"):
            datasets = datasets.filter(modality=modality)
        if search := request.query_params.get("search"):
            datasets = datasets.filter(name__icontains=search)
        page = self.paginate_queryset(datasets)
        serializer = DatasetSerializer(page, many=True, context=self._page_context(page))
        return self.get_paginated_response(serializer.data)

    @extend_schema(request=DatasetUploadSerializer, responses={201: DatasetSerializer})
    def create(self, request):
        """Creates a dataset from an upload (CSV/Parquet, or a ZIP of images or sounds)."""
        _refuse_oversized_upload(request)
        serializer = DatasetUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        dataset, _version = services.dataset_create(
            owner=request.user,
            name=data["name"],
            modality=data["modality"],
            upload=data["file"],
            original_name=data["file"].name,
            description=data["description"],
            visibility=data["visibility"],
            note=data["note"],
        )
        dataset = dataset_selectors.dataset_for_user(request.user, dataset.pk)
        return Response(DatasetSerializer(dataset).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=DatasetSerializer)
    def retrieve(self, request, pk=None):
        return Response(
            DatasetSerializer(dataset_selectors.dataset_for_user(request.user, pk)).data
        )

    @extend_schema(request=DatasetUpdateSerializer, responses=DatasetSerializer)
    def partial_update(self, request, pk=None):
        dataset = dataset_selectors.dataset_owned_by(request.user, pk)
        serializer = DatasetUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.dataset_update(dataset=dataset, **serializer.validated_data)
        return Response(
            DatasetSerializer(dataset_selectors.dataset_for_user(request.user, pk)).data
        )

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        services.dataset_delete(dataset=dataset_selectors.dataset_owned_by(request.user, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(methods=["GET"], responses=DatasetVersionSerializer(many=True))
    @extend_schema(
        methods=["POST"], request=VersionUploadSerializer, responses={201: DatasetVersionSerializer}
    )
    @action(detail=True, methods=["get", "post"])
    def versions(self, request, pk=None):
        """GET the versions, newest first; POST (multipart `file`) adds one. The same content
        again answers 200 with the existing version instead of 201."""
        if request.method == "GET":
            dataset = dataset_selectors.dataset_for_user(request.user, pk)
            versions = dataset_selectors.versions_of(dataset)
            return Response(DatasetVersionSerializer(versions, many=True).data)
        dataset = dataset_selectors.dataset_owned_by(request.user, pk)
        _refuse_oversized_upload(request)
        serializer = VersionUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        version, created = services.dataset_version_add(
            dataset=dataset,
            upload=upload,
            created_by=request.user,
            original_name=upload.name,
            note=serializer.validated_data["note"],
        )
        return Response(
            DatasetVersionSerializer(version).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(responses=DatasetVersionSerializer)
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<version_id>\d+)")
    def version_detail(self, request, pk=None, version_id=None):
        dataset = dataset_selectors.dataset_for_user(request.user, pk)
        return Response(
            DatasetVersionSerializer(dataset_selectors.version_of(dataset, version_id)).data
        )

    @extend_schema(
        request={
            "application/json": {
                "type": "object",
                "properties": {
                    "labels": {
                        "type": "object",
                        "additionalProperties": {"type": ["string", "null"]},
                    },
                    "note": {"type": "string"},
                },
            }
        },
        responses={201: DatasetVersionSerializer},
    )
    @action(detail=True, methods=["post"], url_path=r"versions/(?P<version_id>\d+)/labels")
    def relabel(self, request, pk=None, version_id=None):
        """Saves labels `{"labels": {"<sample path>": "<class>" | null}}` as a new version."""
        dataset = dataset_selectors.dataset_owned_by(request.user, pk)
        version = dataset_selectors.version_of(dataset, version_id)
        labels = request.data.get("labels") if isinstance(request.data, dict) else None
        if not isinstance(labels, dict):
            raise InvalidInput('send {"labels": {"<sample path>": "<class>"}}', field="labels")
        created_version, created = services.dataset_version_relabel(
            version=version,
            labels=labels,
            created_by=request.user,
            note=str(request.data.get("note", "")),
        )
        return Response(
            DatasetVersionSerializer(created_version).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class TemplateViewSet(viewsets.ViewSet):
    """The model templates a training can use, with the JSON schema of their parameters."""

    permission_classes = [AllowAny]

    @extend_schema(responses={200: {"type": "array", "items": {"type": "object"}}})
    def list(self, request):
        return Response(list_templates())


class BrushViewSet(viewsets.ViewSet):
    """The preprocessing brushes and the JSON schema of each one's config."""

    permission_classes = [AllowAny]

    @extend_schema(
        responses={200: {"type": "array", "items": {"type": "object"}}},
    )
    def list(self, request):
        return Response(list_brushes())
