"""The magics' tests: an IPython shell with ``%load_ext workloadlab`` talking to the module's
real local server (``server`` comes from ``tests/conftest.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import respx
from IPython.core.interactiveshell import InteractiveShell

import workloadlab.notebook.session as session_module
from workloadlab.notebook.session import get_session

from harness import LocalServer


@pytest.fixture
def shell(server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    """An IPython shell with ``%load_ext workloadlab``, talking to the module's server."""
    monkeypatch.setenv("DATAROBOT_ENDPOINT", server.endpoint)
    monkeypatch.setenv("DATAROBOT_API_TOKEN", server.token)
    monkeypatch.setattr(session_module, "_session", None)
    ip = InteractiveShell.instance()
    ip.extension_manager.load_extension("workloadlab")
    ip.run_line_magic("config", "WorkloadMagics.timeout = 30")
    yield ip
    get_session().close()
    ip.extension_manager.unload_extension("workloadlab")


CLOUD = "https://app.datarobot.com/api/v2"


@pytest.fixture
def cloud_shell(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[InteractiveShell, respx.MockRouter]]:
    """An IPython shell with ``%load_ext workloadlab`` talking to a DataRobot-shaped server."""
    monkeypatch.setenv("DATAROBOT_ENDPOINT", CLOUD)
    monkeypatch.setenv("DATAROBOT_API_TOKEN", "dr-fake-token-0a1b2c3d4e5f60718293a4b5")
    monkeypatch.setattr(session_module, "_session", None)
    with respx.mock(base_url=CLOUD, assert_all_called=False) as router:
        # DataRobot has no local-server extension (the identity): 404, as for any unknown path.
        router.get(url__regex=r".*/localServer/?$").respond(404, json={"message": "Not Found"})
        ip = InteractiveShell.instance()
        ip.extension_manager.load_extension("workloadlab")
        yield ip, router
        get_session().close()
        ip.extension_manager.unload_extension("workloadlab")
