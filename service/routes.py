"""The route table: every public path of the service, in one place."""

from __future__ import annotations

import falcon

from service.db.connection import Database
from service.resources.v2_score import V2ScoreResource
from service.settings import Settings


def add_routes(app: falcon.App, *, settings: Settings, db: Database) -> None:
    app.add_route(
        "/v2/stamps/{scorer_id}/score/{address}", V2ScoreResource(settings=settings, db=db)
    )
