"""The API documentation page (/docs): Swagger UI from the fastapi-offline package (only its static files,
Swagger UI 5, which reads OpenAPI 3.1), served by Earshot itself so the page works offline and under the
site's CSP (no CDN, no inline script)."""

from importlib.resources import files
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

router = APIRouter(include_in_schema=False)

ASSETS: dict[str, str] = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css"}
SWAGGER_FILES = Path(str(files("fastapi_offline") / "static"))
FRONTEND_STATIC = Path(__file__).resolve().parents[2] / "frontend" / "static"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Earshot API</title>
<link rel="icon" href="/favicon.ico">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script><script src="/static/docs-init.js"></script>
</body></html>"""


@router.get("/docs", response_class=HTMLResponse)
def docs_page(request: Request) -> HTMLResponse:
    """The interactive API reference, built from /openapi.json."""
    openapi_url = request.app.openapi_url or "/openapi.json"
    return HTMLResponse(PAGE.format(openapi_url=openapi_url))


@router.get("/docs/assets/{name}")
def docs_asset(name: Literal["swagger-ui-bundle.js", "swagger-ui.css"]) -> Response:
    """Only the two files the page needs; cached for a day (they change only with the package)."""
    return FileResponse(SWAGGER_FILES / name, media_type=ASSETS[name],
                        headers={"Cache-Control": "public, max-age=86400"})


@router.get("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for /favicon.ico on every site; the SVG icon answers it."""
    return FileResponse(FRONTEND_STATIC / "favicon.svg", media_type="image/svg+xml",
                        headers={"Cache-Control": "public, max-age=86400"})
