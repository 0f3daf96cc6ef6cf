"""GET /openapi.json: the OpenAPI 3.1 description of every route, served as committed."""

from __future__ import annotations

from pathlib import Path

import falcon

DOCUMENT_PATH = Path(__file__).resolve().parent.parent / "openapi.json"


class OpenApiResource:
    def __init__(self, path: Path = DOCUMENT_PATH) -> None:
        # Read once: the file ships with the code and never changes while the process runs.
        self._document = path.read_bytes()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_JSON
        resp.data = self._document
