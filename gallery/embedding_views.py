"""The 3-D view of a model: its dataset's samples as the model sees them (features or the
penultimate layer, on three principal axes), coloured by class or by prediction, drawn in the
browser where the creator orbits it (static/js/embedding_view.js).

Who may look: whoever may see the model and its dataset (the points are the dataset's samples).
The projection of a version never changes, so it is computed once per process and space.
"""

from __future__ import annotations

from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from gallery import model_selectors
from pipelines.embeddings import version_embedding
from pipelines.serving.embedding import SPACES
from pipelines.training.errors import TemplateConfigError
from pipelines.training.templates import get_template
from registry import dataset_selectors
from registry.errors import NotFound, RegistryError
from registry.models import DatasetVersion, ModelVersion

CACHE_S = 24 * 3600


def _version_and_dataset(request: HttpRequest, name: str) -> tuple[ModelVersion, DatasetVersion]:
    try:
        model = model_selectors.model_for_user(request.user, name)
        number = request.GET.get("version") or (
            model.latest_version.number if model.latest_version else 0
        )
        version = model_selectors.version_of(model, number)
        dataset = DatasetVersion.objects.select_related("dataset").get(
            pk=version.lineage.get("dataset_version")
        )
        dataset_selectors.dataset_for_user(request.user, dataset.dataset_id)
    except (NotFound, DatasetVersion.DoesNotExist):
        raise Http404("no such model, version or visible dataset") from None
    return version, dataset


@require_GET
def model_embedding(request: HttpRequest, name: str) -> HttpResponse:
    version, dataset = _version_and_dataset(request, name)
    return render(
        request,
        "gallery/models/embedding.html",
        {
            "model": version.model,
            "version": version,
            "dataset": dataset,
            "versions": list(version.model.versions.values_list("number", flat=True)),
            "spaces": SPACES,
            "has_network": _is_network(version.lineage.get("template")),
        },
    )


def _is_network(template_name) -> bool:
    """Whether the template is a torch network (only those have a penultimate layer)."""
    try:
        return get_template(str(template_name)).family == "torch"
    except TemplateConfigError:
        return False


@require_GET
def model_embedding_data(request: HttpRequest, name: str) -> JsonResponse:
    version, dataset = _version_and_dataset(request, name)
    space = request.GET.get("space", "features")
    if space not in SPACES:
        return JsonResponse({"detail": f"space is one of {', '.join(SPACES)}"}, status=400)
    key = f"embedding:{version.pk}:{space}"
    data = cache.get(key)
    if data is None:
        try:
            data = version_embedding(version, dataset, space=space)
        except RegistryError as error:
            return JsonResponse({"detail": error.message}, status=400)
        cache.set(key, data, CACHE_S)
    response = JsonResponse(data)
    response["Cache-Control"] = "private, max-age=3600"
    return response
