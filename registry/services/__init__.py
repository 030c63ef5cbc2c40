"""Every write of the registry goes through a function here."""

from registry.services.aliases import model_alias_move, model_alias_rollback, promotion_decide
from registry.services.artifacts import check_artifact_path, run_log_artifact
from registry.services.datasets import (
    dataset_create,
    dataset_delete,
    dataset_update,
    dataset_version_add,
    dataset_version_relabel,
    ingest_limits,
)
from registry.services.experiments import experiment_create, experiment_delete, experiment_update
from registry.services.features import (
    FeatureFiles,
    feature_set_record_use,
    feature_set_store,
    feature_sets_purge,
)
from registry.services.metrics import (
    MetricBatch,
    check_metric_batch,
    run_log_metric,
    run_log_metrics,
)
from registry.services.prediction_logs import model_count_predictions, prediction_log
from registry.services.published import VersionContent, model_update, model_version_create
from registry.services.run_lifecycle import (
    run_append_log,
    run_claim,
    run_heartbeat,
    run_report_progress,
    run_request_cancel,
    run_requeue_or_fail,
    run_set_summary,
    stale_running_runs,
)
from registry.services.runs import (
    check_params,
    run_create,
    run_delete,
    run_finish,
    run_log_params,
    run_update,
)
from registry.services.samples import run_log_sample
from registry.services.sweeps import (
    sweep_create,
    sweep_set_status,
    trial_allocate,
    trial_attach_run,
    trial_finish,
    trial_report_intermediate,
    trial_report_intermediates,
)
from registry.services.tokens import (
    api_token_create,
    api_token_revoke,
    api_token_touch,
    token_digest,
)

__all__ = [
    "FeatureFiles",
    "MetricBatch",
    "VersionContent",
    "api_token_create",
    "api_token_revoke",
    "api_token_touch",
    "check_artifact_path",
    "check_metric_batch",
    "check_params",
    "dataset_create",
    "dataset_delete",
    "dataset_update",
    "dataset_version_add",
    "dataset_version_relabel",
    "experiment_create",
    "experiment_delete",
    "experiment_update",
    "feature_set_record_use",
    "feature_set_store",
    "feature_sets_purge",
    "ingest_limits",
    "model_alias_move",
    "model_alias_rollback",
    "model_count_predictions",
    "model_update",
    "model_version_create",
    "prediction_log",
    "promotion_decide",
    "run_append_log",
    "run_claim",
    "run_create",
    "run_delete",
    "run_finish",
    "run_heartbeat",
    "run_log_artifact",
    "run_log_metric",
    "run_log_metrics",
    "run_log_params",
    "run_log_sample",
    "run_report_progress",
    "run_request_cancel",
    "run_requeue_or_fail",
    "run_set_summary",
    "run_update",
    "stale_running_runs",
    "sweep_create",
    "sweep_set_status",
    "token_digest",
    "trial_allocate",
    "trial_attach_run",
    "trial_finish",
    "trial_report_intermediate",
    "trial_report_intermediates",
]
