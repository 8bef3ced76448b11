"""The magics' tests: an IPython shell with ``%load_ext workloadlab`` talking to the module's
real local server (``server`` comes from ``tests/conftest.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
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
