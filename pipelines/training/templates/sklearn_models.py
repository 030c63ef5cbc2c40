"""The scikit-learn templates: thin wrappers that pick the estimator and map the params.

Each is a few lines on purpose (like healthchecks' transports): scikit-learn does the work; the
template decides the params a creator may change, their defaults and ranges, and which types a
saved model of it may contain. Inputs arrive flattened to (N, features); regression targets
arrive standardised (the loop undoes it), so defaults such as SVR's epsilon mean the same on
every dataset. Scale-sensitive models (logistic regression, SVM) standardise features first.
"""

from __future__ import annotations

from typing import Any

from pipelines.training.params import (
    choice_property,
    integer_property,
    number_property,
    object_schema,
)
from pipelines.training.templates.base import SklearnTemplate
from pipelines.training.templates.registry import register

SCALED_PIPELINE_TYPES = frozenset(
    {"sklearn.pipeline.Pipeline", "sklearn.preprocessing._data.StandardScaler"}
)


def _optional_depth(description: str) -> dict[str, Any]:
    return {
        "type": ["integer", "null"],
        "minimum": 1,
        "maximum": 100,
        "default": None,
        "description": description,
    }


def _regularisation(description: str) -> dict[str, Any]:
    return number_property(1.0, description, exclusive_minimum=0.0, maximum=1_000_000.0)


def _scaled(estimator: Any) -> Any:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), estimator)


@register
class LogisticRegressionTemplate(SklearnTemplate):
    """Multinomial logistic regression on standardised features: a strong, fast baseline."""

    name = "logistic_regression"
    tasks = frozenset({"classification"})
    description = "Logistic regression: a fast linear baseline for classification."
    trusted_types = SCALED_PIPELINE_TYPES | {"sklearn.linear_model._logistic.LogisticRegression"}
    param_schema = object_schema(
        {
            "C": _regularisation("Inverse regularisation strength: larger fits the data closer."),
            "max_iter": integer_property(1000, 10, 100_000, "Most solver iterations."),
        }
    )

    @classmethod
    def build_estimator(cls, params: dict[str, Any], task: str, seed: int) -> Any:
        from sklearn.linear_model import LogisticRegression

        return _scaled(
            LogisticRegression(C=params["C"], max_iter=params["max_iter"], random_state=seed)
        )


@register
class RandomForestTemplate(SklearnTemplate):
    """Bagged decision trees: robust on raw tables, needs no scaling."""

    name = "random_forest"
    tasks = frozenset({"classification", "regression"})
    continuous = False  # trees: an input on a split goes one way or the other
    description = "A random forest of decision trees, robust on raw tables."
    trusted_types = frozenset(
        {
            "sklearn.ensemble._forest.RandomForestClassifier",
            "sklearn.ensemble._forest.RandomForestRegressor",
            "sklearn.tree._classes.DecisionTreeClassifier",
            "sklearn.tree._classes.DecisionTreeRegressor",
            "sklearn.tree._tree.Tree",
        }
    )
    param_schema = object_schema(
        {
            "n_estimators": integer_property(200, 1, 2000, "Number of trees."),
            "max_depth": _optional_depth("Deepest a tree may grow; null: until leaves are pure."),
            "min_samples_leaf": integer_property(1, 1, 1000, "Fewest samples in a leaf."),
        }
    )

    @classmethod
    def build_estimator(cls, params: dict[str, Any], task: str, seed: int) -> Any:
        from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

        forest = RandomForestClassifier if task == "classification" else RandomForestRegressor
        return forest(
            n_estimators=params["n_estimators"],
            max_depth=params["max_depth"],
            min_samples_leaf=params["min_samples_leaf"],
            random_state=seed,
        )


@register
class GradientBoostingTemplate(SklearnTemplate):
    """Histogram gradient boosting; its own early stopping is off because the run's validation
    split already measures the model, and "auto" would silently change with the data size."""

    name = "gradient_boosting"
    tasks = frozenset({"classification", "regression"})
    continuous = False  # trees: an input on a split goes one way or the other
    description = "Histogram gradient boosting: boosted trees, often the best on tables."
    trusted_types = frozenset(
        {
            "sklearn.ensemble._hist_gradient_boosting.gradient_boosting."
            "HistGradientBoostingClassifier",
            "sklearn.ensemble._hist_gradient_boosting.gradient_boosting."
            "HistGradientBoostingRegressor",
            "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
            "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
            "sklearn.preprocessing._label.LabelEncoder",
            "sklearn._loss.loss.HalfBinomialLoss",
            "sklearn._loss.loss.HalfMultinomialLoss",
            "sklearn._loss.loss.HalfSquaredError",
            "sklearn._loss._loss.CyHalfBinomialLoss",
            "sklearn._loss._loss.CyHalfMultinomialLoss",
            "sklearn._loss._loss.CyHalfSquaredError",
            "sklearn._loss.link.IdentityLink",
            "sklearn._loss.link.Interval",
            "sklearn._loss.link.LogitLink",
            "sklearn._loss.link.MultinomialLogit",
        }
    )
    param_schema = object_schema(
        {
            "learning_rate": number_property(
                0.1, "Shrinkage of each tree's contribution.", exclusive_minimum=0.0, maximum=1.0
            ),
            "max_iter": integer_property(200, 1, 5000, "Number of boosting rounds (trees)."),
            "max_depth": _optional_depth("Deepest a tree may grow; null: limited by 31 leaves."),
        }
    )

    @classmethod
    def build_estimator(cls, params: dict[str, Any], task: str, seed: int) -> Any:
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

        booster = (
            HistGradientBoostingClassifier
            if task == "classification"
            else HistGradientBoostingRegressor
        )
        return booster(
            learning_rate=params["learning_rate"],
            max_iter=params["max_iter"],
            max_depth=params["max_depth"],
            early_stopping=False,
            random_state=seed,
        )


@register
class SvmTemplate(SklearnTemplate):
    """Support vector machines (SVC / SVR) on standardised features.

    No probability estimates: scikit-learn deprecated SVC(probability=True), so predict_proba is
    None and the reported loss is the multiclass hinge loss of the decision function.
    """

    name = "svm"
    tasks = frozenset({"classification", "regression"})
    description = "A support vector machine with a linear or kernel decision boundary."
    trusted_types = SCALED_PIPELINE_TYPES | {"sklearn.svm._classes.SVC", "sklearn.svm._classes.SVR"}
    param_schema = object_schema(
        {
            "C": _regularisation("Penalty of margin violations: larger fits the data closer."),
            "kernel": choice_property(
                "rbf", ["rbf", "linear", "poly", "sigmoid"], "Shape of the decision boundary."
            ),
            "gamma": {
                "anyOf": [
                    {"enum": ["scale", "auto"]},
                    {"type": "number", "exclusiveMinimum": 0},
                ],
                "default": "scale",
                "description": "Kernel width: scale, auto or a positive number.",
            },
        }
    )

    @classmethod
    def build_estimator(cls, params: dict[str, Any], task: str, seed: int) -> Any:
        from sklearn.svm import SVC, SVR

        settings = {"C": params["C"], "kernel": params["kernel"], "gamma": params["gamma"]}
        if task == "classification":
            return _scaled(SVC(**settings, random_state=seed))
        return _scaled(SVR(**settings))
