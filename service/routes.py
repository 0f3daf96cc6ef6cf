"""The route table: every public path of the service, in one place."""

from __future__ import annotations

import falcon

from service.db.connection import Database
from service.settings import Settings


def add_routes(app: falcon.App, *, settings: Settings, db: Database) -> None:
    """Endpoint resources register here as they are built."""
