"""The filter language of the experiment page and the API (plain Python, no database)."""

import pytest

from registry.run_filters import (
    MAX_CONDITIONS,
    Condition,
    FilterSyntaxError,
    Ordering,
    parse_filter,
    parse_ordering,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("   ", []),
        ("val_acc > 0.9", [Condition("metric", "val_acc", ">", 0.9)]),
        ("metrics.val_acc>=0.9", [Condition("metric", "val_acc", ">=", 0.9)]),
        ("loss < 1e-3", [Condition("metric", "loss", "<", 0.001)]),
        ("train/loss <= 2", [Condition("metric", "train/loss", "<=", 2.0)]),
        ("loss == 0.5", [Condition("metric", "loss", "=", 0.5)]),
        ("loss != 0.5", [Condition("metric", "loss", "!=", 0.5)]),
        ('params.optimizer = "adam"', [Condition("param", "optimizer", "=", "adam")]),
        ("params.optimizer = 'adam'", [Condition("param", "optimizer", "=", "adam")]),
        ("params.optimizer = adam", [Condition("param", "optimizer", "=", "adam")]),
        ("params.lr < 0.01", [Condition("param", "lr", "<", 0.01)]),
        ('params.seed = "42"', [Condition("param", "seed", "=", "42")]),
        ('params.note = "inf"', [Condition("param", "note", "=", "inf")]),
        ("params.clf__max_depth >= 3", [Condition("param", "clf__max_depth", ">=", 3.0)]),
        ("status = succeeded", [Condition("attribute", "status", "=", "succeeded")]),
        ('name != "baseline"', [Condition("attribute", "name", "!=", "baseline")]),
        (
            'val_acc > 0.9 AND params.optimizer = "adam" and status = succeeded',
            [
                Condition("metric", "val_acc", ">", 0.9),
                Condition("param", "optimizer", "=", "adam"),
                Condition("attribute", "status", "=", "succeeded"),
            ],
        ),
    ],
)
def test_parse_filter_reads_valid_conditions(text, expected):
    assert parse_filter(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("val_acc", "cannot read 'val_acc'"),
        ("val_acc > ", "cannot read"),
        ("val_acc ~ 0.9", "cannot read"),
        ("val_acc > high", "compares with a number, not 'high'"),
        ('val_acc > "0.9"', "compares with a number, not text"),
        ("status > running", "status can only be compared with = or !="),
        ('params.optimizer > "adam"', "can only be compared with = or !="),
        ("params.optimizer > adam", "can only be compared with = or !="),
        ("val_acc > 0.9 or loss < 1", "cannot read"),
        ("loss > nan", "compares with a finite number, not 'nan'"),
        ("loss < inf", "compares with a finite number, not 'inf'"),
        ("params.lr > -inf", "compares with a finite number, not '-inf'"),
        ("params.x = 1e999", "compares with a finite number, not '1e999'"),
        ("params. = 1", "name a key after 'params.'"),
        ("metrics. > 1", "name a key after 'metrics.'"),
        (" and ".join(["loss < 1"] * (MAX_CONDITIONS + 1)), f"at most {MAX_CONDITIONS}"),
    ],
)
def test_parse_filter_refuses_invalid_text_with_a_helpful_message(text, message):
    with pytest.raises(FilterSyntaxError) as caught:
        parse_filter(text)

    assert message in str(caught.value)


def test_parse_filter_accepts_the_maximum_number_of_conditions():
    text = " and ".join(["loss < 1"] * MAX_CONDITIONS)

    assert len(parse_filter(text)) == MAX_CONDITIONS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", None),
        ("created_at", Ordering("attribute", "created_at", False)),
        ("-name", Ordering("attribute", "name", True)),
        ("-metrics.val_acc", Ordering("metric", "val_acc", True)),
        ("metrics.loss", Ordering("metric", "loss", False)),
        ("params.lr", Ordering("param", "lr", False)),
    ],
)
def test_parse_ordering_reads_valid_orderings(text, expected):
    assert parse_ordering(text) == expected


@pytest.mark.parametrize(
    "text", ["val_acc", "-owner", "password", "metrics", "-", "params.", "-metrics."]
)
def test_parse_ordering_refuses_unknown_fields(text):
    with pytest.raises(FilterSyntaxError, match=r"cannot sort by|name a key after"):
        parse_ordering(text)
