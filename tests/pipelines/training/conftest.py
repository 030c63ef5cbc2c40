"""Training-core tests: tiny real models on one thread, no database.

One thread because two-thread runs collapse under load from other processes (STACK.md), and
because thread count changes floating-point summation order, which the resume test compares.
"""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True, scope="package")
def one_torch_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
