"""`/api/v1/experiments/`: list, create, read, rename, delete the caller's experiments."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.response import Response

from gallery.api.serializers import ExperimentSerializer
from registry import selectors, services
from registry.models import Experiment


class ExperimentViewSet(viewsets.GenericViewSet):
    serializer_class = ExperimentSerializer
    queryset = Experiment.objects.none()  # for the schema; reads go through selectors

    @extend_schema(
        parameters=[
            OpenApiParameter("search", str, description="Part of the name."),
        ],
        responses=ExperimentSerializer(many=True),
    )
    def list(self, request):
        experiments = selectors.experiments_for_user(request.user).select_related("owner")
        if search := request.query_params.get("search"):
            experiments = experiments.filter(name__icontains=search)
        page = self.paginate_queryset(experiments)
        return self.get_paginated_response(ExperimentSerializer(page, many=True).data)

    @extend_schema(request=ExperimentSerializer, responses={201: ExperimentSerializer})
    def create(self, request):
        serializer = ExperimentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        experiment = services.experiment_create(owner=request.user, **serializer.validated_data)
        experiment.n_runs = 0
        return Response(ExperimentSerializer(experiment).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=ExperimentSerializer)
    def retrieve(self, request, pk=None):
        experiment = selectors.experiment_for_user(request.user, pk)
        return Response(ExperimentSerializer(experiment).data)

    @extend_schema(request=ExperimentSerializer, responses=ExperimentSerializer)
    def partial_update(self, request, pk=None):
        experiment = selectors.experiment_for_user(request.user, pk)
        serializer = ExperimentSerializer(experiment, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        updated = services.experiment_update(experiment=experiment, **serializer.validated_data)
        updated.n_runs = experiment.n_runs
        return Response(ExperimentSerializer(updated).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        experiment = selectors.experiment_for_user(request.user, pk)
        services.experiment_delete(experiment=experiment)
        return Response(status=status.HTTP_204_NO_CONTENT)
