"""The client's streams and sockets through the real local server's invoke proxy, to the
streaming example app: server-sent events arrive one by one as the app sends them, a WebSocket
echoes with the client's token on its handshake, refusals raise the API's errors; and the
event-stream parser on its own."""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator

import pytest
from websockets.exceptions import ConnectionClosed

from workloadlab import errors
from workloadlab.client import AsyncClient, ServerSentEvent
from workloadlab.client.sse import server_sent_events

from harness import LocalServer, free_port, hello_spec

STREAM_APP = [sys.executable, "-m", "workloadlab.examples.stream"]


async def lines_of(text: str) -> AsyncIterator[str]:
    for line in text.split("\n"):
        yield line


async def running_stream_app(wl: AsyncClient) -> str:
    """A running workload of the streaming example app; its id."""
    spec = hello_spec(free_port(), "Hello", entrypoint=STREAM_APP)
    workload = await wl.workloads.create(name="streaming", artifact=spec)
    await wl.workloads.wait_for_status(workload.id, "running", timeout=30)
    return workload.id


async def test_events_of_a_stream_are_parsed_as_the_format_says() -> None:
    text = (
        ": keep-alive\n\ndata: one\n\nevent: update\nid: 7\nretry: 1500\ndata: two\n"
        "data:  lines\n\ndata\n\ndata: unterminated"
    )
    events = [event async for event in server_sent_events(lines_of(text))]
    assert events == [
        ServerSentEvent("one"),
        ServerSentEvent("two\n lines", "update", "7", 1500),
        ServerSentEvent("", id="7"),  # the last id holds; an unterminated event is dropped
    ]


async def test_stream_yields_each_token_before_the_answer_is_complete(wl: AsyncClient) -> None:
    workload_id = await running_stream_app(wl)
    tokens = wl.workloads.stream(workload_id, "/tokens", params={"prompt": "hi", "hold": "1"})
    first = await anext(tokens)
    assert first == ServerSentEvent("Hello!")  # the app holds the rest until released
    assert (await wl.workloads.invoke(workload_id, "/release", method="POST")).status_code == 200
    rest = [event async for event in tokens]
    assert [event.data for event in rest] == ["You", "said:", "hi", "[DONE]"]
    assert rest[-1].event == "done"


async def test_websocket_echoes_with_the_clients_token(wl: AsyncClient) -> None:
    workload_id = await running_stream_app(wl)
    async with wl.workloads.websocket(workload_id, "/ws", subprotocols=["chat"]) as ws:
        assert ws.subprotocol == "chat"
        await ws.send("hi")
        assert await ws.recv() == "hi"
        await ws.send(b"\x00\x01")
        assert await ws.recv() == b"\x00\x01"
        await ws.send("close 4001 bye")
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4001


async def test_a_deployments_stream_and_socket(wl: AsyncClient) -> None:
    workload_id = await running_stream_app(wl)
    workload = await wl.workloads.get(workload_id)
    await wl.artifacts.register(workload.artifact_id)
    deployment = await wl.deployments.create(workload_id=workload_id, name="streaming-prod")
    events = [e.data async for e in wl.deployments.stream(deployment.id, "/tokens?prompt=x")]
    assert events == ["Hello!", "You", "said:", "x", "[DONE]"]
    async with wl.deployments.websocket(deployment.id, "/ws") as ws:
        await ws.send("to production")
        assert await ws.recv() == "to production"


async def test_refusals_raise_the_apis_errors(wl: AsyncClient, server: LocalServer) -> None:
    workload_id = await running_stream_app(wl)
    with pytest.raises(errors.NotFoundError):
        async for _ in wl.workloads.stream(workload_id, "/no-such-route"):
            pass
    with pytest.raises(errors.NotFoundError, match="no WebSocket here"):
        async with wl.workloads.websocket(workload_id, "/not-a-socket"):
            pass
    async with AsyncClient(server.endpoint, "not-the-token") as stranger:
        with pytest.raises(errors.AuthenticationError, match="Missing or invalid API token"):
            async with stranger.workloads.websocket(workload_id, "/ws"):
                pass


async def test_a_websocket_logged_at_debug_level_never_logs_the_token(
    wl: AsyncClient, server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    workload_id = await running_stream_app(wl)
    with caplog.at_level(logging.DEBUG):
        async with wl.workloads.websocket(workload_id, "/ws") as ws:
            await ws.send("hi")
            assert await ws.recv() == "hi"
    assert any("authorization" in record.getMessage().lower() for record in caplog.records)
    assert server.token not in caplog.text
