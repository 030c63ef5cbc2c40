"""Model templates: the named recipes a run trains (torch networks and scikit-learn estimators).

Importing this package registers the built-in templates. It imports neither torch nor
scikit-learn (each template imports them when it builds), so pages that list templates stay fast.
"""

from pipelines.training.errors import TemplateConfigError
from pipelines.training.templates import (  # noqa: F401  (registers the built-ins)
    audio_cnn,
    cnn,
    mlp,
    sklearn_models,
)
from pipelines.training.templates.base import (
    MODALITIES,
    TASKS,
    ModelTemplate,
    SklearnTemplate,
    TorchTemplate,
)
from pipelines.training.templates.registry import (
    TemplateInfo,
    check_params,
    get_template,
    list_templates,
    register,
)

__all__ = [
    "MODALITIES",
    "TASKS",
    "ModelTemplate",
    "SklearnTemplate",
    "TemplateConfigError",
    "TemplateInfo",
    "TorchTemplate",
    "check_params",
    "get_template",
    "list_templates",
    "register",
]
