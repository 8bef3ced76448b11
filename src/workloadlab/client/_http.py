"""Sending requests: the token, retries with backoff, and errors as exceptions.

The token lives in one place, :class:`AuthTransport`, which puts the ``Authorization`` header on
a request only while it is handed to the network, and only for the endpoint's own origin. No
``httpx.Request`` a caller can reach (through a response or an exception) ever carries it, and
httpx's own logging shows URLs, never headers.

Retries follow ``workload-api.md`` §5: ``429``, ``502``, ``503``, ``504`` and connection errors,
for idempotent requests only (GET, PUT, DELETE, and start/stop, which the resources mark); a
POST that creates something is retried only with an idempotency key. ``409``, ``412`` and
``422`` are never retried. Backoff: 0.5 s doubling up to 8 s, minus up to 25 % jitter; a
``Retry-After`` of at most 60 s is honoured as given, a longer one is not waited for.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import email.utils
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, TypeVar

import httpx
import pydantic

from workloadlab import errors
from workloadlab.models import parse_response

logger = logging.getLogger("workloadlab.client")

M = TypeVar("M", bound=pydantic.BaseModel)

RETRY_STATUSES = frozenset({429, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
MAX_RETRY_AFTER = 60.0

Origin = tuple[str, str, int | None]


def origin(url: httpx.URL) -> Origin:
    """Scheme, host and port (the default port filled in) of a URL."""
    port = url.port or {"http": 80, "https": 443}.get(url.scheme)
    return (url.scheme, url.host, port)


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asks to wait: ``retry-after-ms``, ``Retry-After`` seconds or date."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return float(millis) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def retry_delay(
    retries_done: int,
    headers: Mapping[str, str] | None = None,
    rng: Callable[[], float] = random.random,
) -> float | None:
    """How long to wait before the next attempt, or ``None`` when the server asks too much."""
    if headers is not None:
        advised = retry_after(headers)
        if advised is not None:
            return advised if 0 <= advised <= MAX_RETRY_AFTER else None
    return backoff(retries_done, rng)


def backoff(retries_done: int, rng: Callable[[], float] = random.random) -> float:
    """0.5 s doubling up to 8 s, less up to 25 % jitter."""
    base = min(INITIAL_RETRY_DELAY * 2.0**retries_done, MAX_RETRY_DELAY)
    return base * (1 - 0.25 * rng())


class AuthTransport(httpx.AsyncBaseTransport):
    """Adds the token (``Bearer`` or ``Token`` scheme) to requests for the endpoint's origin,
    for the send only."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        *,
        token: str,
        endpoint: str,
        token_type: str = "Bearer",
    ) -> None:
        self._inner = inner
        self._authorization = f"{token_type} {token}"
        self._origin = origin(httpx.URL(endpoint))

    def __repr__(self) -> str:
        scheme, host, port = self._origin
        return f"<AuthTransport {scheme}://{host}:{port} token=***>"

    def authorization_for(self, url: str) -> str | None:
        """The ``Authorization`` value for a connection to ``url`` (a WebSocket's handshake,
        which httpx does not send), or ``None`` when it is not the endpoint's origin."""
        parsed = httpx.URL(url.replace("ws", "http", 1) if url.startswith("ws") else url)
        return self._authorization if origin(parsed) == self._origin else None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send with ``Authorization`` set, then take it off the request again."""
        if origin(request.url) != self._origin:
            return await self._inner.handle_async_request(request)
        # The header is on the wire once this returns (the body is streamed later, but
        # headers are sent first), so the request object goes back to callers without it.
        request.headers["Authorization"] = self._authorization
        try:
            return await self._inner.handle_async_request(request)
        finally:
            del request.headers["Authorization"]

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self._inner.aclose()


class Requester:
    """Sends requests through one ``httpx.AsyncClient`` with the retry policy and error mapping.

    ``sleep`` and ``rng`` are the seams for fake-time tests of the backoff.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        max_retries: int,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: Callable[[], float] = random.random,
        auth: AuthTransport | None = None,
    ) -> None:
        self.http = http
        self.auth = auth
        """The token's keeper, for connections httpx does not make (WebSockets)."""
        self.base = str(http.base_url)
        self.max_retries = max_retries
        self.sleep = sleep
        self.rng = rng

    async def request(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        params: Any = None,
        json: Any = None,
        content: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Any = httpx.USE_CLIENT_DEFAULT,  # noqa: ASYNC109
        retry: bool | None = None,
        raise_for_status: bool = True,
        on_retry: Callable[[float], object] | None = None,
    ) -> httpx.Response:
        """Send a request; retry it when the policy allows; raise ``APIStatusError`` on errors.

        ``retry`` defaults to whether ``method`` is idempotent. A relative ``url`` is relative
        to the endpoint. ``on_retry(delay)`` hears each pause an error status (``429``,
        ``503``, ...) caused, before it is slept: a poller slows down to match.
        """
        if isinstance(url, str) and not url.startswith(("http://", "https://")):
            url = self.base + url.lstrip("/")  # one URL parse instead of parse-and-merge
        request = self.http.build_request(
            method, url, params=params, json=json, content=content, headers=headers,
            timeout=timeout,
        )  # fmt: skip
        retryable = (method.upper() in IDEMPOTENT_METHODS) if retry is None else retry
        retries = 0
        while True:
            try:
                response = await self.http.send(request)
            except httpx.TransportError as exc:
                transient = isinstance(
                    exc, httpx.TimeoutException | httpx.NetworkError | httpx.RemoteProtocolError
                )
                if transient and retryable and retries < self.max_retries:
                    await self._pause(
                        request, backoff(retries, self.rng), type(exc).__name__, retries
                    )
                    retries += 1
                    continue
                raise _connection_error(request, exc) from exc
            if retryable and response.status_code in RETRY_STATUSES and retries < self.max_retries:
                advised = retry_delay(retries, response.headers, self.rng)
                if advised is not None:
                    if on_retry is not None:
                        on_retry(advised)
                    reason = f"{response.status_code} {response.reason_phrase}"
                    await self._pause(request, advised, reason, retries)
                    retries += 1
                    continue
            if raise_for_status and response.is_error:
                raise _status_error(request, response)
            return response

    @contextlib.asynccontextmanager
    async def stream(self, method: str, url: str, **options: Any) -> AsyncIterator[httpx.Response]:
        """Send a request whose answer is read as it comes (``options``: httpx's); never
        retried (a stream half read cannot be). An error status raises ``APIStatusError`` (its
        body read first), a failed connection ``APIConnectionError``."""
        request = self.http.build_request(method, self.base + url.lstrip("/"), **options)
        try:
            response = await self.http.send(request, stream=True)
        except httpx.TransportError as exc:
            raise _connection_error(request, exc) from exc
        try:
            if response.is_error:
                await response.aread()
                raise _status_error(request, response)
            yield response
        finally:
            await response.aclose()

    async def _pause(self, request: httpx.Request, delay: float, reason: str, retries: int) -> None:
        logger.info(
            "%s %s: %s; retrying in %.2f s (retry %d of %d)",
            request.method, request.url, reason, delay, retries + 1, self.max_retries,
        )  # fmt: skip
        await self.sleep(delay)

    async def get_model(self, model: type[M], url: str, *, params: Any = None) -> M:
        """GET ``url`` and read the answer as ``model``."""
        return self.parse(model, await self.request("GET", url, params=params))

    @staticmethod
    def json(response: httpx.Response) -> Any:
        """The response's JSON body, or ``APIResponseValidationError``."""
        try:
            return response.json()
        except ValueError:
            request = response.request
            raise errors.APIResponseValidationError(
                f"{request.method} {request.url} answered {response.status_code} with a body "
                f"that is not JSON: {response.text[:200]!r}",
                method=request.method,
                url=str(request.url),
            ) from None

    @classmethod
    def parse(cls, model: type[M], response: httpx.Response) -> M:
        """The response's body read as ``model`` (unknown fields ignored)."""
        return cls.validate(model, cls.json(response), response)

    @staticmethod
    def validate(model: type[M], data: Any, response: httpx.Response) -> M:
        """``data`` from ``response`` read as ``model``, or ``APIResponseValidationError``."""
        try:
            return parse_response(model, data)
        except pydantic.ValidationError as exc:
            request = response.request
            problems = "; ".join(
                f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
                for error in exc.errors()[:5]
            )
            raise errors.APIResponseValidationError(
                f"{request.method} {request.url} answered with a body that is not a valid "
                f"{model.__name__}: {problems}",
                method=request.method,
                url=str(request.url),
            ) from None


def _connection_error(request: httpx.Request, exc: httpx.TransportError) -> errors.APIError:
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        reason = f"no answer in time ({type(exc).__name__}: {detail})"
        return errors.APITimeoutError(method=request.method, url=str(request.url), reason=reason)
    if isinstance(exc, httpx.ConnectError):
        reason = f"could not connect ({detail}); is the server running?"
    else:
        reason = f"{type(exc).__name__}: {detail}"
    return errors.APIConnectionError(method=request.method, url=str(request.url), reason=reason)


def _status_error(request: httpx.Request, response: httpx.Response) -> errors.APIStatusError:
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    return errors.status_error(
        method=request.method,
        url=str(request.url),
        status_code=response.status_code,
        body=body,
        headers=response.headers,
    )
