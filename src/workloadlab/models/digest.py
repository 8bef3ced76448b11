"""The digest of an artifact's spec: which container spec exactly, in one comparable string.

``sha256:`` and the hex SHA-256 of the spec's canonical JSON (keys sorted, no whitespace,
UTF-8), computed from the spec as the server stores and returns it (its wire form, camelCase).
The local server shows it on artifacts (``specDigest``) and on what a workload's instance runs
(``runningArtifact.specDigest``), so "it runs the saved spec" is one string comparison.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

DIGEST_PREFIX = "sha256:"


def spec_digest(spec: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` of a spec's canonical JSON (its wire form, as a server returns it)."""
    text = json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return DIGEST_PREFIX + hashlib.sha256(text.encode()).hexdigest()


def short_digest(digest: str, length: int = 12) -> str:
    """A digest cut to ``length`` hex digits (``sha256:3f2a…``), for messages people read."""
    algorithm, _, hex_digits = digest.partition(":")
    return f"{algorithm}:{hex_digits[:length]}"
