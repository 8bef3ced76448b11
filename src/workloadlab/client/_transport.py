"""How the client reaches its endpoint: certificate checks, the environment's proxies, and
loopback always direct.

httpx reads ``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY``/``NO_PROXY`` only for a transport it
builds itself; the client brings its own (:class:`~workloadlab.client._http.AuthTransport`
puts the token on the wire), so it reads them here: in either case, as Python's ``urllib``
and ``requests`` (under DataRobot's SDK) do. ``NO_PROXY`` lists host names (each covering its
subdomains, with or without a leading dot), ``host:port``, IP addresses, CIDR networks (as
``requests`` allows), or ``*``. Requests to loopback (``127.0.0.0/8``,
``::1``, ``localhost``) never go through a proxy whatever ``NO_PROXY`` says: the local server
listens there, a proxy cannot reach the user's own machine, and it must not see that token.

``ssl_verify`` (see :mod:`workloadlab.client.config`) becomes the transport's ``verify``:
``True`` keeps httpx's default (``SSL_CERT_FILE``/``SSL_CERT_DIR``, else certifi's bundle),
``False`` turns checks off, a path is the only CA bundle trusted (a file, or a directory of
hashed certificates), as ``requests`` does with ``verify=<path>``. The same setting applies to
the endpoint's host through a proxy (``CONNECT``).
"""

from __future__ import annotations

import ipaddress
import ssl
import urllib.request
from collections.abc import Mapping
from pathlib import Path

import httpx

from workloadlab.errors import ConfigError

PROXY_SCHEMES = ("http", "https", "all")


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine: ``localhost`` (and ``*.localhost``) or a loopback IP."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bypasses_proxy(url: httpx.URL, no_proxy: str) -> bool:
    """Whether ``NO_PROXY`` (its text) exempts ``url`` from the proxy."""
    host = url.host.lower()
    for entry in (part.strip().lower() for part in no_proxy.split(",")):
        if entry == "*":
            return True
        name, _, port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        if port and (not port.isdigit() or int(port) != _port(url)):
            continue
        name = name.strip("[]").lstrip(".")
        if name and (host == name or host.endswith("." + name) or _in_network(host, name)):
            return True
    return False


def _port(url: httpx.URL) -> int | None:
    return url.port or {"http": 80, "https": 443}.get(url.scheme)


def _in_network(host: str, network: str) -> bool:
    try:
        return ipaddress.ip_address(host) in ipaddress.ip_network(network, strict=False)
    except ValueError:
        return False


def tls_verification(ssl_verify: bool | str) -> bool | ssl.SSLContext:
    """httpx's ``verify`` for an ``ssl_verify`` setting; a CA bundle is loaded now, so a bad one
    is a :class:`ConfigError` at construction rather than on the first request."""
    if isinstance(ssl_verify, bool):
        return ssl_verify
    path = Path(ssl_verify)
    try:
        if path.is_dir():
            return ssl.create_default_context(capath=str(path))
        return ssl.create_default_context(cafile=str(path))
    except (ssl.SSLError, OSError):
        raise ConfigError(
            f"the CA bundle {path} (ssl_verify) holds no CA certificate in PEM form"
        ) from None


class ProxyRouter(httpx.AsyncBaseTransport):
    """Sends each request direct, or through the proxy the environment names for its scheme."""

    def __init__(
        self,
        direct: httpx.AsyncBaseTransport,
        proxied: Mapping[str, httpx.AsyncBaseTransport],
        environment: Mapping[str, str],
    ) -> None:
        self._direct = direct
        self._proxied = dict(proxied)
        self._no_proxy = environment.get("no", "")

    def __repr__(self) -> str:  # never the proxies' URLs: they may hold a password
        return f"<ProxyRouter proxied={sorted(self._proxied)}>"

    def route(self, url: httpx.URL) -> httpx.AsyncBaseTransport:
        """The transport for ``url``: direct for loopback and ``NO_PROXY`` hosts."""
        proxy = self._proxied.get(url.scheme) or self._proxied.get("all")
        if proxy is None or is_loopback(url.host):
            return self._direct
        if bypasses_proxy(url, self._no_proxy):
            return self._direct
        return proxy

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send through :meth:`route`'s transport."""
        return await self.route(request.url).handle_async_request(request)

    async def aclose(self) -> None:
        """Close every transport (each once)."""
        transports = {id(t): t for t in (self._direct, *self._proxied.values())}
        for transport in transports.values():
            await transport.aclose()


def network_transport(ssl_verify: bool | str, limits: httpx.Limits) -> httpx.AsyncBaseTransport:
    """The transport to the network: direct, or a :class:`ProxyRouter` when the environment
    names proxies."""
    verify = tls_verification(ssl_verify)
    direct = httpx.AsyncHTTPTransport(verify=verify, limits=limits)
    environment = urllib.request.getproxies_environment()
    by_url: dict[str, httpx.AsyncBaseTransport] = {}
    proxied: dict[str, httpx.AsyncBaseTransport] = {}
    for scheme in PROXY_SCHEMES:
        url = environment.get(scheme)
        if not url:
            continue
        if url not in by_url:
            by_url[url] = _proxy_transport(url, f"{scheme.upper()}_PROXY", verify, limits)
        proxied[scheme] = by_url[url]
    if not proxied:
        return direct
    return ProxyRouter(direct, proxied, environment)


def _proxy_transport(
    url: str, variable: str, verify: bool | ssl.SSLContext, limits: httpx.Limits
) -> httpx.AsyncBaseTransport:
    """A transport through the proxy at ``url``; errors never quote it (it may hold a password)."""
    try:
        proxy = httpx.Proxy(url if "://" in url else f"http://{url}")
        return httpx.AsyncHTTPTransport(verify=verify, limits=limits, proxy=proxy)
    except ImportError:
        raise ConfigError(
            f"{variable} names a SOCKS proxy, which needs the socksio package "
            "(pip install 'httpx[socks]')"
        ) from None
    except (ValueError, httpx.InvalidURL):
        raise ConfigError(
            f"{variable} is not a proxy URL the client can use (http://, https:// or socks5://)"
        ) from None
