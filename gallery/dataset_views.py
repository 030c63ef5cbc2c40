"""Creators' dataset pages: list, upload, preview a version, serve its samples, annotate.

Users see their own datasets and everyone's public ones; only owners upload and annotate, and a
dataset that is neither theirs nor public is a 404. Uploads answer JSON to the page's script
(`X-Requested-With: XMLHttpRequest`, which shows a progress bar) and a redirect or the re-rendered
form otherwise, so every page works without JavaScript.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from gallery import dataset_previews as previews
from gallery.dataset_forms import (
    MODALITY_HINTS,
    AnnotationForm,
    DatasetUploadForm,
    VersionUploadForm,
    refused_unread,
    too_large_message,
)
from registry import dataset_selectors, services
from registry.errors import NotFound, RegistryError
from registry.models import Dataset, DatasetVersion, Modality

DATASETS_PER_PAGE = 24
LABELLED_MODALITIES = (Modality.IMAGE, Modality.AUDIO)
SAMPLE_CACHE_CONTROL = "private, max-age=31536000, immutable"
THUMBNAIL_SIZE_PX = 192
SPECTROGRAM_SIZE_PX = (320, 128)
SAMPLE_CONTENT_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
}
# (magic bytes, offset, content type) for members named without a known extension.
SAMPLE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"WEBP", 8, "image/webp"),
    (b"WAVE", 8, "audio/wav"),
    (b"fLaC", 0, "audio/flac"),
    (b"OggS", 0, "audio/ogg"),
)


# ---------- helpers ----------
def _wants_json(request: HttpRequest) -> bool:
    return request.headers.get("x-requested-with") == "XMLHttpRequest"


def _not_found_as_404(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Selectors raise NotFound for what is missing or not the user's; pages answer 404."""

    @wraps(view)
    def wrapped(*args, **kwargs) -> HttpResponse:
        try:
            return view(*args, **kwargs)
        except NotFound:
            raise Http404("dataset not found") from None

    return wrapped


def _form_errors(form: Form) -> dict[str, list[str]]:
    return {field: [str(message) for message in errors] for field, errors in form.errors.items()}


def _add_registry_error(form: Form, error: RegistryError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _declared_too_large(request: HttpRequest) -> str:
    """A refusal read from Content-Length alone, before an oversized body is read."""
    return too_large_message(request.META.get("CONTENT_LENGTH"))


def _upload_answer(request: HttpRequest, form: Form, template: str, context: dict) -> HttpResponse:
    """The refused upload: JSON errors for the page's script, the form again otherwise."""
    if _wants_json(request):
        return JsonResponse({"errors": _form_errors(form)}, status=400)
    return render(request, template, {**context, "form": form}, status=400)


def _success_answer(request: HttpRequest, url: str) -> HttpResponse:
    return JsonResponse({"redirect": url}) if _wants_json(request) else redirect(url)


def _version_url(version: DatasetVersion) -> str:
    url = reverse("gallery:dataset", args=[version.dataset_id])
    return f"{url}?version={version.pk}"


# ---------- list ----------
@login_required
@require_GET
def dataset_list(request: HttpRequest) -> HttpResponse:
    scope = request.GET.get("scope", "all")
    if scope not in ("all", "mine", "public"):
        scope = "all"
    modality = request.GET.get("modality", "")
    if modality not in Modality.values:
        modality = ""
    latest = DatasetVersion.objects.filter(dataset=OuterRef("pk")).order_by("-number")
    datasets = dataset_selectors.datasets_visible_to(request.user, scope=scope).annotate(
        latest_n_samples=Subquery(latest.values("n_samples")[:1]),
        latest_size_bytes=Subquery(latest.values("size_bytes")[:1]),
    )
    if modality:
        datasets = datasets.filter(modality=modality)
    page = Paginator(datasets, DATASETS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "gallery/datasets/list.html",
        {
            "page": page,
            "scope": scope,
            "modality": modality,
            "scopes": [("all", "All"), ("mine", "Mine"), ("public", "Public")],
            "modalities": Modality.choices,
        },
    )


# ---------- upload ----------
def _new_context(form: DatasetUploadForm) -> dict:
    """The upload page: the modality radio cards with what each accepts."""
    selected = form["modality"].value() or Modality.TABULAR
    return {
        "form": form,
        "modality_cards": [
            (radio, MODALITY_HINTS[radio.data["value"]]) for radio in form["modality"]
        ],
        "selected_hint": MODALITY_HINTS.get(selected, MODALITY_HINTS[Modality.TABULAR]),
        "max_upload_bytes": settings.MAX_DATASET_BYTES,
    }


@login_required
@require_http_methods(["GET", "POST"])
def dataset_new(request: HttpRequest) -> HttpResponse:
    template = "gallery/datasets/new.html"
    if request.method == "GET":
        return render(request, template, _new_context(DatasetUploadForm()))
    if too_large := _declared_too_large(request):
        form = refused_unread(DatasetUploadForm, too_large)
        return _upload_answer(request, form, template, _new_context(form))
    form = DatasetUploadForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            dataset, version = services.dataset_create(
                owner=request.user,
                name=data["name"],
                modality=data["modality"],
                upload=data["file"],
                original_name=data["file"].name,
                description=data["description"],
                visibility=data["visibility"],
                note=data["note"],
            )
        except RegistryError as error:
            _add_registry_error(form, error)
    if form.errors:
        return _upload_answer(request, form, template, _new_context(form))
    messages.success(
        request, f"Dataset “{dataset.name}” uploaded: {previews.samples_phrase(version)}."
    )
    return _success_answer(request, _version_url(version))


@login_required
@require_http_methods(["GET", "POST"])
@_not_found_as_404
def dataset_version_new(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset = dataset_selectors.dataset_owned_by(request.user, dataset_id)
    template = "gallery/datasets/version_new.html"
    context = {
        "dataset": dataset,
        "hint": MODALITY_HINTS[dataset.modality],
        "max_upload_bytes": settings.MAX_DATASET_BYTES,
    }
    if request.method == "GET":
        return render(request, template, {**context, "form": VersionUploadForm()})
    if too_large := _declared_too_large(request):
        form = refused_unread(VersionUploadForm, too_large)
        return _upload_answer(request, form, template, context)
    form = VersionUploadForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            version, created = services.dataset_version_add(
                dataset=dataset,
                upload=upload,
                created_by=request.user,
                original_name=upload.name,
                note=form.cleaned_data["note"],
            )
        except RegistryError as error:
            _add_registry_error(form, error)
    if form.errors:
        return _upload_answer(request, form, template, context)
    if created:
        messages.success(
            request, f"Version {version.number} added: {previews.samples_phrase(version)}."
        )
    else:
        messages.info(
            request, f"That file holds the same data as version {version.number}; nothing new."
        )
    return _success_answer(request, _version_url(version))


# ---------- detail ----------
@login_required
@require_GET
@_not_found_as_404
def dataset_detail(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset = dataset_selectors.dataset_for_user(request.user, dataset_id)
    versions = list(dataset_selectors.versions_of(dataset))
    version = None
    if requested := request.GET.get("version"):
        version = dataset_selectors.version_of(dataset, requested)
    elif versions:
        version = dataset_selectors.version_of(dataset, versions[0].pk)
    numbers = {one.pk: one.number for one in versions}
    is_owner = dataset.owner_id == request.user.pk
    return render(
        request,
        "gallery/datasets/detail.html",
        {
            "dataset": dataset,
            "version": version,
            "versions": [(one, numbers.get(one.parent_id)) for one in versions],
            "is_owner": is_owner,
            "can_annotate": is_owner and dataset.modality in LABELLED_MODALITIES,
            "preview": previews.build(dataset, version) if version else None,
            "version_form": VersionUploadForm() if is_owner else None,
            "hint": MODALITY_HINTS[dataset.modality],
            "max_upload_bytes": settings.MAX_DATASET_BYTES,
        },
    )


# ---------- samples ----------
def _sample(request: HttpRequest, dataset_id: int, version_id: int, index: int):
    dataset = dataset_selectors.dataset_for_user(request.user, dataset_id)
    version = dataset_selectors.version_of(dataset, version_id)
    if index >= len(version.manifest):
        raise NotFound(f"no sample {index} in version {version.number}")
    return dataset, version, version.manifest[index]


def _sample_bytes(version: DatasetVersion, item: dict) -> bytes:
    # Imported when used: the readers pull in librosa, which most pages never need.
    from registry.ingest import IngestRejected
    from registry.ingest.readers import read_member

    path = dataset_selectors.version_file(version)
    try:
        return read_member(path, item["path"], services.ingest_limits())
    except (IngestRejected, FileNotFoundError):
        raise NotFound(f"sample {item['path']!r} cannot be read") from None


def _content_type(member_path: str, data: bytes) -> str:
    """By extension; ingest accepts files by their content, so sniff a name without one."""
    extension = posixpath.splitext(member_path)[1].lower()
    if extension in SAMPLE_CONTENT_TYPES:
        return SAMPLE_CONTENT_TYPES[extension]
    for magic, offset, content_type in SAMPLE_MAGIC:
        if data[offset : offset + len(magic)] == magic:
            return content_type
    return "application/octet-stream"


def _immutable(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = SAMPLE_CACHE_CONTROL
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
@_not_found_as_404
def dataset_sample(request: HttpRequest, dataset_id: int, version_id: int, index: int):
    """The raw bytes of one sample of an image or audio version (versions never change)."""
    _dataset, version, item = _sample(request, dataset_id, version_id, index)
    data = _sample_bytes(version, item)
    return _immutable(HttpResponse(data, content_type=_content_type(item["path"], data)))


@login_required
@require_GET
@_not_found_as_404
def dataset_sample_thumbnail(request: HttpRequest, dataset_id: int, version_id: int, index: int):
    """A PNG of one sample: a thumbnail of an image, a spectrogram of a sound."""
    from registry.ingest import IngestRejected
    from registry.ingest.readers import spectrogram_png, thumbnail_png

    dataset, version, item = _sample(request, dataset_id, version_id, index)
    data = _sample_bytes(version, item)
    try:
        if dataset.modality == Modality.AUDIO:
            width, height = SPECTROGRAM_SIZE_PX
            png = spectrogram_png(data, width=width, height=height)
        else:
            png = thumbnail_png(data, size=THUMBNAIL_SIZE_PX)
    except IngestRejected as error:
        raise NotFound(error.message) from None
    return _immutable(HttpResponse(png, content_type="image/png"))


# ---------- annotate ----------
def _annotatable(request: HttpRequest, dataset_id: int, version_id: int):
    dataset: Dataset = dataset_selectors.dataset_owned_by(request.user, dataset_id)
    if dataset.modality not in LABELLED_MODALITIES:
        raise NotFound("only image and audio datasets are annotated")
    return dataset, dataset_selectors.version_of(dataset, version_id)


@login_required
@require_http_methods(["GET", "POST"])
@_not_found_as_404
def dataset_annotate(request: HttpRequest, dataset_id: int, version_id: int) -> HttpResponse:
    dataset, version = _annotatable(request, dataset_id, version_id)
    if request.method == "POST":
        return _save_annotations(request, version)
    only = request.GET.get("only", "all")
    session = previews.annotation_session(version, only=only)
    sample_url = reverse("gallery:dataset-sample", args=[dataset.pk, version.pk, 0])
    return render(
        request,
        "gallery/datasets/annotate.html",
        {
            "dataset": dataset,
            "version": version,
            "only": session["only"],
            "filters": session["filters"],
            "annotate_data": {
                "modality": dataset.modality,
                "samples": session["samples"],
                "classes": session["classes"],
                "sample_base_url": sample_url.removesuffix("0/"),
                "save_url": request.path,
            },
            "n_samples": len(session["samples"]),
        },
    )


def _save_annotations(request: HttpRequest, version: DatasetVersion) -> HttpResponse:
    """Saves `{"labels": {path: class}, "note": ""}` as a new version; the old one stays."""
    form = AnnotationForm.from_body(request.body)
    if form.is_valid():
        try:
            created_version, created = services.dataset_version_relabel(
                version=version,
                labels=form.cleaned_data["labels"],
                created_by=request.user,
                note=form.cleaned_data["note"],
            )
        except RegistryError as error:
            _add_registry_error(form, error)
    if form.errors:
        return JsonResponse({"errors": _form_errors(form)}, status=400)
    if created:
        messages.success(request, f"Labels saved as version {created_version.number}.")
    else:
        messages.info(
            request, f"Those labels are version {created_version.number} already; nothing new."
        )
    return _success_answer(request, _version_url(created_version))
