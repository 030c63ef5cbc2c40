"""The brush registry, the contract checks at registration, and the package's independence."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pipelines.brushes import (
    BrushConfigError,
    brush_from_config,
    get_brush_class,
    list_brushes,
    register,
)
from pipelines.brushes import registry as registry_module
from pipelines.brushes.params import object_schema
from pipelines.brushes.tabular.base import TabularBrush

BRUSHES_DIR = Path(__file__).resolve().parents[2] / "pipelines" / "brushes"
BUILT_INS = {
    "tabular": ["impute", "min_max_scaler", "one_hot", "standard_scaler"],
    "image": ["image_augmenter", "image_normalize", "image_resize"],
    "audio": ["audio_mfcc", "audio_spectrogram"],
}


class PassThroughBrush(TabularBrush):
    """A brush that learns nothing, to test registration."""

    name = "pass_through"
    description = "Returns the table unchanged."
    config_schema = object_schema({"columns": {"type": ["array", "null"], "default": None}})

    def _fit(self, data: Any, y: Any) -> None:
        pass

    def _transform(self, data: Any) -> Any:
        return data


@pytest.fixture
def private_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Registrations made by a test go to a copy of the registry, dropped afterwards."""
    monkeypatch.setattr(registry_module, "_BRUSHES", dict(registry_module._BRUSHES))


def test_list_brushes_describes_every_built_in_for_pages_and_the_api():
    brushes = list_brushes()

    by_modality = {
        modality: [info["name"] for info in brushes if info["modality"] == modality]
        for modality in BUILT_INS
    }
    assert by_modality == BUILT_INS
    assert all(
        set(info) == {"name", "modality", "description", "training_only", "config_schema"}
        for info in brushes
    )
    assert [info["name"] for info in brushes if info["training_only"]] == ["image_augmenter"]
    json.dumps(brushes, allow_nan=False)
    brushes[0]["config_schema"]["properties"].clear()  # a copy: the class keeps its schema
    assert get_brush_class(brushes[0]["name"]).config_schema["properties"]


def test_a_registered_brush_is_listed_and_built_from_config(private_registry):
    register(PassThroughBrush)

    assert "pass_through" in [info["name"] for info in list_brushes()]
    assert brush_from_config({"name": "pass_through"}).config() == {"columns": None}


def test_registration_refuses_a_taken_name_and_a_broken_contract(private_registry):
    class Impostor(PassThroughBrush):
        name = "one_hot"

    class Open(PassThroughBrush):
        name = "open"
        config_schema = {"type": "object", "properties": {}}

    class NoDefault(PassThroughBrush):
        name = "no_default"
        config_schema = object_schema({"size": {"type": "integer"}})

    class Sideways(PassThroughBrush):
        name = "sideways"
        modality = "video"

    expectations = {
        Impostor: "already taken by OneHotBrush",
        Open: "additionalProperties false",
        NoDefault: "param 'size' has no default",
        Sideways: "`modality` must be one of tabular, image, audio",
    }
    for brush_class, message in expectations.items():
        with pytest.raises(BrushConfigError, match=message):
            register(brush_class)
    assert get_brush_class("one_hot").__name__ == "OneHotBrush"


def test_lookups_of_unknown_or_malformed_configs_are_refused():
    with pytest.raises(BrushConfigError, match="unknown brush 'sepia'; known brushes: audio_mfcc"):
        get_brush_class("sepia")
    with pytest.raises(BrushConfigError, match="an object with 'name' and optional 'params'"):
        brush_from_config({"params": {}})
    with pytest.raises(BrushConfigError, match="an object with 'name' and optional 'params'"):
        brush_from_config({"name": "one_hot", "settings": {}})
    with pytest.raises(BrushConfigError, match="one_hot: 'params' must be an object, got list"):
        brush_from_config({"name": "one_hot", "params": []})


def test_no_module_of_the_package_imports_django():
    offenders = []
    for path in sorted(BRUSHES_DIR.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [alias.name for alias in getattr(node, "names", [])]
            module = getattr(node, "module", None) or ""
            if isinstance(node, ast.Import | ast.ImportFrom) and any(
                name.split(".")[0] == "django" for name in [module, *names]
            ):
                offenders.append(f"{path.name}:{node.lineno}")

    assert offenders == []


def test_importing_the_package_loads_no_django_and_no_heavy_library():
    script = (
        "import sys, pipelines.brushes as brushes; brushes.list_brushes(); "
        "print(sorted(m for m in ('django', 'torch', 'librosa', 'sklearn') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=BRUSHES_DIR.parents[1],
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout.strip() == "[]"
