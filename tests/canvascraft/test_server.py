"""The web process's command and environment: one thread per prediction unless an operator says."""

from __future__ import annotations

import subprocess
import sys

from canvascraft.server import ONE_THREAD_VARIABLES, server_environment


def test_a_web_process_runs_numeric_libraries_on_one_thread():
    environment = server_environment({"PATH": "/bin", "DATABASE_URL": "sqlite:///x"})

    assert {variable: environment[variable] for variable in ONE_THREAD_VARIABLES} == {
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    assert environment["DATABASE_URL"] == "sqlite:///x"


def test_an_operators_thread_count_is_kept():
    given = {"OMP_NUM_THREADS": "4"}

    environment = server_environment(given)

    assert environment["OMP_NUM_THREADS"] == "4"
    assert environment["MKL_NUM_THREADS"] == "1"
    assert given == {"OMP_NUM_THREADS": "4"}  # the caller's mapping is left alone


def test_torch_in_such_a_process_computes_on_one_thread():
    code = "import torch; print(torch.get_num_threads())"
    output = subprocess.run(
        [sys.executable, "-c", code],
        env=server_environment({}),
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    assert output.strip() == "1"
