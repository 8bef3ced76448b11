"""Server-sent events (the ``text/event-stream`` format of the HTML standard), parsed from the
lines of an answer as they arrive: what an app that streams tokens sends through the invoke
proxy."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass


@dataclass(frozen=True)
class ServerSentEvent:
    """One event: its ``data`` (lines joined with ``\\n``), its type (``message`` unless the
    app named one), and its ``id`` and ``retry`` when given."""

    data: str
    event: str = "message"
    id: str | None = None
    retry: int | None = None


async def server_sent_events(lines: AsyncIterable[str]) -> AsyncIterator[ServerSentEvent]:
    """The events of a stream of lines, each yielded as soon as its blank line has come (an
    ``id`` holds for the events after it, as the standard's last event id does)."""
    data: list[str] = []
    event, last_id, retry = "", None, None
    async for line in lines:
        if not line:
            if data:
                yield ServerSentEvent("\n".join(data), event or "message", last_id, retry)
            data, event, retry = [], "", None
            continue
        if line.startswith(":"):
            continue  # a comment (a keep-alive)
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "data":
            data.append(value)
        elif field == "event":
            event = value
        elif field == "id" and "\0" not in value:
            last_id = value
        elif field == "retry" and value.isdigit():
            retry = int(value)
    # An event the stream ended before its blank line is dropped, as the standard says.
