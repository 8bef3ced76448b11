"""Proxies from the environment, ``ssl_verify`` and ``token_type`` reaching the wire.

Real parts: a forward proxy on loopback (absolute-form requests and ``CONNECT`` tunnels) that
sends every host name to 127.0.0.1, the real local server behind it under a made-up host name,
and an HTTPS server with a certificate of a private CA made with ``openssl`` (an on-premises
DataRobot). respx stands in for DataRobot's cloud only where the header is what is checked.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import respx

from workloadlab.client import AsyncClient
from workloadlab.client._transport import bypasses_proxy
from workloadlab.errors import APIConnectionError, APIError, ConfigError

from clienttools import CLOUD, CLOUD_TOKEN
from harness import LocalServer

SECURE_HOST = "secure.example.test"
EMPTY_PAGE = b'{"count": 0, "totalCount": 0, "next": null, "previous": null, "data": []}'


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    with contextlib.suppress(ConnectionError, OSError):
        writer.close()


@dataclass
class ForwardProxy:
    """An HTTP proxy on loopback that records each target and connects it to 127.0.0.1."""

    targets: list[str] = field(default_factory=list)
    url: str = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        request_line, *header_lines = head.rstrip("\r\n").split("\r\n")
        method, target, _ = request_line.split(" ")
        self.targets.append(f"{method} {target}")
        if method == "CONNECT":
            port = int(target.rsplit(":", 1)[1])
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
            return
        url = httpx.URL(target)
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", url.port)
        kept = [
            line
            for line in header_lines
            if line.split(":", 1)[0].lower() not in ("connection", "proxy-connection")
        ]
        fields = dict(line.split(":", 1) for line in kept)
        lengths = [int(value) for name, value in fields.items() if name.lower() == "content-length"]
        body = await reader.readexactly(sum(lengths))
        up_writer.write(
            (f"{method} {url.raw_path.decode()} HTTP/1.1\r\n" + "\r\n".join(kept)).encode("latin-1")
            + b"\r\nConnection: close\r\n\r\n"
            + body
        )
        await up_writer.drain()
        await _pipe(up_reader, writer)


@pytest.fixture
async def forward_proxy() -> AsyncIterator[ForwardProxy]:
    proxy = ForwardProxy()
    server = await asyncio.start_server(proxy.handle, "127.0.0.1", 0)
    proxy.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    async with server:
        yield proxy
        server.close()


@pytest.fixture
def proxied(monkeypatch: pytest.MonkeyPatch, forward_proxy: ForwardProxy) -> ForwardProxy:
    """Every proxy variable points at the forward proxy."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, forward_proxy.url)
    return forward_proxy


async def test_the_environment_proxy_is_used(
    monkeypatch: pytest.MonkeyPatch, server: LocalServer, proxied: ForwardProxy
) -> None:
    port = httpx.URL(server.endpoint).port
    monkeypatch.setenv("DATAROBOT_ENDPOINT", f"http://dr.example.test:{port}/api/v2")
    monkeypatch.setenv("DATAROBOT_API_TOKEN", server.token)
    async with AsyncClient(max_retries=0) as client:
        page = await client.workloads.list()
    assert page.count == len(page.data)
    assert proxied.targets  # each of the client's requests, in absolute form
    for target in proxied.targets:
        assert target.startswith(f"GET http://dr.example.test:{port}/api/v2/")


async def test_no_proxy_is_honoured(monkeypatch: pytest.MonkeyPatch, proxied: ForwardProxy) -> None:
    monkeypatch.setenv("NO_PROXY", "example.org,.invalid")
    async with AsyncClient("http://direct.invalid/api/v2", CLOUD_TOKEN, max_retries=0) as client:
        with pytest.raises(APIError):  # no such host (whatever a resolver makes of it)
            await client.workloads.list()
    assert proxied.targets == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_the_local_server_is_never_proxied(
    monkeypatch: pytest.MonkeyPatch, server: LocalServer, proxied: ForwardProxy, host: str
) -> None:
    endpoint = server.endpoint.replace("127.0.0.1", host)
    async with AsyncClient(endpoint, server.token, max_retries=0) as client:
        page = await client.workloads.list()
    assert page.count == len(page.data)
    assert proxied.targets == []


@pytest.mark.parametrize(
    ("url", "no_proxy", "bypassed"),
    [
        ("https://dr.example.com/x", "example.com", True),
        ("https://dr.example.com/x", "elsewhere.org, .example.com", True),
        ("https://badexample.com/x", "example.com", False),
        ("https://dr.example.com/x", "dr.example.com:443", True),
        ("https://dr.example.com:8443/x", "dr.example.com:443", False),
        ("http://10.1.2.3/x", "10.0.0.0/8", True),
        ("http://11.1.2.3/x", "10.0.0.0/8", False),
        ("https://anything.org/", "*", True),
        ("https://anything.org/", "", False),
    ],
)
def test_no_proxy_entries(url: str, no_proxy: str, bypassed: bool) -> None:
    assert bypasses_proxy(httpx.URL(url), no_proxy) is bypassed


def test_an_unusable_proxy_variable_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "ftp://user:proxy-secret@proxy.example.com")
    with pytest.raises(ConfigError, match="HTTPS_PROXY") as caught:
        AsyncClient(CLOUD, CLOUD_TOKEN)
    assert "proxy-secret" not in str(caught.value)


@dataclass
class PrivateCA:
    """A CA bundle and a server certificate it signed, for SECURE_HOST and 127.0.0.1."""

    bundle: Path
    server_context: ssl.SSLContext


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def private_ca(tmp_path_factory: pytest.TempPathFactory) -> PrivateCA:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    where = tmp_path_factory.mktemp("ca")
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-subj", "/CN=workloadlab test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=where)  # fmt: skip
    _openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr",
             "-subj", f"/CN={SECURE_HOST}", cwd=where)  # fmt: skip
    (where / "server.ext").write_text(
        f"subjectAltName=DNS:{SECURE_HOST},IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n"
    )
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "server.pem", "-days", "2",
             "-extfile", "server.ext", cwd=where)  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(where / "server.pem", where / "server.key")
    return PrivateCA(where / "ca.pem", context)


@dataclass
class OnPremises:
    """An HTTPS server that answers every request with an empty page and records its
    ``Authorization`` scheme."""

    endpoint: str
    port: int
    schemes: list[str] = field(default_factory=list)


@pytest.fixture
async def on_premises(private_ca: PrivateCA) -> AsyncIterator[OnPremises]:
    site = OnPremises("", 0)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            for line in head.split("\r\n"):
                if line.lower().startswith("authorization:"):
                    site.schemes.append(line.split(":", 1)[1].split()[0])
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                + f"Content-Length: {len(EMPTY_PAGE)}\r\n\r\n".encode()
                + EMPTY_PAGE
            )
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=private_ca.server_context)
    site.port = server.sockets[0].getsockname()[1]
    site.endpoint = f"https://127.0.0.1:{site.port}/api/v2"
    async with server:
        yield site
        server.close()


async def _lists(client: AsyncClient) -> bool:
    async with client:
        page = await client.workloads.list()
    return page.count == 0


async def test_a_private_ca_bundle_reaches_the_transport(
    monkeypatch: pytest.MonkeyPatch,
    on_premises: OnPremises,
    private_ca: PrivateCA,
    isolated_config: Path,
) -> None:
    endpoint = on_premises.endpoint
    with pytest.raises(APIConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
        await _lists(AsyncClient(endpoint, CLOUD_TOKEN, max_retries=0))
    assert await _lists(AsyncClient(endpoint, CLOUD_TOKEN, ssl_verify=private_ca.bundle))
    assert await _lists(AsyncClient(endpoint, CLOUD_TOKEN, ssl_verify=False))

    monkeypatch.setenv("DATAROBOT_ENDPOINT", endpoint)
    monkeypatch.setenv("DATAROBOT_API_TOKEN", CLOUD_TOKEN)
    monkeypatch.setenv("DATAROBOT_SSL_VERIFY", str(private_ca.bundle))
    assert await _lists(AsyncClient())
    monkeypatch.setenv("DATAROBOT_SSL_VERIFY", "false")
    assert await _lists(AsyncClient())

    for name in ("DATAROBOT_ENDPOINT", "DATAROBOT_API_TOKEN", "DATAROBOT_SSL_VERIFY"):
        monkeypatch.delenv(name)
    drconfig = isolated_config / ".config" / "datarobot" / "drconfig.yaml"
    drconfig.parent.mkdir(parents=True)
    drconfig.write_text(f"endpoint: {endpoint}\ntoken: {CLOUD_TOKEN}\n")
    with pytest.raises(APIConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
        await _lists(AsyncClient(max_retries=0))
    drconfig.write_text(
        f"endpoint: {endpoint}\ntoken: {CLOUD_TOKEN}\nssl_verify: {private_ca.bundle}\n"
    )
    assert await _lists(AsyncClient())
    assert len(on_premises.schemes) >= 5  # the five clients that trusted the certificate
    assert set(on_premises.schemes) == {"Bearer"}


def test_a_file_that_is_no_ca_bundle_is_a_configuration_error(tmp_path: Path) -> None:
    not_pem = tmp_path / "notes.txt"
    not_pem.write_text("not a certificate\n")
    with pytest.raises(ConfigError, match="no CA certificate"):
        AsyncClient(CLOUD, CLOUD_TOKEN, ssl_verify=not_pem)


async def test_https_through_the_proxy_with_the_private_ca(
    monkeypatch: pytest.MonkeyPatch,
    on_premises: OnPremises,
    private_ca: PrivateCA,
    forward_proxy: ForwardProxy,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", forward_proxy.url)
    endpoint = f"https://{SECURE_HOST}:{on_premises.port}/api/v2"
    assert await _lists(AsyncClient(endpoint, CLOUD_TOKEN, ssl_verify=private_ca.bundle))
    assert set(forward_proxy.targets) == {f"CONNECT {SECURE_HOST}:{on_premises.port}"}
    assert on_premises.schemes


@pytest.fixture
def cloud_page(cloud_mock: respx.MockRouter) -> respx.Route:
    return cloud_mock.route(method="GET").respond(200, content=EMPTY_PAGE)


def _authorizations(route: respx.Route) -> list[str]:
    return [call.request.headers["Authorization"] for call in route.calls]


async def test_token_type_on_the_wire(
    cloud_page: respx.Route, isolated_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await _lists(AsyncClient(CLOUD, CLOUD_TOKEN))
    assert await _lists(AsyncClient(CLOUD, CLOUD_TOKEN, token_type="Token"))
    drconfig = isolated_config / ".config" / "datarobot" / "drconfig.yaml"
    drconfig.parent.mkdir(parents=True)
    drconfig.write_text(f"endpoint: {CLOUD}\ntoken: {CLOUD_TOKEN}\ntoken_type: Token\n")
    assert await _lists(AsyncClient())
    assert _authorizations(cloud_page)[0] == f"Bearer {CLOUD_TOKEN}"
    assert _authorizations(cloud_page)[-1] == f"Token {CLOUD_TOKEN}"
    assert _authorizations(cloud_page).count(f"Token {CLOUD_TOKEN}") >= 2
