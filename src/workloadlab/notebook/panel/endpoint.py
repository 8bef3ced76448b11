"""An endpoint URL as the panel shows it: short enough for the sidebar, whole in its tooltip
and its link, with a Copy button.

``https://app.datarobot.com/api/v2/endpoints/workloads/65f0c3a1b2.../`` reads
``app.datarobot.com/…/65f0c3a1…/``: the host and the last path segment (cut to eight
characters), which is what tells endpoints apart. Copy runs the browser's clipboard API from
the button's own ``onclick`` (ipywidgets' ``HTML`` widget keeps inline handlers; a kernel
cannot reach the user's clipboard), and says "Copied" for a moment. Only an ``http(s)`` URL is a
link: an endpoint is a server's answer, and a ``javascript:`` one would run when clicked.
"""

from __future__ import annotations

import html as html_module
from urllib.parse import urlsplit

SEGMENT = 8
"""Characters kept of a long last path segment."""

_COPY_SCRIPT = (
    "navigator.clipboard.writeText(this.dataset.url).then("
    "() => { this.textContent = 'Copied';"
    " setTimeout(() => { this.textContent = 'Copy'; }, 1500); },"
    " () => { this.textContent = 'Copy failed'; })"
)


def short_url(url: str) -> str:
    """``host[:port]/…/last-segment/`` (the URL itself when it is already short)."""
    parts = urlsplit(url)
    if not parts.netloc:
        return url
    segments = [s for s in parts.path.split("/") if s]
    if not segments:
        return parts.netloc
    last = segments[-1]
    if len(last) > SEGMENT + 1:
        last = f"{last[:SEGMENT]}…"
    slash = "/" if parts.path.endswith("/") else ""
    middle = "/…/" if len(segments) > 1 else "/"
    return f"{parts.netloc}{middle}{last}{slash}"


def endpoint_html(url: str, what: str = "endpoint") -> str:
    """The short link and its Copy button (``wl-copy``)."""
    href = html_module.escape(url)
    label = html_module.escape(f"Copy the {what} URL")
    text = html_module.escape(short_url(url))
    web = urlsplit(url.strip()).scheme.lower() in ("http", "https")
    link = (
        f'<a href="{href}" title="{href}" target="_blank" rel="noopener">{text}</a>'
        if web
        else f'<span title="{href}">{text}</span>'
    )
    return (
        f'<span class="wl-endpoint">{link}'
        f'<button type="button" class="wl-copy" data-url="{href}" aria-label="{label}" '
        f'title="{label}" onclick="{html_module.escape(_COPY_SCRIPT)}">Copy</button></span>'
    )
