"""Liveness probe: answers without touching the database, so a DB outage does not recycle us."""

from __future__ import annotations

import falcon


class HealthResource:
    def __init__(self, body: str) -> None:
        self._body = body

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = "text/plain; charset=utf-8"
        resp.text = self._body
