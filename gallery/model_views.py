"""The model gallery's pages: the grid of models (search, filters, sort, pages), a model's page
(its card, versions, aliases with their history, the try-it panel), a version's card files,
and the owner's forms: publish a run, edit the card's text, move or roll back an alias.

Lists read `RegisteredModel` alone (the latest version and headline metric are kept on it), so
a page of the grid costs the same few queries with ten or ten thousand models.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from gallery import model_selectors, predictions
from gallery.model_forms import AliasMoveForm, ModelTextForm, PublishForm
from gallery.vendor import ort_urls
from pipelines.publishing import publish_run
from pipelines.serving import InputSignature
from registry import artifact_store, selectors, services
from registry.errors import NotFound, RegistryError
from registry.models import (
    Modality,
    ModelAlias,
    ModelVersionFile,
    PromotionRequest,
    RegisteredModel,
)

MODELS_PER_PAGE = 24
# A version's ONNX export and what it says about it (the contract with pipelines' exporter).
ONNX_MODEL = "model/model.onnx"
ONNX_MANIFEST = "model/onnx.json"
SORTS = {
    "newest": ("Newest", [F("created_at").desc(), F("id").desc()]),
    "best": ("Best metric", [F("headline_score").desc(nulls_last=True), F("id").desc()]),
    "tried": ("Most tried", [F("n_predictions").desc(), F("id").desc()]),
}
TASKS = [("classification", "Classification"), ("regression", "Regression")]
# Files a page may fetch: pictures and JSON the run made, and the ONNX export the "run in this
# browser" switch runs (anyone who may ask the model may run it), never the training weights.
CARD_FILES = {
    "confusion_matrix.png": "image/png",
    "samples/predictions.json": "application/json",
    "metrics.json": "application/json",
    ONNX_MODEL: "application/octet-stream",
    ONNX_MANIFEST: "application/json",
}
# An ONNX export is as large as the model's weights, which may be a whole artifact.
MAX_CARD_FILE_BYTES = 64 * 1024 * 1024
MAX_ONNX_MANIFEST_BYTES = 1024 * 1024
# A card's picture: the model's own outputs on its test split.
THUMBNAIL = "confusion_matrix.png"


def _model_or_404(request: HttpRequest, name: str) -> RegisteredModel:
    try:
        return model_selectors.model_for_user(request.user, name)
    except NotFound:
        raise Http404("model not found") from None


def gallery_models(request: HttpRequest, query: dict[str, str]):
    """The visible models for the grid's filters and sort (one query, plus the aliases)."""
    models = model_selectors.models_visible_to(request.user).select_related("latest_version")
    if query.get("q"):
        text = query["q"].strip()[:100]
        models = models.filter(Q(name__icontains=text) | Q(description__icontains=text))
    if query.get("modality") in Modality.values:
        models = models.filter(modality=query["modality"])
    if query.get("task") in dict(TASKS):
        models = models.filter(task=query["task"])
    if query.get("tag"):
        models = models.filter(tags__icontains=query["tag"].strip()[:50])
    if query.get("owner"):
        models = models.filter(owner__username=query["owner"].strip()[:150])
    _label, ordering = SORTS.get(query.get("sort", ""), SORTS["newest"])
    return models.order_by(*ordering).prefetch_related(
        Prefetch("aliases", queryset=ModelAlias.objects.select_related("version")),
        Prefetch(
            "latest_version__files",
            queryset=ModelVersionFile.objects.filter(path=THUMBNAIL),
            to_attr="thumbnails",
        ),
    )


@require_GET
def model_list(request: HttpRequest) -> HttpResponse:
    query = {key: request.GET.get(key, "") for key in ("q", "modality", "task", "tag", "owner")}
    query["sort"] = request.GET.get("sort", "newest") if request.GET.get("sort") in SORTS else ""
    page = Paginator(gallery_models(request, query), MODELS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "gallery/models/list.html",
        {
            "page": page,
            "query": query,
            "sort": query["sort"] or "newest",
            "sorts": [(key, label) for key, (label, _) in SORTS.items()],
            "modalities": Modality.choices,
            "tasks": TASKS,
            "filtered": any(query[key] for key in ("q", "modality", "task", "tag", "owner")),
            "keep": {key: value for key, value in query.items() if value},
        },
    )


def _card_version(model: RegisteredModel, aliases: list[ModelAlias]):
    """The version the card tells the story of: production's, else the newest."""
    for alias in aliases:
        if alias.name == services.published.PRODUCTION:
            return alias.version
    return model.latest_version


def _samples(version) -> list[dict[str, Any]]:
    """The run's predictions on a few test samples ({index, true, predicted, confidence,
    correct} each), if the version kept them."""
    file = next((f for f in version.files.all() if f.path == "samples/predictions.json"), None)
    if file is None:
        return []
    try:
        samples = json.loads(artifact_store.read_checked(file.sha256, max_bytes=5 * 2**20))
    except (OSError, ValueError, artifact_store.BlobDamaged, RegistryError):
        return []
    if not isinstance(samples, list):
        return []
    return [item for item in samples[:12] if isinstance(item, dict)]


def _onnx_manifest(version) -> dict[str, Any] | None:
    """The version's ONNX manifest (`model/onnx.json`: input, image size, labels, whether a
    browser can run it), or None when it has no export or the manifest cannot be read."""
    file = next((f for f in version.files.all() if f.path == ONNX_MANIFEST), None)
    if file is None:
        return None
    try:
        manifest = json.loads(
            artifact_store.read_checked(file.sha256, max_bytes=MAX_ONNX_MANIFEST_BYTES)
        )
    except (OSError, ValueError, artifact_store.BlobDamaged, RegistryError):
        return None
    return manifest if isinstance(manifest, dict) else None


def _onnx_versions(versions) -> set[int]:
    """The numbers of the versions with an ONNX export (from the prefetched files)."""
    return {
        version.number
        for version in versions
        if any(f.path == ONNX_MANIFEST for f in version.files.all())
        and any(f.path == ONNX_MODEL for f in version.files.all())
    }


def _signature_text(version) -> str:
    if version is None:
        return ""
    try:
        return InputSignature.from_dict(version.signature).describe()
    except ValueError:
        return "—"


@require_GET
def model_detail(request: HttpRequest, name: str) -> HttpResponse:
    model = _model_or_404(request, name)
    aliases = model_selectors.aliases_of(model)
    versions = list(model.versions.select_related("created_by", "run").prefetch_related("files"))
    version = _card_version(model, aliases)
    version = next((v for v in versions if version and v.pk == version.pk), None)
    is_owner = model.owner_id == request.user.pk
    return render(
        request,
        "gallery/models/detail.html",
        {
            "model": model,
            "version": version,
            "versions": versions,
            "aliases": aliases,
            "moves": model_selectors.moves_of(model, limit=50),
            "samples": _samples(version) if version else [],
            "card_files": {f.path for f in version.files.all()} if version else set(),
            "is_owner": is_owner,
            "text_form": ModelTextForm(instance=model) if is_owner else None,
            "alias_form": AliasMoveForm(versions=versions) if is_owner else None,
            "pending": list(
                PromotionRequest.objects.filter(model=model, status="pending").select_related(
                    "version"
                )
            )
            if is_owner
            else [],
            "signature_text": _signature_text(version),
            # The columns the try-it form may send empty (null): the brushes fill them in.
            "missing_allowed": predictions.missing_allowed(version) if version else [],
            "try_versions": [(alias.name, alias.version.number) for alias in aliases],
            "onnx_manifest": _onnx_manifest(version) if version else None,
            "onnx_versions": _onnx_versions(versions),
            "ort_urls": ort_urls(),
            "compare_targets": _compare_targets(request, model, version, versions),
        },
    )


MAX_COMPARE_MODELS = 20


def _compare_targets(request, model, version, versions) -> list[tuple[str, str]]:
    """What the try-it panel can ask beside the model: its other versions, and the production
    version of other visible models that take the same input (same signature). Two queries."""
    if version is None:
        return []
    url = "/api/v1/models/{name}/predict/?{target}"
    targets = [
        (f"version {other.number}", url.format(name=model.name, target=f"version={other.number}"))
        for other in versions
        if other.pk != version.pk
    ]
    productions = (
        ModelAlias.objects.filter(
            name=services.published.PRODUCTION,
            model__in=model_selectors.models_visible_to(request.user).filter(
                modality=model.modality, task=model.task
            ),
        )
        .exclude(model=model)
        .select_related("model", "version")
        .order_by("-model__updated_at")[:MAX_COMPARE_MODELS]
    )
    for alias in productions:
        if alias.version.signature == version.signature or _both_resize(alias.version, version):
            name = alias.model.name
            targets.append(
                (
                    f"{name} (production, v{alias.version.number})",
                    url.format(name=name, target="alias=production"),
                )
            )
    return targets


def _both_resize(one, other) -> bool:
    """Image models that resize accept the same pictures whatever their training size."""
    return bool(one.signature.get("resizes") and other.signature.get("resizes"))


@require_GET
def model_file(request: HttpRequest, name: str, number: int, path: str) -> HttpResponse:
    """A card file of a version (checked against its sha256); immutable, cached for a year."""
    model = _model_or_404(request, name)
    if path not in CARD_FILES:
        raise Http404("no such file")
    try:
        version = model_selectors.version_of(model, number)
    except NotFound:
        raise Http404("no such version") from None
    file = version.files.filter(path=path).first()
    if file is None:
        raise Http404("no such file")
    data = artifact_store.read_checked(file.sha256, max_bytes=MAX_CARD_FILE_BYTES)
    response = HttpResponse(data, content_type=CARD_FILES[path])
    response["Cache-Control"] = "private, max-age=31536000, immutable"
    return response


def _owned_or_404(request: HttpRequest, name: str) -> RegisteredModel:
    model = _model_or_404(request, name)
    if model.owner_id != request.user.pk:
        raise Http404("model not found")
    return model


@login_required
@require_POST
def model_edit(request: HttpRequest, name: str) -> HttpResponse:
    model = _owned_or_404(request, name)
    form = ModelTextForm(request.POST, instance=model)
    if form.is_valid():
        try:
            services.model_update(model=model, **form.cleaned_data)
        except RegistryError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "The model card is updated.")
    else:
        messages.error(request, "; ".join(f"{k}: {v[0]}" for k, v in form.errors.items()))
    return redirect("gallery:model", name=model.name)


@login_required
@require_POST
def model_alias_move(request: HttpRequest, name: str) -> HttpResponse:
    model = _owned_or_404(request, name)
    versions = list(model.versions.all())
    form = AliasMoveForm(request.POST, versions=versions)
    if not form.is_valid():
        messages.error(request, "; ".join(f"{k}: {v[0]}" for k, v in form.errors.items()))
        return redirect("gallery:model", name=model.name)
    version = next(v for v in versions if v.number == form.cleaned_data["version"])
    try:
        outcome = services.model_alias_move(
            user=request.user,
            model=model,
            alias=form.cleaned_data["alias"],
            version=version,
            reason=form.cleaned_data["reason"],
        )
    except RegistryError as error:
        messages.error(request, error.message)
    else:
        _say_moved(request, outcome)
    return redirect("gallery:model", name=model.name)


@login_required
@require_POST
def model_alias_rollback(request: HttpRequest, name: str, alias: str) -> HttpResponse:
    model = _owned_or_404(request, name)
    try:
        outcome = services.model_alias_rollback(
            user=request.user, model=model, alias=alias, reason=request.POST.get("reason", "")
        )
    except RegistryError as error:
        messages.error(request, error.message)
    else:
        _say_moved(request, outcome)
    return redirect("gallery:model", name=model.name)


def _say_moved(request: HttpRequest, outcome) -> None:
    if isinstance(outcome, PromotionRequest):
        messages.info(
            request,
            f"{outcome.alias} → version {outcome.version.number} waits for an operator's approval.",
        )
        return
    before = f"version {outcome.from_version.number}" if outcome.from_version else "nothing"
    verb = "rolled back" if outcome.is_rollback else "moved"
    messages.success(
        request, f"{outcome.alias} {verb}: {before} → version {outcome.to_version.number}."
    )


@login_required
@require_POST
def run_publish(request: HttpRequest, run_id: int) -> HttpResponse:
    """Publishes one of my succeeded runs (from its page or a sweep's best trial card)."""
    try:
        run = selectors.run_for_user(request.user, run_id)
    except NotFound:
        raise Http404("run not found") from None
    form = PublishForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(f"{k}: {v[0]}" for k, v in form.errors.items()))
        return redirect("gallery:run", run_id=run.pk)
    try:
        version = publish_run(
            user=request.user,
            run=run,
            name=form.cleaned_data["name"],
            description=form.cleaned_data["description"],
        )
    except RegistryError as error:
        messages.error(request, f"Not published: {error.message}")
        return redirect("gallery:run", run_id=run.pk)
    messages.success(request, f"Published as {version.model.name} version {version.number}.")
    return redirect("gallery:model", name=version.model.name)
