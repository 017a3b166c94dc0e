"""Finding ids of the dependency and image gates, with their severity and the policy key that switches them.

Vulnerability findings use the advisory's own id (``PYSEC-...``, ``GHSA-...``,
``CVE-...``) so a waiver names the advisory; every other finding has a
``KFPG-`` rule id from this table.
"""

from __future__ import annotations

from dataclasses import dataclass

from kfp_gates.components.common.severity import Severity


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    switch: str | None  # policy key that turns it off (None: always on)
    summary: str


UNVERIFIABLE = Rule("KFPG-DEP-UNVERIFIABLE", Severity.HIGH, None,
                    "a dependency whose version cannot be checked against advisories (fail closed)")
UNPINNED = Rule("KFPG-DEP-UNPINNED", Severity.MEDIUM, "require_pins",
                "a requirement that is not pinned to one version with ==")
RANGE_VULNERABLE = Rule("KFPG-DEP-RANGE-VULNERABLE", Severity.HIGH, None,
                        "a version range that admits a version with a known vulnerability")
NO_HASH = Rule("KFPG-DEP-NO-HASH", Severity.HIGH, "require_hashes",
               "a requirement without --hash while the policy requires hashes")
INDEX_NOT_ALLOWED = Rule("KFPG-DEP-INDEX-NOT-ALLOWED", Severity.HIGH, "allowed_indexes",
                         "a package index (or the default PyPI) that is not on the policy's allowlist")
EXTRA_INDEX = Rule("KFPG-DEP-EXTRA-INDEX", Severity.HIGH, "allow_extra_index_url",
                   "--extra-index-url: pip picks the highest version across indexes (dependency confusion)")
TRUSTED_HOST = Rule("KFPG-DEP-TRUSTED-HOST", Severity.MEDIUM, "allow_trusted_host",
                    "--trusted-host turns off TLS verification for an index")
IMAGE_TAG = Rule("KFPG-IMG-NOT-DIGEST", Severity.HIGH, "require_image_digest",
                 "a container image referenced by a movable tag instead of a sha256 digest")
HF_NO_REVISION = Rule("KFPG-HF-NO-REVISION", Severity.MEDIUM, "require_hf_revision",
                      "a Hugging Face Hub load without revision= pinned to a commit id")
HF_TRUST_REMOTE_CODE = Rule("KFPG-HF-TRUST-REMOTE-CODE", Severity.HIGH, "forbid_trust_remote_code",
                            "trust_remote_code=True executes code downloaded with a model")
SRC_UNPARSEABLE = Rule("KFPG-SRC-UNPARSEABLE", Severity.HIGH, None,
                       "a Python source that does not parse, so it was not scanned")
ADV_STALE = Rule("KFPG-ADV-STALE", Severity.LOW, "max_advisory_age",
                 "advisory data older than max_advisory_age (blocks in the critical tier)")
ADV_OLD = Rule("KFPG-ADV-OLD", Severity.LOW, None,
               "advisory data older than 30 days while the policy sets no max_advisory_age")
ADV_MALFORMED = Rule("KFPG-ADV-MALFORMED", Severity.LOW, None,
                     "advisory records skipped because they could not be parsed")
SKIPPED_FILES = Rule("KFPG-DEP-SKIPPED-FILES", Severity.INFO, None,
                     "files and folders a directory scan did not read, with the reason (listed in the evidence)")
IMG_NOTHING_SCANNED = Rule("KFPG-IMG-NOTHING-SCANNED", Severity.HIGH, None,
                           "a Trivy report with no scanned target (unsupported OS, failed scan)")
IMG_EOSL = Rule("KFPG-IMG-OS-EOSL", Severity.MEDIUM, None,
                "the image's OS release no longer receives security updates")

ALL: tuple[Rule, ...] = (
    UNVERIFIABLE, UNPINNED, RANGE_VULNERABLE, NO_HASH, INDEX_NOT_ALLOWED, EXTRA_INDEX, TRUSTED_HOST, IMAGE_TAG,
    HF_NO_REVISION, HF_TRUST_REMOTE_CODE, SRC_UNPARSEABLE, ADV_STALE, ADV_OLD, ADV_MALFORMED, SKIPPED_FILES,
    IMG_NOTHING_SCANNED, IMG_EOSL,
)
BY_ID = {r.id: r for r in ALL}
