"""trust_remote_code through keyword mappings and aliased loaders is flagged (issue 17)."""

from __future__ import annotations

import pytest

from kfp_gates.components.dependency_scan.parsers.python_source import NO_REVISION, TRUST_REMOTE_CODE, scan_source

PINNED = 'revision="' + "a" * 40 + '"'


def _rules(code: str) -> list[str]:
    return [f.rule for f in scan_source(code, "train.py")]


@pytest.mark.parametrize("code", [
    f'kw = {{"trust_remote_code": True}}\nAutoModel.from_pretrained("org/m", {PINNED}, **kw)',
    f'def load():\n    kw = {{"trust_remote_code": True}}\n'
    f'    return AutoModel.from_pretrained("org/m", {PINNED}, **kw)',
    f'kw = {{}}\nkw["trust_remote_code"] = True\nAutoModel.from_pretrained("org/m", {PINNED}, **kw)',
    f'kw = {{}}\nkw.update({{"trust_remote_code": 1}})\nAutoModel.from_pretrained("org/m", {PINNED}, **kw)',
    f'base = {{"trust_remote_code": True}}\nkw = {{**base}}\nAutoModel.from_pretrained("org/m", {PINNED}, **kw)',
    f'T = True\nAutoModel.from_pretrained("org/m", {PINNED}, trust_remote_code=T)',
    f'load = AutoModel.from_pretrained\nkw = dict(trust_remote_code=True)\nload("org/m", {PINNED}, **kw)',
    f'pipeline("text-generation", model="org/m", {PINNED}, model_kwargs={{"trust_remote_code": True}})',
])
def test_trust_remote_code_through_mappings_is_flagged_once(code):
    assert _rules(code).count(TRUST_REMOTE_CODE) == 1, code


def test_aliased_loader_is_a_hub_load():
    assert _rules('load = AutoModel.from_pretrained\nload("org/m")') == [NO_REVISION]
    assert _rules('from huggingface_hub import hf_hub_download as dl\ndl("org/m", "f.bin")') == [NO_REVISION]


@pytest.mark.parametrize("code", [
    'kw = {"trust_remote_code": False}\nAutoModel.from_pretrained("./m", **kw)',
    'AutoModel.from_pretrained("./m", trust_remote_code=False)',
    'kw = {"device_map": "auto"}\nAutoModel.from_pretrained("./m", **kw)',
])
def test_false_or_absent_is_not_flagged(code):
    assert TRUST_REMOTE_CODE not in _rules(code)
