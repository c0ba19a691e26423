"""GitLab's offset pagination for REST lists: page/per_page and the X-* and Link headers."""

from __future__ import annotations

import math
from typing import Any, TypeVar
from urllib.parse import urlencode

from tests.gitlab_double.params import as_int, clamp
from tests.gitlab_double.routing import Request

T = TypeVar("T")
PER_PAGE_DEFAULT = 20
PER_PAGE_MAX = 100


def paginate(request: Request, items: list[T]) -> tuple[list[T], dict[str, str]]:
    """One page of ``items`` and the headers python-gitlab and curl users rely on."""
    params = request.params()
    per_page = clamp(as_int(params, "per_page"), PER_PAGE_DEFAULT, PER_PAGE_MAX)
    page = max(1, as_int(params, "page", 1) or 1)
    total_pages = max(1, math.ceil(len(items) / per_page))
    chunk = items[(page - 1) * per_page : page * per_page]
    next_page = page + 1 if page < total_pages else None
    prev_page = page - 1 if page > 1 else None
    headers = {
        "X-Page": str(page),
        "X-Per-Page": str(per_page),
        "X-Next-Page": str(next_page or ""),
        "X-Prev-Page": str(prev_page or ""),
        "X-Total": str(len(items)),
        "X-Total-Pages": str(total_pages),
        "Link": _link_header(request, per_page, prev_page, next_page, total_pages),
    }
    return chunk, headers


def _link_header(
    request: Request, per_page: int, prev_page: int | None, next_page: int | None, last: int
) -> str:
    links = {"prev": prev_page, "next": next_page, "first": 1, "last": last}
    return ", ".join(
        f'<{_page_url(request, per_page, number)}>; rel="{rel}"'
        for rel, number in links.items()
        if number is not None
    )


def _page_url(request: Request, per_page: int, page: int) -> str:
    query: dict[str, Any] = {k: v[-1] for k, v in request.query.items()}
    query.update(page=page, per_page=per_page)
    return f"{request.base_url}{request.path}?{urlencode(query)}"
