"""The differential fuzzer for model files: the real loader in the sandbox against the model scanner.

Each input is loaded by the real loader in :class:`~tests.adversarial.sandbox.SandboxedLoader`
(audit hook on). Only when the load raised a dangerous event is the input scanned, with
``model_scan.gate.run_gate`` under the ``standard`` and ``critical`` policies; a scan that then
decides ``pass`` or ``warn`` in either tier is a **bypass**. Inputs whose load outcome (events,
resolved globals, error type) is new join the pool that mutations draw from.

Run it longer than the test does with ``make fuzz`` (``FUZZ_SECONDS``, ``FUZZ_SEED``)::

    python -m tests.adversarial.fuzzer --seconds 600 [--seed N] [--save]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from .cases import PAYLOADS, Case, Mutator, find_aliases, materialize, seeds
from .pickles import Encoder, join, parse
from .sandbox import LoadResult, SandboxedLoader

REGRESSIONS = Path(__file__).with_name("regressions")
TIERS = ("standard", "critical")
WILDCARD_ROOTS = ("sklearn.", "pandas.", "scipy.", "numpy.", "joblib.")
COMPOSERS = ("builtins.getattr", "functools.partial", "operator.attrgetter", "operator.methodcaller",
             "functools.reduce", "builtins.map", "_operator.attrgetter", "_functools.partial")  # fmt: skip


@dataclass
class Bypass:
    """An input the loader turned into a dangerous event while the scanner let it through."""

    cls: str
    case: Case
    data: bytes
    load: LoadResult
    decisions: dict[str, str]
    findings: dict[str, list[str]]

    @property
    def sha(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def note(self) -> dict:
        loader, suffix = self.case.loader()
        return {"class": self.cls, "loader": loader, "suffix": suffix, "sha256": self.sha, "size": len(self.data),
                "events": self.load.events, "globals": self.load.globals, "decisions": self.decisions,
                "findings": self.findings, "case": self.case.describe()}  # fmt: skip


@dataclass
class Stats:
    inputs: int = 0
    dangerous: int = 0
    scanned: int = 0
    crashes: int = 0
    seconds: float = 0.0
    pool: int = 0
    restarts: int = 0
    startup: float = 0.0
    by_container: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.inputs / self.seconds if self.seconds else 0.0


class Scanner:
    """The kfp-gates model scanner, per tier, on a file written for it."""

    def __init__(self) -> None:
        from kfp_gates.components.common.policy import GatePolicy
        from kfp_gates.components.model_scan import gate

        # run_gate reads the package version from its metadata on every call (8 ms, most of a scan);
        # the fuzzer asks once. The decision does not depend on it.
        version = gate._version()
        gate._version = lambda: version

        self.policies = {tier: GatePolicy.default(tier) for tier in TIERS}
        self.dir = Path(tempfile.mkdtemp(prefix="kfpg-fuzz-scan-"))

    def judge(self, data: bytes, suffix: str) -> tuple[dict[str, str], dict[str, list[str]]]:
        from kfp_gates.components.model_scan.gate import run_gate

        path = self.dir / f"model{suffix}"
        path.write_bytes(data)
        decisions: dict[str, str] = {}
        findings: dict[str, list[str]] = {}
        for tier, policy in self.policies.items():
            try:
                result = run_gate(path, policy)
                decisions[tier] = str(getattr(result.decision, "value", result.decision))
                findings[tier] = sorted({f"{f.id}:{f.severity.name}" for f in result.findings})
            except Exception as exc:  # noqa: BLE001 - a scanner crash blocks (exit 1/2/3), recorded as such
                decisions[tier] = f"error:{type(exc).__name__}"
                findings[tier] = [str(exc)[:200]]
        path.unlink(missing_ok=True)
        return decisions, findings

    def close(self) -> None:
        import shutil

        shutil.rmtree(self.dir, ignore_errors=True)


def passes(decisions: dict[str, str]) -> bool:
    return any(d in ("pass", "warn") for d in decisions.values())


def classify(case: Case, load: LoadResult, findings: dict[str, list[str]]) -> str:
    """The known bypass class an input most likely belongs to (for triage; the input is what counts)."""
    hist = " ".join(case.history)
    globs = set(load.globals)
    if case.container == "keras":
        return "keras-json-escape" if b"\\u" in case.core else "keras-config"
    if case.container == "joblib-array" and case.layout and case.layout[0] != -1:
        return "joblib-dtype-size"
    if case.container == "tar-v7":
        return "unanalysed-pass"
    if case.container in ("npz", "torch-zip", "tar") and case.layout and "data/" in str(case.layout[0]):
        return "zip-storage-by-name"
    if "expr:nest" in hist and any(g.endswith(("pickle.loads", "pickle._loads")) for g in globs):
        return "nested-loader-call-path"
    if any(f.startswith(("KFPG-MS-NOT-ANALYSED", "KFPG-MS-UNKNOWN-FORMAT")) for fs in findings.values() for f in fs):
        return "unanalysed-pass"
    if "alias:" in hist and any(g.startswith(WILDCARD_ROOTS) for g in globs):
        return "wildcard-reexport"
    if globs & set(COMPOSERS):
        return "getattr-partial"
    if case.core[:1] != b"\x80" or any(k in hist for k in ("respell", "marks", "longstr", "proto")):
        return "protocol0-grammar"
    return "unclassified"


class Fuzzer:
    def __init__(self, seed: int, loader: SandboxedLoader, scanner: Scanner) -> None:
        self.rng = random.Random(seed)
        self.loader = loader
        self.scanner = scanner
        self.mutator = Mutator(self.rng, find_aliases())
        self.pool: list[Case] = seeds(self.rng)
        self.seen: set[tuple] = set()
        self.groups: dict[str, list[Case]] = {}
        for case in self.pool:
            self.groups.setdefault(case.container, []).append(case)
        self.bypasses: dict[str, Bypass] = {}  # the smallest input per class
        self.stats = Stats()

    def run_one(self, case: Case) -> Bypass | None:
        try:
            data = materialize(case)
        except Exception:  # noqa: BLE001 - a container that cannot hold this core: skip it
            return None
        loader, suffix = case.loader()
        load = self.loader.load(data, loader, suffix)
        st = self.stats
        st.inputs += 1
        st.by_container[case.container] = st.by_container.get(case.container, 0) + 1
        st.crashes += load.crashed
        sig = (case.container, *load.signature())
        if sig not in self.seen:
            self.seen.add(sig)
            if len(data) < 16_000 and len(case.core) < 16_000:
                self.pool.append(case)
                self.groups.setdefault(case.container, []).append(case)
        if not load.dangerous:
            return None
        st.dangerous += 1
        st.scanned += 1
        found = self._verdict(case, data, load)
        if found is None:
            return None
        best = self.bypasses.get(found.cls)
        if best is None or len(data) < len(best.data):
            self.bypasses[found.cls] = found
        return found

    def _verdict(self, case: Case, data: bytes, load: LoadResult) -> Bypass | None:
        decisions, findings = self.scanner.judge(data, case.loader()[1])
        if not passes(decisions):
            return None
        return Bypass(classify(case, load, findings), case, data, load, decisions, findings)

    def _check(self, case: Case) -> Bypass | None:
        """``case`` as a bypass when it still is one (no stats, no pool)."""
        try:
            data = materialize(case)
        except Exception:  # noqa: BLE001
            return None
        load = self.loader.load(data, *case.loader())
        return self._verdict(case, data, load) if load.dangerous else None

    def minimize(self, bypass: Bypass, attempts: int = 400) -> Bypass:
        """A smaller input of the same class: a plain payload in the same container, then ops deleted one by one."""
        best = bypass
        for name, expr in PAYLOADS.items():  # the simplest payload that still gets through, if any does
            for protocol in (0, 2, 4):
                core = Encoder(random.Random(0), protocol, memo=False).stream(expr, frame=False)
                cand = self._check(replace(best.case, core=core, expr=expr, protocol=protocol,
                                           history=(*bypass.case.history, f"minimized:{name}")))  # fmt: skip
                attempts -= 1
                if cand is not None and cand.cls == bypass.cls and len(cand.data) < len(best.data):
                    best = cand
        try:
            ops = parse(best.case.core)
        except Exception:  # noqa: BLE001 - not a parsable stream: keep it as it is
            return best
        i = len(ops) - 2
        while i >= 1 and attempts > 0:
            trial = ops[:i] + ops[i + 1 :]
            cand = self._check(replace(best.case, core=join(trial), expr=None))
            attempts -= 1
            if cand is not None and cand.cls == bypass.cls:
                best, ops = cand, trial
            i -= 1
        return best

    def _pick(self) -> Case:
        """A pool entry, drawn per container first so that rare containers (keras, tar) get their share."""
        return self.rng.choice(self.groups[self.rng.choice(sorted(self.groups))])

    def run(self, seconds: float, max_inputs: int | None = None) -> Stats:
        start = time.monotonic()
        for case in list(self.pool):  # every seed once
            self.run_one(case)
        loop = time.monotonic()
        while time.monotonic() - start < seconds and (max_inputs is None or self.stats.inputs < max_inputs):
            self.run_one(self.mutator.mutate(self._pick(), self.pool))
        self.stats.seconds = time.monotonic() - loop
        self.stats.startup = loop - start
        self.stats.pool = len(self.pool)
        self.stats.restarts = self.loader.restarts
        return self.stats


def save(bypass: Bypass, directory: Path = REGRESSIONS, *, new_class_only: bool = False) -> Path:
    """Keep a bypass as a regression case: ``<class>-<sha12><suffix>`` and a ``.json`` note beside it.

    With ``new_class_only`` (the CI test), a class that already has a case keeps the one it has.
    """
    directory.mkdir(parents=True, exist_ok=True)
    _, suffix = bypass.case.loader()
    path = directory / f"{bypass.cls}-{bypass.sha[:12]}{suffix}"
    existing = sorted(directory.glob(f"{bypass.cls}-*.json"))
    if new_class_only and existing:
        return existing[0].with_name(existing[0].name.removesuffix(".json"))
    if not path.exists():
        path.write_bytes(bypass.data)
        path.with_name(path.name + ".json").write_text(json.dumps(bypass.note(), indent=1, sort_keys=True) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=600.0)
    ap.add_argument("--seed", type=int, default=None, help="default: random, printed")
    ap.add_argument("--save", action="store_true", help="keep each new bypass under tests/adversarial/regressions/")
    args = ap.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    print(f"fuzz: seed {seed}, budget {args.seconds:.0f}s (re-run with --seed {seed})", flush=True)
    scanner = Scanner()
    try:
        with SandboxedLoader() as loader:
            fz = Fuzzer(seed, loader, scanner)
            stats = fz.run(args.seconds)
            print(f"fuzz: start-up {stats.startup:.1f}s; {stats.inputs} inputs in {stats.seconds:.1f}s = "
                  f"{stats.rate:.0f}/s; {stats.dangerous} made the loader raise a dangerous event; "
                  f"{stats.crashes} worker crashes; pool {stats.pool}; "
                  f"by container {json.dumps(stats.by_container, sort_keys=True)}", flush=True)  # fmt: skip
            for found in fz.bypasses.values():
                bp = fz.minimize(found)
                where = save(bp) if args.save else None
                print(f"BYPASS {bp.cls}: {bp.case.container} {list(bp.case.layout)} {len(bp.data)} bytes "
                      f"events={sorted({e[0] for e in bp.load.events})} decisions={bp.decisions} "
                      f"history={list(bp.case.history)[-3:]}" + (f" -> {where}" if where else ""))  # fmt: skip
    finally:
        scanner.close()
    return 1 if fz.bypasses else 0


if __name__ == "__main__":
    sys.exit(main())
