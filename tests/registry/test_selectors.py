import pytest

from registry import selectors
from registry.errors import InvalidInput, NotFound
from registry.models import RunStatus
from registry.services import check_metric_batch, run_finish, run_log_metrics
from tests.factories import ExperimentFactory, RunFactory

pytestmark = pytest.mark.django_db


def log(run, **last_values: float) -> None:
    run_log_metrics(
        run=run,
        batch=check_metric_batch(
            [{"key": key, "step": 0, "value": value} for key, value in last_values.items()]
        ),
    )


def names(runs) -> list[str]:
    return [run.name for run in runs]


@pytest.fixture
def gallery(experiment):
    """Four runs of the owner's experiment with different params and metrics."""
    runs = {
        "ink": RunFactory(experiment=experiment, name="ink", params={"brush": "ink", "lr": 0.1}),
        "oil": RunFactory(experiment=experiment, name="oil", params={"brush": "oil", "lr": 0.01}),
        "pastel": RunFactory(
            experiment=experiment, name="pastel", params={"brush": "pastel", "batch": 32}
        ),
        "charcoal": RunFactory(
            experiment=experiment,
            name="charcoal",
            params={"brush": "ink", "lr": 0.001},
        ),
    }
    log(runs["ink"], val_acc=0.95, loss=0.2)
    log(runs["oil"], val_acc=0.85, loss=0.4)
    log(runs["pastel"], loss=0.3)
    log(runs["charcoal"], val_acc=0.91)
    run_finish(run=runs["charcoal"], status=RunStatus.SUCCEEDED)
    return runs


def test_runs_for_user_filters_by_a_metric(owner, gallery):
    runs = selectors.runs_for_user(owner, filter_text="val_acc > 0.9", order_by="name")

    assert names(runs) == ["charcoal", "ink"]


def test_runs_for_user_filters_by_metric_inequality_and_skips_runs_without_it(owner, gallery):
    runs = selectors.runs_for_user(owner, filter_text="val_acc != 0.95", order_by="name")

    assert names(runs) == ["charcoal", "oil"]


def test_runs_for_user_filters_by_param_equality(owner, gallery):
    assert names(
        selectors.runs_for_user(owner, filter_text='params.brush = "ink"', order_by="name")
    ) == ["charcoal", "ink"]
    assert names(selectors.runs_for_user(owner, filter_text="params.batch = 32")) == ["pastel"]
    assert names(
        selectors.runs_for_user(owner, filter_text="params.brush != ink", order_by="name")
    ) == ["oil", "pastel"]


def test_runs_for_user_filters_by_numeric_param_and_metric_together(owner, gallery):
    runs = selectors.runs_for_user(owner, filter_text="params.lr < 0.05 and val_acc >= 0.85")

    assert sorted(names(runs)) == ["charcoal", "oil"]


def test_runs_for_user_filters_by_status_attribute(owner, gallery):
    assert names(selectors.runs_for_user(owner, filter_text="status = succeeded")) == ["charcoal"]
    assert names(selectors.runs_for_user(owner, status="succeeded")) == ["charcoal"]


def test_runs_for_user_orders_by_a_metric_descending_with_missing_metrics_last(owner, gallery):
    runs = selectors.runs_for_user(owner, order_by="-metrics.val_acc")

    assert names(runs) == ["ink", "charcoal", "oil", "pastel"]


def test_runs_for_user_orders_by_a_metric_ascending_with_missing_metrics_last(owner, gallery):
    runs = selectors.runs_for_user(owner, order_by="metrics.val_acc")

    assert names(runs) == ["oil", "charcoal", "ink", "pastel"]


def test_runs_for_user_orders_by_a_param(owner, gallery):
    runs = selectors.runs_for_user(owner, order_by="params.lr")

    assert names(runs) == ["charcoal", "oil", "ink", "pastel"]


def test_param_names_with_double_underscores_are_plain_keys(owner, experiment):
    """sklearn names nested params "clf__max_depth"; they are one key, not Django lookups."""
    deep = RunFactory(experiment=experiment, name="deep", params={"clf__max_depth": 8})
    RunFactory(experiment=experiment, name="shallow", params={"clf__max_depth": 2})
    RunFactory(experiment=experiment, name="nested", params={"clf": {"max_depth": 9}})

    assert names(selectors.runs_for_user(owner, filter_text="params.clf__max_depth > 4")) == [
        deep.name
    ]
    assert names(selectors.runs_for_user(owner, order_by="-params.clf__max_depth")) == [
        "deep",
        "shallow",
        "nested",
    ]
    assert names(selectors.runs_for_user(owner, order_by="params.clf__gt")) == [
        "nested",
        "shallow",
        "deep",
    ]


@pytest.mark.parametrize("text", ["params.lr > -inf", "params.x = 1e999", "loss > nan"])
def test_non_finite_numbers_in_a_filter_are_invalid_input(owner, gallery, text):
    with pytest.raises(InvalidInput, match="finite number"):
        list(selectors.runs_for_user(owner, filter_text=text))


def test_runs_for_user_refuses_a_bad_filter_as_invalid_input(owner, gallery):
    with pytest.raises(InvalidInput) as caught:
        selectors.runs_for_user(owner, filter_text="val_acc >> 1")

    assert caught.value.field == "filter"


def test_runs_for_user_shows_only_the_users_own_runs(owner, collaborator, stranger, gallery):
    RunFactory(experiment=ExperimentFactory(owner=stranger), name="someone else's")

    assert sorted(names(selectors.runs_for_user(owner))) == ["charcoal", "ink", "oil", "pastel"]
    assert names(selectors.runs_for_user(collaborator)) == []
    assert names(selectors.runs_for_user(stranger)) == ["someone else's"]


def test_runs_for_user_narrows_to_one_experiment(owner, gallery):
    other = RunFactory(experiment=ExperimentFactory(owner=owner), name="elsewhere")

    assert names(selectors.runs_for_user(owner, experiment_id=other.experiment_id)) == ["elsewhere"]


def test_run_and_experiment_lookups_hide_what_is_not_yours(owner, collaborator, stranger, run):
    assert selectors.run_for_user(owner, run.pk) == run
    assert selectors.experiment_for_user(owner, run.experiment_id) == run.experiment
    for user in (collaborator, stranger):
        with pytest.raises(NotFound):
            selectors.run_for_user(user, run.pk)
        with pytest.raises(NotFound):
            selectors.experiment_for_user(user, run.experiment_id)
    with pytest.raises(NotFound):
        selectors.run_for_user(owner, "not-a-number")


def test_anonymous_users_see_nothing(run):
    from django.contrib.auth.models import AnonymousUser

    assert list(selectors.runs_for_user(AnonymousUser())) == []
    assert list(selectors.experiments_for_user(AnonymousUser())) == []
    with pytest.raises(NotFound):
        selectors.run_for_user(AnonymousUser(), run.pk)


def test_runs_for_compare_keeps_the_order_asked_and_refuses_foreign_ids(owner, stranger, gallery):
    ids = [gallery["pastel"].pk, gallery["ink"].pk]

    assert names(selectors.runs_for_compare(owner, ids)) == ["pastel", "ink"]
    with pytest.raises(NotFound):
        selectors.runs_for_compare(stranger, ids)


def test_experiments_for_user_counts_runs(owner, gallery):
    ExperimentFactory(owner=owner, name="empty")

    counts = {e.name: e.n_runs for e in selectors.experiments_for_user(owner)}

    assert counts == {"sketch brushes": 4, "empty": 0}


def test_runs_list_costs_a_fixed_number_of_queries(owner, experiment, django_assert_num_queries):
    def list_page() -> None:
        runs = selectors.runs_for_user(owner, order_by="-metrics.val_acc")
        for run in runs[:50]:
            assert run.experiment.name == "sketch brushes"
            list(run.summaries.all())

    for index in range(12):
        run = RunFactory(experiment=experiment)
        log(run, val_acc=index / 12, loss=1 - index / 12)

    with django_assert_num_queries(2):  # runs with experiments, then all their summaries
        list_page()
