"""`manage.py export_onnx NAME VERSION [--user demo]` and `manage.py export_onnx --all [NAME]`:
(re)export published versions to ONNX, as publishing does, and print the check figures.

One version: its ONNX files and `lineage["onnx"]` are replaced by the new export's (or removed,
when the new export does not pass its check). `--all`: every version (of NAME, if given) that
has no ONNX export yet (published before exports existed, or when its model could not be
exported) or an outdated one (made before table exports took float64 and could be exact: those
leave trees to Python under `auto`); with `--refresh`, every version. One line per version.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from canvascraft.command_users import user_named
from gallery import model_selectors
from pipelines.publishing import ONNX_PATHS, export_is_outdated, export_version_onnx
from registry.errors import RegistryError
from registry.models import ModelVersion, RegisteredModel


class Command(BaseCommand):
    help = "Exports published model versions to ONNX (checked against the Python model)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", nargs="?", help="Model name.")
        parser.add_argument("version", nargs="?", help="Version number.")
        parser.add_argument("--user", default="demo", help="Owner of the model (default: demo).")
        parser.add_argument(
            "--all",
            action="store_true",
            help="Export every version that has no export yet, or an outdated one.",
        )
        parser.add_argument(
            "--refresh", action="store_true", help="With --all: re-export every version."
        )

    def handle(self, *args, name: str | None, version: str | None, user: str, **options):
        if options["refresh"] and not options["all"]:
            raise CommandError("--refresh goes with --all")
        if options["all"]:
            if version is not None:
                raise CommandError("--all takes at most a model name, not a version")
            self._export_all(name, refresh=options["refresh"])
            return
        if name is None or version is None:
            raise CommandError("give NAME and VERSION, or --all")
        owner = user_named(user)
        model = RegisteredModel.objects.filter(name=name, owner=owner).first()
        if model is None:
            raise CommandError(f"no model {name!r} of {user}")
        try:
            found = model_selectors.version_of(model, version)
        except RegistryError as error:
            raise CommandError(error.message) from None
        summary = export_version_onnx(found)
        self.stdout.write(self._line(found, model.name, summary))
        if summary["status"] != "ready":
            raise CommandError(f"no ONNX export: {summary['reason']}")

    def _export_all(self, name: str | None, *, refresh: bool) -> None:
        versions = ModelVersion.objects.select_related("model").order_by("model__name", "number")
        if name is not None:
            versions = versions.filter(model__name=name)
        exported = set(
            ModelVersion.objects.filter(files__path=ONNX_PATHS[0]).values_list("pk", flat=True)
        )
        chosen = [
            version
            for version in versions
            if refresh or version.pk not in exported or export_is_outdated(version)
        ]
        ready = 0
        for index, version in enumerate(chosen, start=1):
            summary = export_version_onnx(version)
            ready += summary["status"] == "ready"
            line = self._line(version, version.model.name, summary)
            self.stdout.write(f"[{index}/{len(chosen)}] {line}")
        which = "versions" if refresh else "versions without an up-to-date export"
        self.stdout.write(f"{ready} of {len(chosen)} {which} now have one")

    @staticmethod
    def _line(version: ModelVersion, name: str, summary: dict) -> str:
        head = f"{name} version {version.number}: {summary['status']}"
        if summary["status"] != "ready":
            return f"{head} ({summary['reason']})"
        browser = "browser and server" if summary["browser"] else "server only"
        return (
            f"{head}, {summary['input_kind']} input, {browser}; max abs diff "
            f"{summary['max_abs_diff']:.3g} on {summary['n_samples']} check inputs, "
            f"exported in {summary['export_s']:.2f} s"
        )
