"""The invoke proxy's side towards the workloads: a pool per workload, limits and timeouts.

All invoke calls used to share one pool of 100 connections with no timeout, so 100 calls to an
app that never answers blocked invoke for every workload until that app stopped. Now:

- **A pool per workload.** Each invoked workload gets its own connection pool (an httpx client)
  and at most ``max_connections`` calls at a time to its app. A call that finds them all under
  way waits for one to end up to the connect timeout (as HAProxy's queue timeout defaults to
  its connect timeout), then is answered ``503`` with ``Retry-After``. No other workload waits.
  The limit is a semaphore of ours, not httpcore's ``max_connections``: a request cancelled
  while httpcore queues it can leave a never-connected connection holding a slot for good
  (encode/httpcore#1093, open in httpcore 1.0.9). With no limit of its own, httpcore gives
  each request its connection at once, before anything can cancel it.
- **Timeouts** (:class:`~workloadlab.server.settings.InvokeLimits`): *connect*, to get a
  connection; *read*, the longest silence of the app, before the head of its answer and
  between two chunks of its body (a stream that sends something every minute lives on), and
  as the *write* timeout for a request body the app does not take.
- **Cancellation** is the caller's: cancelling :meth:`InvokeProxy.call` (the route does when
  its client goes away) closes the app's connection at once, as httpcore drops a connection
  whose exchange was interrupted. Nothing waits for an answer nobody will read.
- **Stopping.** Every exchange (a call relayed, a socket) runs in a cancel scope of
  :meth:`InvokeProxy.exchange`; :meth:`InvokeProxy.interrupt` cancels them all when the server
  begins to stop, so an event stream or a socket that never ends does not hold the shutdown
  up to uvicorn's graceful timeout (their callers see a cut-off answer or a closed socket).
- **Release.** A pool whose workload no longer runs at the target of its last call (stopped,
  deleted, not ready) is closed once its last call has ended: checked when a call ends, and
  every ``SWEEP_INTERVAL`` seconds while there are pools (a stop or a delete may come with no
  call at all), so pools never outnumber the running workloads plus those with calls still
  under way for long, and an idle server keeps no timer.

Failures are answered in words (``detail`` names the workload and the limit):

======================  ======  ==========================================================
what happened           status  meaning
======================  ======  ==========================================================
no free slot            503     ``max_connections`` calls under way for ``connect`` s; Retry-After
``ConnectError``        503     nothing listens on the app's port; Retry-After
``ConnectTimeout``      504     no connection within ``connect`` s
``ReadTimeout``         504     no answer within ``read`` s
``WriteTimeout``        504     the app did not take the request body within ``read`` s
other transport errors  502     the app closed or reset the connection, or did not speak HTTP
======================  ======  ==========================================================

Once the head of an answer has been passed on its status cannot change: a failure in the body
raises :class:`Interrupted`, and the route cuts the caller's connection so that it sees an
incomplete answer rather than a short one.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

import anyio
import httpx

from workloadlab.server.problems import BadGateway, GatewayTimeout, Problem, Unavailable
from workloadlab.server.settings import InvokeLimits

logger = logging.getLogger("workloadlab.server.proxy")

SWEEP_INTERVAL = 5.0
"""Seconds between two looks for pools to close (httpx keeps idle connections 5 s too)."""
RETRY_AFTER = "1"
"""Seconds a caller is advised to wait after a ``503`` of a busy or restarting workload."""
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"trailers",
        b"transfer-encoding",
        b"upgrade",
        b"host",
        b"authorization",  # the server's token is never the app's business
    }
)
"""Headers that are not passed on, either way (lower-case)."""

Headers = list[tuple[bytes, bytes]]


class Interrupted(Exception):
    """The app's answer broke off after its head had been passed on."""


def passed_on(headers: Iterable[tuple[bytes, bytes]]) -> Headers:
    """``headers`` without the hop-by-hop ones (names as given)."""
    return [(name, value) for name, value in headers if name.lower() not in HOP_BY_HOP]


def closed(exc: httpx.TransportError) -> bool:
    """Whether ``exc`` says the app closed or reset its connection (rather than spoke badly)."""
    if isinstance(exc, httpx.ReadError | httpx.WriteError):
        return True
    said = str(exc)
    return isinstance(exc, httpx.RemoteProtocolError) and (
        "disconnected" in said or "peer closed" in said
    )


def seconds(value: float) -> str:
    """``3 s``, ``0.5 s``, ``300 s``."""
    return f"{value:g} s"


@dataclass
class _Pool:
    """One workload's connections and slots, the target they were made for, and its calls
    under way (holding a slot or waiting for one)."""

    client: httpx.AsyncClient
    slots: anyio.Semaphore
    target: str
    calls: int = 0


@dataclass
class Answer:
    """The head of the app's answer (hop-by-hop headers left out) and its body as it comes."""

    status_code: int
    headers: Headers
    response: httpx.Response
    workload_id: str
    proxy: InvokeProxy

    async def body(self) -> AsyncIterator[bytes]:
        """The body's bytes as the app sends them (nothing decoded, nothing buffered)."""
        try:
            async for chunk in self.response.aiter_raw():
                yield chunk
        except httpx.TransportError as exc:
            if closed(exc):  # the app died or hung up after its head (h11: "peer closed ...")
                detail = f"Workload {self.workload_id} closed the connection before the end"
            else:
                detail = str(self.proxy.problem(self.workload_id, exc).detail)
            logger.warning("cut off an answer midway: %s", detail)
            raise Interrupted(detail) from exc


class InvokeProxy:
    """Connection pools to the workloads' apps, owned by the server's lifespan."""

    def __init__(self, limits: InvokeLimits, targets_of: Callable[[str], list[str]]) -> None:
        """``targets_of(workload_id)``: the base URLs of its ready instances (its replicas)."""
        self.limits = limits
        self._targets_of = targets_of
        self._pools: dict[str, _Pool] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self._exchanges: set[anyio.CancelScope] = set()
        self._interrupted = False
        self._sweeper: asyncio.Task[None] | None = None
        self._timeout = httpx.Timeout(
            connect=limits.connect_timeout,
            read=limits.read_timeout,
            write=limits.read_timeout,
            pool=None,  # never waited for: the slots are the limit
        )
        # Apps are served over plain HTTP. A context without CA certificates would refuse any
        # TLS peer, and sharing it spares each pool the ~30 ms of loading certifi's bundle.
        self._tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)

    def _pool(self, workload_id: str, target: str) -> _Pool:
        pool = self._pools.get(workload_id)
        if pool is None:
            size = self.limits.max_connections
            transport = httpx.AsyncHTTPTransport(
                verify=self._tls,
                limits=httpx.Limits(max_connections=None, max_keepalive_connections=size),
            )
            client = httpx.AsyncClient(
                transport=transport,
                timeout=self._timeout,
                trust_env=False,
                follow_redirects=False,
            )
            pool = _Pool(client, anyio.Semaphore(size), target)
            self._pools[workload_id] = pool
            if self._sweeper is None or self._sweeper.done():
                self._sweeper = asyncio.create_task(self._sweep(), name="invoke-pool-sweeper")
        pool.target = target  # an instance started again elsewhere: the same limit applies
        return pool

    @contextmanager
    def exchange(self) -> Iterator[anyio.CancelScope]:
        """A cancel scope around one exchange with an app (a call relayed, a socket), which
        :meth:`interrupt` cancels."""
        scope = anyio.CancelScope()
        if self._interrupted:
            scope.cancel()
        self._exchanges.add(scope)
        try:
            with scope:
                yield scope
        finally:
            self._exchanges.discard(scope)

    def interrupt(self) -> None:
        """Cut every exchange under way, and any that begins from now on: the server is
        stopping, and an event stream or a socket may never end by itself (uvicorn would wait
        for them up to its graceful shutdown timeout, then cancel them with tracebacks)."""
        self._interrupted = True
        for scope in list(self._exchanges):
            scope.cancel()

    @asynccontextmanager
    async def call(
        self,
        workload_id: str,
        target: str,
        method: str,
        path_and_query: bytes,
        headers: Iterable[tuple[bytes, bytes]],
        body: AsyncIterable[bytes] | None,
    ) -> AsyncIterator[Answer]:
        """Send the request to ``target`` (the workload's base URL) with ``path_and_query``
        as is, and yield the head of the answer once it has come; the app's connection is
        released on the way out, whether the body was read to its end or not.

        Raises the :class:`~workloadlab.server.problems.Problem` of the table above when no
        answer comes.
        """
        async with self.slot(workload_id, target) as pool:
            url = httpx.URL(target).copy_with(raw_path=path_and_query)
            request = pool.client.build_request(
                method, url, headers=passed_on(headers), content=body
            )
            try:
                response = await pool.client.send(request, stream=True)
            except httpx.TransportError as exc:
                raise self.problem(workload_id, exc) from exc
            try:
                head = passed_on(response.headers.raw)
                yield Answer(response.status_code, head, response, workload_id, self)
            finally:
                with anyio.CancelScope(shield=True):
                    await response.aclose()

    @asynccontextmanager
    async def slot(self, workload_id: str, target: str) -> AsyncIterator[_Pool]:
        """One of the workload's ``max_connections`` slots, held for one call or for the whole
        life of one WebSocket (:mod:`~workloadlab.server.proxy_ws`): both count against the
        same limit. ``503`` (:meth:`_busy`) when none comes free within the connect timeout."""
        pool = self._pool(workload_id, target)
        pool.calls += 1
        try:
            try:
                with anyio.fail_after(self.limits.connect_timeout):
                    await pool.slots.acquire()
            except TimeoutError:
                raise self._busy(workload_id) from None
            try:
                yield pool
            finally:
                pool.slots.release()
        finally:
            pool.calls -= 1
            if pool.calls == 0:
                self._release_if_gone(workload_id, pool)

    def problem(self, workload_id: str, exc: httpx.TransportError) -> Problem:
        """What to answer when the exchange with the workload's app failed with ``exc``."""
        name = f"Workload {workload_id}"
        connect, read = seconds(self.limits.connect_timeout), seconds(self.limits.read_timeout)
        if isinstance(exc, httpx.ConnectTimeout):
            return GatewayTimeout(f"{name} did not accept a connection within {connect}")
        if isinstance(exc, httpx.ReadTimeout):
            return GatewayTimeout(f"{name} did not answer within {read}")
        if isinstance(exc, httpx.WriteTimeout):
            return GatewayTimeout(f"{name} did not take the request within {read}")
        if isinstance(exc, httpx.ConnectError):
            return Unavailable(
                f"{name} refused the connection: nothing listens on its port "
                "(it may be restarting); retry later",
                headers={"Retry-After": RETRY_AFTER},
            )
        if closed(exc):
            return BadGateway(f"{name} closed the connection without answering")
        return BadGateway(f"{name} did not answer in HTTP/1.1 ({exc.__class__.__name__})")

    def _busy(self, workload_id: str) -> Problem:
        """The answer to a call that found no free slot in time."""
        return Unavailable(
            f"Workload {workload_id} is busy: all {self.limits.max_connections} of its "
            f"connections are in use and none came free within "
            f"{seconds(self.limits.connect_timeout)}; retry later",
            headers={"Retry-After": RETRY_AFTER},
        )

    def _release_idle(self) -> None:
        """Close the pools of workloads that no longer run where they did, except those with
        calls under way (the end of their last call closes them)."""
        for workload_id, pool in list(self._pools.items()):
            if pool.calls == 0:
                self._release_if_gone(workload_id, pool)

    async def _sweep(self) -> None:
        """:meth:`_release_idle` every ``SWEEP_INTERVAL`` seconds until no pool is left."""
        while self._pools:
            await asyncio.sleep(SWEEP_INTERVAL)
            self._release_idle()

    def _release_if_gone(self, workload_id: str, pool: _Pool) -> None:
        if pool.target in self._targets_of(workload_id):
            return
        if self._pools.get(workload_id) is pool:
            del self._pools[workload_id]
        task = asyncio.get_running_loop().create_task(pool.client.aclose())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def aclose(self) -> None:
        """Close every pool (the server is stopping)."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.wait([self._sweeper])
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.client.aclose()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
