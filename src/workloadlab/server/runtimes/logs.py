"""Log ingestion, the same for both runtimes: how long a stored line may be."""

from __future__ import annotations

MAX_LINE_BYTES = 16 * 1024
"""Longer lines are cut here (and the rest of the line dropped)."""
TRUNCATED = b" [line truncated]"
"""What follows a line cut at :data:`MAX_LINE_BYTES`."""
