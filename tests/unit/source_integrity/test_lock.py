"""Component lock: create, parse, and name every executor changed, added or removed."""

from __future__ import annotations

import json

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from kfp_gates.components.common.errors import ConfigError, InputNotFoundError
from kfp_gates.components.common.kfp_ir import parse_pipeline
from kfp_gates.components.common.severity import Severity
from kfp_gates.components.source_integrity import lock as lk

from .sample_pipeline import BUNDLED

EXEC = "exec-train-model"


def _container(doc, label=EXEC):
    return doc["deploymentSpec"]["executors"][label]["container"]


def _inject_pip_install(doc):
    c = _container(doc)
    c["command"] = [p.replace("_KFP_RUNTIME=true python3", "pip install evil && _KFP_RUNTIME=true python3")
                    for p in c["command"]]
    assert any("pip install evil" in p for p in c["command"])


def _edit_code(doc):
    c = _container(doc)
    c["command"] = [part.replace("b = my - a * mx", "b = my - a * mx + 1") for part in c["command"]]


def test_lock_records_each_executor_with_digests_of_its_parts(sample):
    lock = lk.create_lock(sample)
    assert sorted(lock.executors) == ["exec-prepare-data", EXEC]
    train = lock.executors[EXEC]
    assert train.components == ("comp-train-model",)
    assert train.image == sample.executors[EXEC].image
    assert train.digests.embedded_code is not None
    assert len({train.digests.image, train.digests.command, train.digests.args, train.digests.embedded_code}) == 4


def test_lock_is_canonical_and_round_trips(sample):
    a, b = lk.create_lock(sample), lk.create_lock(sample)
    assert a.to_json() == b.to_json() and a.sha256 == b.sha256
    assert lk.parse_lock(a.to_json()) == a
    data = json.loads(a.to_json())
    assert data["apiVersion"] == "kfp-gates/v1" and data["kind"] == "ComponentLock"


def test_untouched_pipeline_matches(sample, edited):
    lock = lk.create_lock(sample)
    assert lk.verify_lock(sample, lock) == []
    # re-serialised YAML with the same content is the same pipeline
    assert lk.verify_lock(edited(lambda d: None), lock) == []


def test_edited_component_code_is_named(sample, edited):
    lock = lk.create_lock(sample)
    [f] = lk.verify_lock(edited(_edit_code), lock)
    assert f.id == lk.CHANGED and f.severity is Severity.HIGH
    assert f.data["executor"] == EXEC and f.data["parts"] == ["embedded_code"]
    assert "comp-train-model" in f.message and "task train-model" in f.message
    assert f.location.field == f"deploymentSpec.executors.{EXEC}"


@pytest.mark.parametrize(
    ("change", "part"),
    [
        (lambda d: _container(d).__setitem__("image", "python:3.11"), "image"),
        (lambda d: _container(d)["args"].append("--extra"), "args"),
        (lambda d: _container(d).__setitem__("env", [{"name": "PIP_INDEX_URL", "value": "http://evil"}]), "container"),
        (lambda d: _container(d)["command"].insert(0, "strace"), "command"),
        (_inject_pip_install, "command"),
    ],
)
def test_each_part_is_covered(sample, edited, change, part):
    [f] = lk.verify_lock(edited(change), lk.create_lock(sample))
    assert f.id == lk.CHANGED and part in f.data["parts"]
    assert ("embedded_code" in f.data["parts"]) is False


def test_image_change_names_old_and_new(sample, edited):
    [f] = lk.verify_lock(edited(lambda d: _container(d).__setitem__("image", "python:3.11")), lk.create_lock(sample))
    assert "python:3.11" in f.message and "ml/train@sha256" in f.message


def test_platform_settings_are_locked(sample):
    # kfp-kubernetes settings live in the second YAML document, the PlatformSpec
    lock = lk.create_lock(sample)
    platform = {"platforms": {"kubernetes": {"deploymentSpec": {"executors": {
        EXEC: {"secretAsEnv": [{"secretName": "prod-db", "keyToEnv": [{"secretKey": "pw", "envVar": "PW"}]}]}}}}}}
    text = BUNDLED.read_text() + "---\n" + yaml.safe_dump(platform)
    [f] = lk.verify_lock(parse_pipeline(text, "with-platform.yaml"), lock)
    assert f.id == lk.CHANGED and f.data["parts"] == ["platform"]


def test_added_and_removed_executors_are_named(sample, edited):
    lock = lk.create_lock(sample)

    def add(doc):
        body = json.loads(json.dumps(doc["deploymentSpec"]["executors"][EXEC]))
        body["container"]["command"][-1] += "\nimport socket  # exfiltrate\n"
        doc["deploymentSpec"]["executors"]["exec-upload"] = body

    findings = lk.verify_lock(edited(add), lock)
    assert [(f.id, f.data["executor"]) for f in findings] == [(lk.ADDED, "exec-upload")]

    def remove(doc):
        del doc["deploymentSpec"]["executors"]["exec-prepare-data"]

    findings = lk.verify_lock(edited(remove), lock)
    assert [(f.id, f.data["executor"]) for f in findings] == [(lk.REMOVED, "exec-prepare-data")]
    assert "comp-prepare-data" in findings[0].message


def test_renamed_executor_with_identical_content_is_low(sample, edited):
    def rename(doc):
        ex = doc["deploymentSpec"]["executors"]
        ex["exec-train-model-2"] = ex.pop(EXEC)
        doc["components"]["comp-train-model"]["executorLabel"] = "exec-train-model-2"

    ids = {(f.id, f.severity) for f in lk.verify_lock(edited(rename), lk.create_lock(sample))}
    assert (lk.RENAMED, Severity.LOW) in ids
    assert (lk.DAG_CHANGED, Severity.HIGH) in ids  # the component now points elsewhere
    assert not {lk.ADDED, lk.REMOVED} & {i for i, _ in ids}


def test_dag_change_without_executor_change_is_caught(sample, edited):
    def drop_dependency(doc):
        doc["root"]["dag"]["tasks"]["train-model"]["dependentTasks"] = []

    [f] = lk.verify_lock(edited(drop_dependency), lk.create_lock(sample))
    assert f.id == lk.DAG_CHANGED


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "must be a JSON object"),
        ('{"apiVersion": "kfp-gates/v1", "kind": "Other", "pipeline": "p", "dag": "x", "executors": {}}', "kind"),
        ('{"apiVersion": "kfp-gates/v1", "kind": "ComponentLock", "pipeline": "p", "dag": "x", "executors": {},'
         ' "extra": 1}', "extra"),
        ('{"apiVersion": "kfp-gates/v1", "kind": "ComponentLock", "pipeline": "p"}', "dag"),
    ],
)
def test_bad_lock_files_are_config_errors(text, message):
    with pytest.raises(ConfigError) as exc:
        lk.parse_lock(text, "components.lock")
    assert message in exc.value.diagnostics()


def test_invalid_json_error_names_the_line():
    with pytest.raises(ConfigError) as exc:
        lk.parse_lock('{\n  "a": 1,\n  oops\n}', "components.lock")
    assert exc.value.where == "components.lock:3"


def test_missing_lock_file(tmp_path):
    with pytest.raises(InputNotFoundError):
        lk.load_lock(tmp_path / "components.lock")


@given(st.text(max_size=300))
def test_lock_parser_fuzz(text):
    try:
        lk.parse_lock(text)
    except ConfigError:
        pass


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                    max_leaves=20))
def test_lock_parser_fuzz_json_shapes(value):
    try:
        lk.parse_lock(json.dumps(value))
    except ConfigError:
        pass
