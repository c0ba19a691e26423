from __future__ import annotations

import math
from pathlib import Path

import pytest

from gitlab_model_registry import metadata
from gitlab_model_registry.errors import UsageError
from gitlab_model_registry.metadata import Batch


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def usage_error(call: object, *args: object) -> str:
    assert callable(call)
    with pytest.raises(UsageError) as raised:
        call(*args)
    message = str(raised.value)
    assert raised.value.exit_code == 2
    assert "\n" not in message
    return message


# -- K=V flags ---------------------------------------------------------------------------------


def test_parse_pairs_splits_on_the_first_equals_sign() -> None:
    assert metadata.parse_pairs(["lr=0.01", "note=a=b", "empty=", "lr=0.02"], "--param") == {
        "lr": "0.02",
        "note": "a=b",
        "empty": "",
    }
    assert metadata.parse_pairs([], "--param") == {}


@pytest.mark.parametrize("item", ["lr", "=0.1", "", "lr 0.1"])
def test_parse_pairs_rejects_what_is_not_key_value(item: str) -> None:
    message = usage_error(metadata.parse_pairs, [item], "--metric")
    assert message == f"--metric {item!r} is not KEY=VALUE: write e.g. --metric name=value"


# -- files ------------------------------------------------------------------------------------


def test_load_json_and_yaml(tmp_path: Path) -> None:
    data = {"lr": 0.01, "model": {"layers": 4, "act": "relu"}, "tags": [1, 2]}
    json_file = write(
        tmp_path / "p.json", '{"lr": 0.01, "model": {"layers": 4, "act": "relu"}, "tags": [1, 2]}'
    )
    yaml_file = write(
        tmp_path / "p.yaml", "lr: 0.01\nmodel:\n  layers: 4\n  act: relu\ntags: [1, 2]\n"
    )
    yml_file = write(
        tmp_path / "P.YML", "lr: 0.01\nmodel: {layers: 4, act: relu}\ntags:\n- 1\n- 2\n"
    )
    assert metadata.load_file(json_file) == data
    assert metadata.load_file(str(yaml_file)) == data
    assert metadata.load_file(yml_file) == data


def test_yaml_is_loaded_safely(tmp_path: Path) -> None:
    path = write(tmp_path / "evil.yaml", "x: !!python/object/apply:os.system ['true']\n")
    assert "is not valid YAML" in usage_error(metadata.load_file, path)


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("p.toml", "lr = 1", "is not a .json, .yaml or .yml file: rename it or convert it"),
        ("p.json", "[1, 2]", "holds a list, not a mapping of names to values"),
        ("p.yaml", "just text", "holds a str, not a mapping"),
        ("p.yaml", "", "holds empty, not a mapping"),
        ("p.json", '{"lr": 0.1,}', "is not valid JSON (line 1, column 12: Expecting property name"),
        ("p.yaml", "a: 1\n b: [", "is not valid YAML (line 2: "),
        ("p.yaml", "a: [1, 2", "is not valid YAML (line 1: expected ',' or ']'"),
    ],
)
def test_load_file_errors(tmp_path: Path, name: str, text: str, expected: str) -> None:
    path = write(tmp_path / name, text)
    message = usage_error(metadata.load_file, path)
    assert message.startswith(repr(str(path)))
    assert expected in message


def test_load_file_missing_or_unreadable(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    assert (
        usage_error(metadata.load_file, missing)
        == f"{str(missing)!r} does not exist: check the path"
    )
    (tmp_path / "dir.yaml").mkdir()
    assert "cannot be read (Is a directory)" in usage_error(
        metadata.load_file, tmp_path / "dir.yaml"
    )
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("name: modèle\n".encode("latin-1"))
    assert "is not UTF-8 text" in usage_error(metadata.load_file, latin1)


def test_flatten() -> None:
    nested = {"a": {"b": {"c": 1}, "d": [1, {"x": 2}]}, "e": None, "f": {}, 3: "int key"}
    assert metadata.flatten(nested) == {
        "a.b.c": 1,
        "a.d": '[1, {"x": 2}]',
        "e": None,
        "3": "int key",
    }
    assert metadata.flatten({"a": {"b": 1}}, sep="/") == {"a/b": 1}
    assert metadata.flatten({}) == {}


def test_flatten_rejects_a_key_given_twice() -> None:
    message = usage_error(metadata.flatten, {"a.b": 1, "a": {"b": 2}})
    assert message == "'a.b' is given twice once nested keys are joined with '.': keep one"


# -- params -----------------------------------------------------------------------------------


def test_params_files_first_then_flags(tmp_path: Path) -> None:
    first = write(tmp_path / "a.yaml", "lr: 0.1\nopt: {name: adam, beta: 0.9}\nearly: true\n")
    second = write(tmp_path / "b.json", '{"lr": 0.2, "seed": 7, "none": null, "list": ["x", 1]}')
    result = metadata.params(["seed=8", "extra=yes"], [first, second])
    assert result == {
        "lr": "0.2",
        "opt.name": "adam",
        "opt.beta": "0.9",
        "early": "true",
        "seed": "8",
        "none": "",
        "list": '["x", 1]',
        "extra": "yes",
    }
    assert metadata.params([], []) == {}
    assert metadata.params(["off=False"], []) == {"off": "False"}  # a flag's text is kept as typed


def test_param_limits(tmp_path: Path) -> None:
    at_limit = {"k" * 250: "v" * 250}
    assert metadata.params([f"{'k' * 250}={'v' * 250}"], []) == at_limit
    message = usage_error(metadata.params, [f"note={'v' * 251}"], [])
    assert message == (
        "param 'note' from --param has a 251-character value, over the registry's limit of 250: "
        "shorten it, or publish it as a file instead"
    )
    long_key = write(tmp_path / "p.json", f'{{"{"k" * 251}": 1}}')
    message = usage_error(metadata.params, [], [long_key])
    assert f"param name {'k' * 40!r}... in {str(long_key)!r} is 251 characters" in message
    empty_key = write(tmp_path / "e.yaml", '"": 1\n')
    assert "a param in" in usage_error(metadata.params, [], [empty_key])
    assert "has an empty name" in usage_error(metadata.params, [], [empty_key])


# -- metrics ----------------------------------------------------------------------------------


def test_metrics(tmp_path: Path) -> None:
    path = write(tmp_path / "m.yaml", "acc: 0.93\neval: {loss: 1, f1: '0.5'}\nsteps: 1e3\n")
    result = metadata.metrics(["acc=0.95", "auc= 0.8 "], [path])
    assert result == {"acc": 0.95, "eval.loss": 1.0, "eval.f1": 0.5, "steps": 1000.0, "auc": 0.8}
    assert all(type(v) is float for v in result.values())


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ('{"acc": NaN}', "nan"),
        ('{"acc": Infinity}', "inf"),
        ('{"acc": -Infinity}', "-inf"),
        ('{"acc": "nan"}', "nan"),
        ('{"acc": "1e999"}', "inf"),
        ('{"acc": true}', "True"),
        ('{"acc": null}', "None"),
        ('{"acc": "high"}', "'high'"),
        ('{"acc": [1, 2]}', "'[1, 2]'"),
        ('{"acc": 1' + "0" * 400 + "}", "1000000"),
    ],
)
def test_metrics_must_be_finite_numbers(tmp_path: Path, text: str, shown: str) -> None:
    path = write(tmp_path / "m.json", text)
    message = usage_error(metadata.metrics, [], [path])
    assert message.startswith(f"metric 'acc' in {str(path)!r} is {shown}")
    assert message.endswith("not a finite number: give a number such as 0.93 (no NaN or infinity)")


@pytest.mark.parametrize("value", ["nan", "inf", "-Infinity", "0.9x", ""])
def test_metric_flags_must_be_finite_numbers(value: str) -> None:
    message = usage_error(metadata.metrics, [f"loss={value}"], [])
    assert message.startswith("metric 'loss' from --metric is ")


def test_metric_key_limit() -> None:
    assert metadata.metrics([f"{'m' * 250}=1"], []) == {"m" * 250: 1.0}
    assert "is 251 characters" in usage_error(metadata.metrics, [f"{'m' * 251}=1"], [])


def test_a_bad_flag_is_reported_even_after_good_files(tmp_path: Path) -> None:
    path = write(tmp_path / "m.json", '{"acc": 0.9}')
    assert "is not KEY=VALUE" in usage_error(metadata.metrics, ["acc"], [path])
    assert not math.isnan(metadata.metrics([], [path])["acc"])


# -- batches ----------------------------------------------------------------------------------


def numbered(prefix: str, count: int) -> dict[str, str]:
    return {f"{prefix}{i}": str(i) for i in range(count)}


def check_limits(batches: list[Batch]) -> None:
    for batch in batches:
        assert len(batch.params) <= metadata.MAX_BATCH_PARAMS
        assert len(batch.tags) <= metadata.MAX_BATCH_TAGS
        assert len(batch.metrics) <= metadata.MAX_BATCH_METRICS
        assert len(batch.params) + len(batch.metrics) + len(batch.tags) <= 1000


def test_nothing_to_log_makes_no_batch() -> None:
    assert list(metadata.batches({}, {}, {})) == []


def test_a_small_run_fits_one_batch() -> None:
    (batch,) = metadata.batches({"lr": "0.1"}, {"acc": 0.9}, {"gitlab.CI_JOB_ID": "11"})
    assert batch == Batch((("lr", "0.1"),), (("acc", 0.9),), (("gitlab.CI_JOB_ID", "11"),))


@pytest.mark.parametrize(
    ("n_params", "n_metrics", "n_tags", "expected_batches"),
    [
        (100, 0, 0, 1),
        (101, 0, 0, 2),
        (0, 1000, 0, 1),
        (0, 1001, 0, 2),
        (0, 0, 250, 3),
        (100, 900, 0, 1),
        (100, 901, 0, 2),
        (100, 800, 100, 1),
        (250, 2500, 30, 3),
        (1, 5000, 1, 6),
    ],
)
def test_batches_respect_mlflow_limits(
    n_params: int, n_metrics: int, n_tags: int, expected_batches: int
) -> None:
    params, tags = numbered("p", n_params), numbered("t", n_tags)
    metrics = {f"m{i}": float(i) for i in range(n_metrics)}
    batches = list(metadata.batches(params, metrics, tags))
    check_limits(batches)
    assert len(batches) == expected_batches
    assert [kv for b in batches for kv in b.params] == list(params.items())
    assert [kv for b in batches for kv in b.metrics] == list(metrics.items())
    assert [kv for b in batches for kv in b.tags] == list(tags.items())


def test_batch_is_frozen() -> None:
    batch = Batch()
    with pytest.raises(AttributeError):
        batch.params = ()  # type: ignore[misc]
