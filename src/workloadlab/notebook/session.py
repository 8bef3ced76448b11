"""A kernel's connection to the Workload API: one client on the portal, and the current workload.

The magics and the panel share one :class:`Session` per kernel, so ``%workload create`` makes a
workload *current* for ``%workload restart`` and for ``%workload panel`` alike. The client lives
on the portal's loop (httpx clients belong to the loop they were made on).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from workloadlab.client import AsyncClient, Polling
from workloadlab.client.config import datarobot_configured
from workloadlab.notebook import remembered
from workloadlab.notebook.portal import Portal, get_portal

T = TypeVar("T")


class Session:
    """The client, the portal it runs on, and which workload is current."""

    def __init__(self, portal: Portal | None = None) -> None:
        self.portal = portal or get_portal()
        self._client: AsyncClient | None = None
        self._lock = threading.Lock()
        self._current: str | None = None
        self._recalled = False
        self.polling = Polling()

    def __repr__(self) -> str:
        where = self._client.endpoint if self._client is not None else "not connected"
        return f"<workloadlab Session {where}>"

    @property
    def current_workload_id(self) -> str | None:
        """The current workload: set by this kernel, else the one this notebook had before a
        kernel restart (:mod:`.remembered`; asking connects, as the endpoint is the key)."""
        notebook = remembered.notebook_path()
        if self._current is None and not self._recalled and notebook is not None:
            self._recalled = True
            self._current = remembered.recall(notebook, self.client.endpoint)
        return self._current

    @current_workload_id.setter
    def current_workload_id(self, workload_id: str | None) -> None:
        self._current, self._recalled = workload_id, True
        notebook = remembered.notebook_path()
        if notebook is not None and self._client is not None:
            remembered.remember(notebook, self._client.endpoint, workload_id)

    @property
    def connected(self) -> bool:
        """Whether a client exists."""
        return self._client is not None

    def run(
        self,
        coroutine: Coroutine[Any, Any, T],
        timeout: float | None = None,
        *,
        tick: Callable[[], None] | None = None,
    ) -> T:
        """Run a coroutine on the portal and wait for it (Ctrl-C cancels it)."""
        return self.portal.run(coroutine, timeout, tick=tick)

    def connect(
        self,
        endpoint: str | None = None,
        token: str | None = None,
        *,
        local: bool = False,
        data_dir: str | None = None,
    ) -> AsyncClient:
        """Replace the client: the local server (started if needed), or an explicit endpoint,
        or whatever configuration is found (env, drconfig.yaml, a running local server)."""
        polling = self.polling

        async def make() -> AsyncClient:
            if local:
                return await AsyncClient.local(data_dir, polling=polling)
            if endpoint is None and token is None and not datarobot_configured():
                return await AsyncClient.local(data_dir, polling=polling)
            return AsyncClient(endpoint, token, polling=polling)

        client = self.run(make())
        with self._lock:
            old, self._client = self._client, client
        if old is not None:
            self.portal.submit(old.aclose())
        self._current, self._recalled = None, False  # another endpoint: recall its own
        return client

    @property
    def client(self) -> AsyncClient:
        """The client, connecting with the configuration found on first use."""
        if self._client is None:
            self.connect()
        assert self._client is not None
        return self._client

    def set_polling(self, polling: Polling) -> None:
        """Poll at these gaps from now on."""
        self.polling = polling
        if self._client is not None:
            self._client.workloads.polling = polling

    def close(self) -> None:
        """Close the client."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            self.run(client.aclose())


_session: Session | None = None
_session_lock = threading.Lock()


def get_session() -> Session:
    """The kernel's one session."""
    global _session
    with _session_lock:
        if _session is None:
            _session = Session()
        return _session
