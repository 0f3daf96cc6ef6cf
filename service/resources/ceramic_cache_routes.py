"""The /ceramic-cache routes (api/ceramic_cache/api/v1.py), used by the Passport app.

As in django-ninja, authentication comes first, then the body or query, then the work; each
request is one transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime

import falcon

from service.auth.jwt import DidTokenAuth
from service.db.connection import Database
from service.domain.ceramic_cache_rules import (
    alternate_scorer_id,
    delete_providers,
    stamp_items,
)
from service.domain.params import parse_int
from service.plumbing.settings import Settings
from service.resources.bodies_reader import json_body
from service.resources.query import required_param
from service.use_cases import ceramic_cache_stamps


class _CeramicCacheResource:
    def __init__(self, *, settings: Settings, db: Database) -> None:
        self._settings = settings
        self._db = db
        self._auth = DidTokenAuth.from_settings(settings)

    def _token_address(self, req: falcon.Request) -> str:
        return self._auth.address(req.get_header("Authorization"))


class BulkStampsResource(_CeramicCacheResource):
    """POST, PATCH and DELETE /ceramic-cache/stamps/bulk: the token's own stamps."""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        address = self._token_address(req)
        items = stamp_items(json_body(req))
        with self._db.transaction() as tx:
            resp.media = ceramic_cache_stamps.add_stamps(
                tx, address=address, items=items, settings=self._settings, now=_now()
            )
        resp.status = falcon.HTTP_201

    def on_patch(self, req: falcon.Request, resp: falcon.Response) -> None:
        address = self._token_address(req)
        items = stamp_items(json_body(req))
        with self._db.transaction() as tx:
            resp.media = ceramic_cache_stamps.patch_stamps(
                tx, address=address, items=items, settings=self._settings, now=_now()
            )

    def on_delete(self, req: falcon.Request, resp: falcon.Response) -> None:
        address = self._token_address(req)
        providers = delete_providers(json_body(req))
        with self._db.transaction() as tx:
            resp.media = ceramic_cache_stamps.delete_stamps(
                tx, address=address, providers=providers, settings=self._settings, now=_now()
            )


class ScoreResource(_CeramicCacheResource):
    """GET and POST /ceramic-cache/score/{address}."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, address: str) -> None:
        token_address = self._token_address(req)
        raw_scorer_id = req.get_param("alternate_scorer_id")
        scorer_id = (
            None
            if raw_scorer_id is None
            else parse_int(raw_scorer_id, loc=["query", "alternate_scorer_id"])
        )
        with self._db.transaction() as tx:
            resp.media = ceramic_cache_stamps.ui_score(
                tx,
                address=address,
                token_address=token_address,
                alternate_scorer_id=scorer_id,
                settings=self._settings,
                now=_now(),
            )

    def on_post(self, req: falcon.Request, resp: falcon.Response, address: str) -> None:
        self._token_address(req)
        scorer_id = alternate_scorer_id(json_body(req))
        with self._db.transaction() as tx:
            resp.media = ceramic_cache_stamps.calc_score(
                tx,
                address=address,
                alternate_scorer_id=scorer_id,
                settings=self._settings,
                now=_now(),
            )


class StampResource(_CeramicCacheResource):
    """GET /ceramic-cache/stamp?address=: open, like the reference."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        address = required_param(req, "address")
        with self._db.transaction() as tx:
            resp.media = ceramic_cache_stamps.stamps_of(
                tx, address=address, settings=self._settings, now=_now()
            )


class WeightsResource(_CeramicCacheResource):
    """GET /ceramic-cache/weights: open, like the reference."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        with self._db.transaction() as tx:
            resp.media = ceramic_cache_stamps.configured_weights(tx, settings=self._settings)


def _now() -> datetime:
    return datetime.now(UTC)
