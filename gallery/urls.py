from django.urls import path

from gallery import (
    dataset_views,
    embedding_views,
    model_views,
    sweep_views,
    training_views,
    views,
)

app_name = "gallery"

urlpatterns = [
    path("", views.home, name="home"),
    path("experiments/", views.experiment_list, name="experiments"),
    path("experiments/<int:experiment_id>/", views.experiment_detail, name="experiment"),
    path("runs/compare/", views.run_compare, name="compare"),
    path("runs/<int:run_id>/", views.run_detail, name="run"),
    path("train/", training_views.train_new, name="train"),
    path("runs/<int:run_id>/remix/", training_views.run_remix, name="run-remix"),
    path("runs/<int:run_id>/cancel/", training_views.run_cancel, name="run-cancel"),
    path("runs/<int:run_id>/log/", training_views.run_log, name="run-log"),
    path("datasets/", dataset_views.dataset_list, name="datasets"),
    path("datasets/new/", dataset_views.dataset_new, name="dataset-new"),
    path("datasets/<int:dataset_id>/", dataset_views.dataset_detail, name="dataset"),
    path(
        "datasets/<int:dataset_id>/versions/new/",
        dataset_views.dataset_version_new,
        name="dataset-version-new",
    ),
    path(
        "datasets/<int:dataset_id>/versions/<int:version_id>/samples/<int:index>/",
        dataset_views.dataset_sample,
        name="dataset-sample",
    ),
    path(
        "datasets/<int:dataset_id>/versions/<int:version_id>/samples/<int:index>/thumbnail.png",
        dataset_views.dataset_sample_thumbnail,
        name="dataset-sample-thumbnail",
    ),
    path(
        "datasets/<int:dataset_id>/versions/<int:version_id>/annotate/",
        dataset_views.dataset_annotate,
        name="dataset-annotate",
    ),
    path("sweeps/", sweep_views.sweep_list, name="sweeps"),
    path("sweeps/<int:sweep_id>/", sweep_views.sweep_detail, name="sweep"),
    path("sweeps/<int:sweep_id>/data.json", sweep_views.sweep_data, name="sweep-data"),
    path(
        "sweeps/<int:sweep_id>/importances.json",
        sweep_views.sweep_importances,
        name="sweep-importances",
    ),
    path("sweeps/<int:sweep_id>/stop/", sweep_views.sweep_stop, name="sweep-stop"),
    path("sweeps/<int:sweep_id>/resume/", sweep_views.sweep_resume, name="sweep-resume"),
    path("models/", model_views.model_list, name="models"),
    path("models/<slug:name>/", model_views.model_detail, name="model"),
    path("models/<slug:name>/edit/", model_views.model_edit, name="model-edit"),
    path("models/<slug:name>/embedding/", embedding_views.model_embedding, name="model-embedding"),
    path(
        "models/<slug:name>/embedding.json",
        embedding_views.model_embedding_data,
        name="model-embedding-data",
    ),
    path("models/<slug:name>/aliases/", model_views.model_alias_move, name="model-alias-move"),
    path(
        "models/<slug:name>/aliases/<slug:alias>/rollback/",
        model_views.model_alias_rollback,
        name="model-alias-rollback",
    ),
    path(
        "models/<slug:name>/versions/<int:number>/files/<path:path>",
        model_views.model_file,
        name="model-file",
    ),
    path("runs/<int:run_id>/publish/", model_views.run_publish, name="run-publish"),
    path("drift/", views.coming_soon, {"area": "Drift"}, name="drift"),
]
