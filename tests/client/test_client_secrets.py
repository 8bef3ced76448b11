"""The token never shows: not in a repr, an exception, a log record or a URL."""

from __future__ import annotations

import logging
import traceback

import httpx
import pytest
import respx

from workloadlab import errors
from workloadlab.client import AsyncClient, resolve_config

from clienttools import CLOUD, CLOUD_TOKEN, fixture
from harness import FAKE_TOKEN, LocalServer, free_port

WID = "6650c1d2e3f4a5b6c7d8e9f0"


def _everything_about(exc: BaseException) -> str:
    """The exception's text, its traceback with causes, and the state of each in the chain."""
    text = "".join(traceback.format_exception(exc))
    seen: BaseException | None = exc
    while seen is not None:
        text += repr(seen) + repr(vars(seen))
        request = getattr(seen, "_request", None)
        if isinstance(request, httpx.Request):
            text += repr(dict(request.headers)) + str(request.url)
        seen = seen.__cause__ or seen.__context__
    return text


async def test_cloud_failure_repr_and_logs_never_show_the_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with respx.mock(base_url=CLOUD) as cloud:
        route = cloud.get(f"/console/workloads/{WID}/")
        route.side_effect = [
            httpx.Response(502),
            httpx.Response(401, json=fixture("error-401-gateway.json")),
        ]
        async with AsyncClient(CLOUD, CLOUD_TOKEN, api="v2.41") as client:
            client._requester.sleep = _no_sleep
            assert repr(client) == f"AsyncClient(endpoint='{CLOUD}', token=***)"
            with pytest.raises(errors.AuthenticationError) as caught:
                await client.workloads.get(WID)
            # The token went on the wire, to the endpoint's host only ...
            sent = route.calls.last.request
            assert sent.headers["Authorization"] == f"Bearer {CLOUD_TOKEN}"
            assert CLOUD_TOKEN not in str(sent.url)
            # ... and is in nothing a caller or a log can see.
            assert CLOUD_TOKEN not in _everything_about(caught.value)
            assert CLOUD_TOKEN not in repr(vars(client))
            assert CLOUD_TOKEN not in repr(client._http) + repr(client._http.headers)

            other = cloud.get("https://elsewhere.example.org/x").respond(200)
            await client._http.get("https://elsewhere.example.org/x")
            assert "authorization" not in other.calls.last.request.headers

    assert any("retrying" in record.getMessage() for record in caplog.records)
    assert CLOUD_TOKEN not in caplog.text
    assert CLOUD_TOKEN not in repr(resolve_config(CLOUD, CLOUD_TOKEN))


async def _no_sleep(delay: float) -> None:
    return None


async def test_real_server_wrong_token_and_dead_port(
    server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "wl-wrong-token-that-must-not-leak-77"
    async with AsyncClient(server.endpoint, wrong, max_retries=0) as client:
        with pytest.raises(errors.AuthenticationError) as caught:
            await client.workloads.get(WID)
    assert caught.value.status_code == 401
    assert wrong not in _everything_about(caught.value)

    dead = f"http://127.0.0.1:{free_port()}/api/v2"
    async with AsyncClient(dead, FAKE_TOKEN, max_retries=0) as client:
        with pytest.raises(errors.APIConnectionError) as refused:
            await client.workloads.list()
    assert "could not connect" in str(refused.value)
    assert FAKE_TOKEN not in _everything_about(refused.value)

    async with AsyncClient(server.endpoint, FAKE_TOKEN) as client:
        response = await client.workloads.invoke(WID)  # no such workload: the API answers 404
        assert response.status_code == 404
        assert "authorization" not in response.request.headers
        assert FAKE_TOKEN not in repr(response) + repr(response.request)

    assert wrong not in caplog.text
    assert FAKE_TOKEN not in caplog.text
