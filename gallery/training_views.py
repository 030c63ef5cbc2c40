"""Creators' training pages: start a training, remix a run, cancel one, read a run's log.

The form posts to `pipelines.services.start_run`, which checks the whole request; its field
errors ("config.params.learning_rate") come back next to the input that caused them. Templates
and brushes describe their settings as JSON Schema, which the page's script turns into inputs.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gallery.training_forms import NEW_EXPERIMENT, TrainingForm, VersionChoice
from pipelines.run_config import default_brushes
from registry import dataset_selectors, selectors, services
from registry.errors import Conflict, NotFound, RegistryError
from registry.models import DatasetVersion, Experiment, Modality, Run, RunStatus

# The template a new training starts from, per kind of data: quick and forgiving.
RECOMMENDED_TEMPLATES = {
    Modality.TABULAR: "random_forest",
    Modality.IMAGE: "cnn",
    Modality.AUDIO: "audio_cnn",
}
# Form fields that a `config.<name>` error of start_run belongs to.
CONFIG_FIELDS = (
    "dataset_version",
    "target",
    "task",
    "template",
    "device",
    "seed",
    "validation_fraction",
    "test_fraction",
    "timeout_s",
)


# ---------- the catalogue the form offers ----------
def _templates() -> list[dict]:
    # Imported when used: the template modules pull in torch and scikit-learn.
    from pipelines.training.templates import list_templates

    return list_templates()


def _brushes() -> list[dict]:
    from pipelines.brushes import list_brushes

    return list_brushes()


def _visible_versions(user) -> list[DatasetVersion]:
    """Every version of every dataset the user may train on, in one query."""
    datasets = dataset_selectors.datasets_visible_to(user).values("pk")
    return list(
        DatasetVersion.objects.filter(dataset__in=datasets)
        .select_related("dataset")
        .defer("manifest")
        .order_by("dataset__name", "dataset_id", "-number")
    )


def _version_data(version: DatasetVersion) -> dict[str, Any]:
    """What the page's script needs to know about one version."""
    schema = version.schema or {}
    return {
        "dataset": version.dataset.name,
        "number": version.number,
        "modality": version.dataset.modality,
        "n_samples": version.n_samples,
        "columns": [
            {"name": column["name"], "type": column.get("type", "")}
            for column in schema.get("columns", [])
        ],
        "classes": [item["name"] for item in schema.get("classes", [])],
        "default_brushes": default_brushes(version),
    }


def _columns_of(version: DatasetVersion | None) -> list[str]:
    if version is None:
        return []
    return [column["name"] for column in (version.schema or {}).get("columns", [])]


def _first_template(templates: list[dict], modality: str, task: str) -> str:
    fitting = [t["name"] for t in templates if modality in t["modalities"] and task in t["tasks"]]
    recommended = RECOMMENDED_TEMPLATES.get(modality)
    if recommended in fitting:
        return recommended
    return fitting[0] if fitting else ""


# ---------- initial values ----------
def _initial_for_new(request: HttpRequest, versions: dict[int, DatasetVersion], templates):
    """A fresh form, on the version named by `?dataset_version=` (or the newest one)."""
    requested = request.GET.get("dataset_version", "")
    version = None
    if requested.isascii() and requested.isdigit():
        version = versions.get(int(requested))
    if version is None and versions:
        version = max(versions.values(), key=lambda one: one.created_at)
    initial: dict[str, Any] = {"task": "classification", "device": "auto", "seed": 0}
    if version is not None:
        columns = _columns_of(version)
        template = _first_template(templates, version.dataset.modality, "classification")
        initial.update(
            dataset_version=version.pk,
            target=columns[-1] if columns else "",
            template=template,
            name=f"{version.dataset.name}-{template}".replace(" ", "-").lower()[:200],
        )
    return initial


def _initial_for_remix(run: Run) -> dict[str, Any]:
    config = run.config
    initial = {
        key: config[key]
        for key in ("dataset_version", "target", "task", "template", "device", "seed")
        if config.get(key) is not None
    }
    for key in ("validation_fraction", "test_fraction", "timeout_s"):
        if config.get(key) is not None:
            initial[key] = config[key]
    initial["name"] = f"{run.name} remix"[:200]
    initial["experiment"] = str(run.experiment_id)
    return initial


# ---------- errors ----------
def _strip_prefix(message: str, *prefixes: str) -> str:
    for prefix in prefixes:
        if prefix and message.startswith(f"{prefix}: "):
            message = message[len(prefix) + 2 :]
    return message


def _place_error(form: TrainingForm, error: RegistryError, editor_errors: dict) -> None:
    """Puts a start_run error next to what caused it: a form field, a param input or the
    brushes editor; anything else goes on top of the form."""
    field = error.field or ""
    template = (form.cleaned_data.get("template") or "").strip()
    if field.startswith("config.params."):
        name = field.removeprefix("config.params.")
        message = _strip_prefix(error.message, f"params.{name}", template)
        editor_errors["params"][name] = message.removeprefix(f"invalid param {name!r}: ")
    elif field == "config.brushes":
        editor_errors["brushes"] = _strip_prefix(error.message, "brushes")
    elif field.removeprefix("config.") in CONFIG_FIELDS:
        name = field.removeprefix("config.")
        form.add_error(name, _strip_prefix(error.message, name, template))
    elif field == "name" and form.cleaned_data.get("experiment") == NEW_EXPERIMENT:
        form.add_error("new_experiment", error.message)
    elif field == "name":
        form.add_error("name", error.message)
    else:
        form.add_error(None, error.message)


# ---------- starting ----------
def _experiment_for(request: HttpRequest, form: TrainingForm) -> Experiment:
    """The picked experiment, or the new one named (an existing one of that name is reused)."""
    choice = form.cleaned_data["experiment"]
    if choice != NEW_EXPERIMENT:
        return selectors.experiment_for_user(request.user, choice)
    name = form.cleaned_data["new_experiment"].strip()
    existing = selectors.experiments_for_user(request.user).filter(name=name).first()
    return existing or services.experiment_create(owner=request.user, name=name)


def _start(request: HttpRequest, form: TrainingForm, remix_of: Run | None) -> Run:
    """One transaction: a refused request leaves no new experiment behind."""
    from pipelines.services import start_run

    with transaction.atomic():
        return start_run(
            owner=request.user,
            experiment=_experiment_for(request, form),
            name=form.cleaned_data["name"].strip(),
            config=form.training_config(),
            remix_of=remix_of,
        )


def _build_form(
    request: HttpRequest, initial: dict, versions: list[DatasetVersion], templates: list[dict]
) -> TrainingForm:
    """The form, bound on POST; the target select lists the chosen version's columns."""
    by_id = {version.pk: version for version in versions}
    if not initial:
        initial = _initial_for_new(request, by_id, templates)
    experiments = list(selectors.experiments_for_user(request.user).values_list("pk", "name"))
    initial.setdefault("experiment", str(experiments[0][0]) if experiments else NEW_EXPERIMENT)
    selected = request.POST.get("dataset_version") or initial.get("dataset_version")
    try:
        selected_version = by_id.get(int(selected)) if selected else None
    except (TypeError, ValueError):
        selected_version = None
    return TrainingForm(
        request.POST or None,
        initial=initial,
        experiments=experiments,
        versions=[_version_choice(version) for version in versions],
        columns=_columns_of(selected_version),
    )


def _training_page(
    request: HttpRequest, *, initial: dict, editor: dict, remix_of: Run | None
) -> HttpResponse:
    """GET: the form; POST: start_run, then the run page or the form again with its errors."""
    templates = _templates()
    versions = _visible_versions(request.user)
    form = _build_form(request, initial, versions, templates)
    editor_errors: dict[str, Any] = {"params": {}, "brushes": None}
    if request.method == "POST":
        if form.is_valid():
            try:
                run = _start(request, form, remix_of)
            except RegistryError as error:
                _place_error(form, error, editor_errors)
            else:
                messages.success(request, f"Training “{run.name}” queued.")
                return redirect("gallery:run", run_id=run.pk)
        editor = form.cleaned_data.get("config") or _posted_editor(request)
    context = {
        "form": form,
        "refusals": _refusals(form, editor_errors),
        "remix_of": remix_of,
        "template_cards": templates,
        "has_versions": bool(versions),
        "page_data": {
            "versions": {str(version.pk): _version_data(version) for version in versions},
            "templates": templates,
            "brushes": _brushes(),
            "recommended": RECOMMENDED_TEMPLATES,
            "editor": {"params": editor.get("params"), "brushes": editor.get("brushes")},
            "errors": editor_errors,
        },
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "gallery/training/new.html", context, status=status)


def _refusals(form: TrainingForm, editor_errors: dict) -> list[dict[str, Any]]:
    """Every error, for the banner on top of the form: what it is about and the message."""
    refusals = [
        {
            "label": str(form.fields[field].label) if field in form.fields else "",
            "message": str(message),
            "is_code": False,
        }
        for field, errors in form.errors.items()
        for message in errors
    ]
    refusals += [
        {"label": name, "message": message, "is_code": True}
        for name, message in editor_errors["params"].items()
    ]
    if editor_errors["brushes"]:
        refusals.append({"label": "Brushes", "message": editor_errors["brushes"], "is_code": False})
    return refusals


def _version_choice(version: DatasetVersion) -> VersionChoice:
    return VersionChoice(
        id=version.pk,
        dataset_name=version.dataset.name,
        number=version.number,
        modality=version.dataset.modality,
        n_samples=version.n_samples,
    )


def _posted_editor(request: HttpRequest) -> dict:
    """The editor's JSON as posted, when the form refused it whole (so nothing is lost)."""
    try:
        editor = json.loads(request.POST.get("config") or "{}")
    except ValueError:
        return {}
    return editor if isinstance(editor, dict) else {}


@login_required
@require_http_methods(["GET", "POST"])
def train_new(request: HttpRequest) -> HttpResponse:
    return _training_page(request, initial={}, editor={}, remix_of=None)


def _run_or_404(request: HttpRequest, run_id: int) -> Run:
    try:
        return selectors.run_for_user(request.user, run_id)
    except NotFound:
        raise Http404("run not found") from None


@login_required
@require_http_methods(["GET", "POST"])
def run_remix(request: HttpRequest, run_id: int) -> HttpResponse:
    """The form again, filled from a run the studio trained; the new run records `remix_of`."""
    run = _run_or_404(request, run_id)
    if not run.config:
        raise Http404("only runs the studio trained can be remixed")
    editor = {"params": run.config.get("params"), "brushes": run.config.get("brushes")}
    return _training_page(request, initial=_initial_for_remix(run), editor=editor, remix_of=run)


@login_required
@require_POST
def run_cancel(request: HttpRequest, run_id: int) -> HttpResponse:
    from pipelines.services import cancel_run

    run = _run_or_404(request, run_id)
    if not run.config:
        messages.warning(request, "Only runs the studio trains can be cancelled here.")
    else:
        try:
            run = cancel_run(run=run)
        except Conflict:
            messages.info(request, f"“{run.name}” had already finished; nothing to cancel.")
        else:
            if run.status == RunStatus.CANCELLED:
                messages.success(request, f"“{run.name}” cancelled before it started.")
            else:
                messages.success(request, "Cancel requested… the run stops at its next batch.")
    return redirect("gallery:run", run_id=run.pk)


@login_required
@require_GET
def run_log(request: HttpRequest, run_id: int) -> HttpResponse:
    """The run's log as plain text, for the run page to refresh while it trains."""
    run = _run_or_404(request, run_id)
    response = HttpResponse(run.log_text, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response
