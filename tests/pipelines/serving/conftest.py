"""Serving tests load and run tiny real models: on one thread, as the training-core tests do
(the same fixture, for the same reasons)."""

from tests.pipelines.training.conftest import one_torch_thread  # noqa: F401  (autouse fixture)
