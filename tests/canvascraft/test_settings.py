"""The settings module itself refuses bad environment values at start-up."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def import_settings(tmp_path: Path, **environ: str) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "DEBUG", "ALLOWED_HOSTS", "SECRET_KEY", "LOG_FORMAT")
        and not key.startswith("CANVASCRAFT_")
    }
    env.update(CANVASCRAFT_DATA_DIR=str(tmp_path / "data"), **environ)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import canvascraft.settings as s; print(s.DATABASES['default']['ENGINE'])",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"CANVASCRAFT_MAX_ARTIFACT_MB": "0"}, "CANVASCRAFT_MAX_ARTIFACT_MB=0 must be at least 1"),
        ({"DEBUG": "perhaps"}, "DEBUG='perhaps' is not a boolean"),
        ({"DATABASE_URL": "mysql://root@localhost/canvas"}, "DATABASE_URL uses"),
        ({"ALLOWED_HOSTS": "studio.example.com"}, "SECRET_KEY must be set"),
    ],
    ids=["artifact-limit", "debug", "mysql", "public-host-default-key"],
)
def test_a_bad_environment_stops_start_up_naming_the_variable(tmp_path, environ, message):
    result = import_settings(tmp_path, **environ)

    assert result.returncode != 0
    assert "ImproperlyConfiguredEnv" in result.stderr
    assert message in result.stderr


def test_with_nothing_set_the_embedded_defaults_work(tmp_path):
    result = import_settings(tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "django.db.backends.sqlite3"
    assert (tmp_path / "data" / "artifacts").is_dir()
