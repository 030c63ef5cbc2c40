"""Typed environment readers: a malformed value stops start-up naming its variable."""

import pytest

from canvascraft.env import ImproperlyConfiguredEnv, env_bool, env_int, env_list, env_str


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("true", True),
        (" Yes ", True),
        ("ON", True),
        ("0", False),
        ("false", False),
        ("no", False),
        ("off", False),
        ("", False),
    ],
)
def test_env_bool_reads_the_usual_spellings(raw, expected):
    assert env_bool("DEBUG", not expected, environ={"DEBUG": raw}) is expected


def test_env_bool_defaults_when_unset():
    assert env_bool("DEBUG", True, environ={}) is True
    assert env_bool("DEBUG", False, environ={}) is False


@pytest.mark.parametrize("raw", ["maybe", "2", "tru", "enabled"])
def test_env_bool_refuses_other_values_naming_the_variable(raw):
    with pytest.raises(ImproperlyConfiguredEnv, match=r"^CANVASCRAFT_DEBUG=") as caught:
        env_bool("CANVASCRAFT_DEBUG", False, environ={"CANVASCRAFT_DEBUG": raw})

    assert repr(raw) in str(caught.value)


def test_env_int_reads_integers_and_defaults_when_unset():
    assert env_int("CANVASCRAFT_WORKERS", 1, environ={"CANVASCRAFT_WORKERS": " 4 "}) == 4
    assert env_int("CANVASCRAFT_WORKERS", 1, environ={}) == 1
    assert env_int("N", 1, minimum=1, environ={"N": "1"}) == 1


@pytest.mark.parametrize("raw", ["four", "4.0", "", "1e3"])
def test_env_int_refuses_non_integers_naming_the_variable(raw):
    with pytest.raises(ImproperlyConfiguredEnv, match=r"^CANVASCRAFT_WORKERS=.* is not an integer"):
        env_int("CANVASCRAFT_WORKERS", 1, environ={"CANVASCRAFT_WORKERS": raw})


def test_env_int_refuses_values_below_the_minimum_naming_the_variable():
    with pytest.raises(
        ImproperlyConfiguredEnv, match=r"^CANVASCRAFT_MAX_ARTIFACT_MB=0 must be at least 1$"
    ):
        env_int(
            "CANVASCRAFT_MAX_ARTIFACT_MB",
            32,
            minimum=1,
            environ={"CANVASCRAFT_MAX_ARTIFACT_MB": "0"},
        )


def test_env_list_and_env_str():
    environ = {"ALLOWED_HOSTS": "studio.example, ,localhost,", "LOG_LEVEL": "debug"}

    assert env_list("ALLOWED_HOSTS", ["x"], environ=environ) == ["studio.example", "localhost"]
    assert env_list("CSRF_TRUSTED_ORIGINS", ["x"], environ=environ) == ["x"]
    assert env_str("LOG_LEVEL", "INFO", environ=environ) == "debug"
    assert env_str("TIME_ZONE", "UTC", environ=environ) == "UTC"


def test_readers_use_the_process_environment_by_default(monkeypatch):
    monkeypatch.setenv("CANVASCRAFT_TEST_FLAG", "yes")
    monkeypatch.setenv("CANVASCRAFT_TEST_NUMBER", "seven")

    assert env_bool("CANVASCRAFT_TEST_FLAG", False) is True
    with pytest.raises(ImproperlyConfiguredEnv, match="CANVASCRAFT_TEST_NUMBER"):
        env_int("CANVASCRAFT_TEST_NUMBER", 1)
