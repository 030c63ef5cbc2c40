import pytest

from registry.errors import Conflict, InvalidInput
from registry.models import Experiment, Run
from registry.services import experiment_create, experiment_delete, experiment_update
from tests.factories import ExperimentFactory, RunFactory

pytestmark = pytest.mark.django_db


def test_experiment_create_stores_cleaned_fields(owner):
    experiment = experiment_create(
        owner=owner,
        name="  watercolour brushes  ",
        description="which brush helps?",
        tags=["sketch", " colour ", "sketch"],
    )

    stored = Experiment.objects.get(pk=experiment.pk)
    assert stored.owner == owner
    assert stored.name == "watercolour brushes"
    assert stored.description == "which brush helps?"
    assert stored.tags == ["sketch", "colour"]


def test_experiment_create_refuses_a_duplicate_name_of_the_same_owner(owner):
    experiment_create(owner=owner, name="palette")

    with pytest.raises(Conflict) as caught:
        experiment_create(owner=owner, name="palette")

    assert caught.value.field == "name"
    assert Experiment.objects.filter(owner=owner, name="palette").count() == 1


def test_two_owners_may_use_the_same_experiment_name(owner, stranger):
    experiment_create(owner=owner, name="palette")
    experiment_create(owner=stranger, name="palette")

    assert Experiment.objects.filter(name="palette").count() == 2


@pytest.mark.parametrize(
    ("name", "tags"),
    [
        ("   ", None),
        ("x" * 201, None),
        ("ok", "sketch"),
        ("ok", [""]),
        ("ok", ["x" * 51]),
        ("ok", [f"tag{i}" for i in range(33)]),
    ],
    ids=["blank-name", "long-name", "tags-string", "blank-tag", "long-tag", "too-many-tags"],
)
def test_experiment_create_refuses_bad_input_and_stores_nothing(owner, name, tags):
    with pytest.raises(InvalidInput):
        experiment_create(owner=owner, name=name, tags=tags)

    assert not Experiment.objects.exists()


def test_experiment_update_renames_and_refuses_a_taken_name(owner):
    ExperimentFactory(owner=owner, name="taken")
    experiment = ExperimentFactory(owner=owner, name="draft")

    renamed = experiment_update(experiment=experiment, name="final", tags=["a"])
    assert (renamed.name, renamed.tags) == ("final", ["a"])

    with pytest.raises(Conflict):
        experiment_update(experiment=experiment, name="taken")
    assert Experiment.objects.get(pk=experiment.pk).name == "final"


def test_experiment_delete_removes_its_runs(owner):
    experiment = ExperimentFactory(owner=owner)
    RunFactory(experiment=experiment)
    RunFactory(experiment=experiment)

    experiment_delete(experiment=experiment)

    assert not Experiment.objects.exists()
    assert not Run.objects.exists()
