"""List results: awaitable for the first page, ``async for`` over every item of every page.

Pages are followed through their ``next`` link, which the contract makes an absolute URL on the
same host. A link to any other scheme, host or port is refused with
:class:`~workloadlab.errors.ForeignHostError` rather than followed: the client's requests carry
the token. A server that answers a bare JSON list (no envelope) is read as one page. The first
page's path may be given as a coroutine function, awaited on the first fetch: a list call returns
its pager at once, before the client knows which API generation (and so which path) the server
speaks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from typing import Any, Generic, TypeVar

import httpx
import pydantic

from workloadlab.client._http import Requester, origin
from workloadlab.errors import ForeignHostError
from workloadlab.models import Page

T = TypeVar("T", bound=pydantic.BaseModel)
Where = str | Callable[[], Awaitable[str]]
"""The first page's path, or a coroutine function that finds it."""


class AsyncPager(Generic[T]):
    """A list request: ``await`` it for the first :class:`~workloadlab.models.Page`, or
    ``async for item in ...`` to go through every item of every page."""

    def __init__(
        self,
        requester: Requester,
        model: type[T],
        url: Where,
        params: dict[str, Any],
        *,
        keep: Callable[[T], bool] | None = None,
    ) -> None:
        self._requester = requester
        self._model = model
        self._url = url
        self._params = params
        self._keep = keep
        """Items a page must match to be shown (a filter the server may ignore, checked here
        too); ``count`` is then the number kept."""
        self._was_empty = False

    def __repr__(self) -> str:
        where = f" at {self._url!r}" if isinstance(self._url, str) else ""
        return f"<AsyncPager of {self._model.__name__}{where}>"

    def __await__(self) -> Generator[Any, None, Page[T]]:
        return self._first().__await__()

    def __aiter__(self) -> AsyncIterator[T]:
        return self._items()

    async def _items(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.data:
                yield item

    async def pages(self) -> AsyncIterator[Page[T]]:
        """Every page, following ``next`` links on the endpoint's host until there are none."""
        page = await self._first()
        seen: set[str] = set()
        while True:
            yield page
            if not page.next or page.next in seen or self._was_empty:
                return
            seen.add(page.next)
            page = await self._fetch(self._next_url(page.next), None)

    async def _first(self) -> Page[T]:
        url = self._url if isinstance(self._url, str) else await self._url()
        return await self._fetch(url, self._params)

    def _next_url(self, link: str) -> httpx.URL:
        base = self._requester.http.base_url
        url = base.join(link)
        if origin(url) != origin(base):
            raise ForeignHostError(
                f"refusing to follow the next-page link {link}: it points to another host "
                f"than the endpoint {str(base).rstrip('/')}, and requests carry the API token"
            )
        return url

    async def _fetch(self, url: str | httpx.URL, params: dict[str, Any] | None) -> Page[T]:
        response = await self._requester.request("GET", url, params=params)
        body = Requester.json(response)
        if isinstance(body, list):
            body = {"count": len(body), "totalCount": len(body), "data": body}
        page_model: type[Page[T]] = Page[self._model]  # type: ignore[name-defined]
        page = Requester.validate(page_model, body, response)
        self._was_empty = not page.data
        if self._keep is not None:
            page.data = [item for item in page.data if self._keep(item)]
            page.count = len(page.data)
        return page
