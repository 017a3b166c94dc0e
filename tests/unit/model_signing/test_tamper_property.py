"""Property: whatever set of files is modified, added, removed or renamed, verification names exactly those."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kfp_gates.components.model_signing import HashingConfig, ModelIntegrityError, sign_model, verify_model
from kfp_gates.components.model_signing.signers.ec_key import ECKeySigner, PublicKeyVerifier

KEY = ec.generate_private_key(ec.SECP256R1())
NAMES = [f"{d}f{i}.bin" for d in ("", "a/", "a/b/") for i in range(4)]

files = st.dictionaries(st.sampled_from(NAMES), st.binary(min_size=1, max_size=64), min_size=2, max_size=8)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    files=files,
    data=st.data(),
    method=st.sampled_from([HashingConfig(method="files"), HashingConfig(method="shards", shard_size=1 << 20)]),
)
def test_verification_names_exactly_the_changed_files(files, data, method) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="kfpg-prop-"))
    try:
        model = tmp / "m"
        for name, content in files.items():
            (model / name).parent.mkdir(parents=True, exist_ok=True)
            (model / name).write_bytes(content)
        sig = tmp / "m.sig"
        sign_model(model, ECKeySigner(KEY), signature=sig, config=method)

        names = sorted(files)
        modified = data.draw(st.sets(st.sampled_from(names), max_size=2))
        rest = [n for n in names if n not in modified]
        removed = data.draw(st.sets(st.sampled_from(rest), max_size=2)) if rest else set()
        free = [n for n in NAMES if n not in files]
        added = data.draw(st.sets(st.sampled_from(free), max_size=2)) if free else set()
        expected = set()
        for n in modified:
            (model / n).write_bytes(files[n] + b"!")
            expected.add(("modified", n))
        for n in removed:
            (model / n).unlink()
        contents_removed = {files[n] for n in removed}
        for n in added:
            (model / n).parent.mkdir(parents=True, exist_ok=True)
            (model / n).write_bytes(b"new:" + n.encode())  # never equal to a removed file's content
        expected |= {("removed", n) for n in removed} | {("added", n) for n in added}
        assert not contents_removed & {b"new:" + n.encode() for n in added}

        verifier = PublicKeyVerifier(KEY.public_key())
        if not expected:
            verify_model(model, sig, verifier)
            return
        with pytest.raises(ModelIntegrityError) as exc:
            verify_model(model, sig, verifier)
        assert {(d.kind, d.path) for d in exc.value.differences} == expected
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
