"""The admin console's page: ``GET /admin`` (the page) and ``GET /admin/<file>`` (its scripts and styles).

The files live beside this module (``console/``), so the layer that ships the code ships the page. Only the
names in ``FILES`` are served (a fixed map: no path from the request ever reaches the file system); anything
else is 404. Both routes are in the OpenAPI document (HTML, scripts, styles). Every answer carries the security
headers: the page runs its own files only (no inline script or style, no other origin), is never framed, sends
no referrer, and the page itself is never cached (a new deploy is seen at once).
"""

from __future__ import annotations

from pathlib import Path

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from woo_backend.api.admin import new_router
from woo_backend.api.openapi import errors
from woo_backend.api.resolver import compact_json

router = new_router()

STATIC = Path(__file__).with_name("console")
INDEX = "index.html"
_JS = "text/javascript; charset=utf-8"
FILES: dict[str, str] = {
    INDEX: "text/html; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
    "app.js": _JS,
    "api.js": _JS,
    "dom.js": _JS,
    "charts.js": _JS,
    "daily.js": _JS,
    "overview.js": _JS,
    "promo.js": _JS,
    "credits.js": _JS,
    "payments.js": _JS,
    "lists.js": _JS,
}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def _file(name: str) -> Response[str]:
    if name not in FILES:
        body = compact_json({"error": {"code": "unknown_file", "message": f"the console has no file {name}"}})
        return Response(404, content_types.APPLICATION_JSON, body, {**SECURITY_HEADERS, "Cache-Control": "no-store"})
    text = (STATIC / name).read_text(encoding="utf-8")
    # The page is never kept; its files are checked again on each load (no build step versions their names).
    cache = "no-store" if name == INDEX else "no-cache"
    return Response(200, FILES[name], text, {**SECURITY_HEADERS, "Cache-Control": cache})


def _answers(*media: str) -> dict[int, OpenAPIResponse]:
    text = {"schema": {"type": "string"}}
    return {
        200: {"description": "the file", "content": {m: text for m in media}},  # type: ignore[misc]
        **errors((404, "unknown_file: not one of the console's files")),
    }


@router.get("/admin", summary="The admin console (an HTML page)", responses=_answers("text/html"))
def console_page() -> Response[str]:
    return _file(INDEX)


@router.get(
    "/admin/<file>",
    summary="The console's page, scripts, styles and icon",
    responses=_answers(*sorted({media.split(";")[0] for media in FILES.values()})),
)
def console_file(file: str) -> Response[str]:
    return _file(file)
