"""Device choice and CPU threads on this machine (CPU only, or whatever it has)."""

from __future__ import annotations

import pytest
import torch

from pipelines.training.devices import DeviceRequestError, configure_threads, pick_device


def test_cpu_is_always_honoured_and_auto_takes_the_best_available():
    expected_auto = "cuda:0" if torch.cuda.is_available() else None

    assert pick_device("cpu") == "cpu"
    assert pick_device("auto", log=pytest.fail) in {expected_auto, "mps", "cpu"} - {None}
    if not torch.cuda.is_available():
        assert pick_device("auto", log=pytest.fail) in {"mps", "cpu"}


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
@pytest.mark.parametrize("requested", ["cuda", "cuda:3", "CUDA:0"])
def test_an_unavailable_cuda_request_falls_back_to_the_cpu_with_a_log_line(requested):
    lines: list[str] = []

    assert pick_device(requested, log=lines.append) == "cpu"
    assert len(lines) == 1 and "using the CPU" in lines[0]


@pytest.mark.parametrize("requested", ["tpu", "cuda:x", ""])
def test_an_unknown_device_is_refused(requested):
    with pytest.raises(DeviceRequestError, match="unknown device"):
        pick_device(requested)


def test_threads_follow_the_environment_variable_then_the_core_count(monkeypatch):
    previous = torch.get_num_threads()
    try:
        monkeypatch.setenv("CANVASCRAFT_TORCH_THREADS", "3")
        assert configure_threads("cpu") == 3 == torch.get_num_threads()
        monkeypatch.delenv("CANVASCRAFT_TORCH_THREADS")
        assert 1 <= configure_threads("cpu") <= 4
        assert configure_threads("cuda:0") == 1
        monkeypatch.setenv("CANVASCRAFT_TORCH_THREADS", "zero")
        with pytest.raises(DeviceRequestError, match="positive integer"):
            configure_threads("cpu")
    finally:
        torch.set_num_threads(previous)
