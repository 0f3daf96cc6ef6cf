"""The embed service's routes (api/embed/api.py).

Only the stamp write takes the internal key (ADR-0007); validate-api-key checks a partner's
API key; score, weights and config are open, as in the reference.
"""

from __future__ import annotations

from datetime import UTC, datetime

import falcon

from service.auth import api_key
from service.auth.internal_token import require_internal_token
from service.db import api_keys
from service.db.connection import Database
from service.domain.bodies_rules import AddStampsBody, parse_body
from service.domain.params import route_int
from service.plumbing.settings import Settings
from service.resources.bodies_reader import json_body
from service.resources.query import required_param
from service.use_cases import embed_config, rescoring


class _EmbedResource:
    def __init__(self, *, settings: Settings, db: Database) -> None:
        self._settings = settings
        self._db = db


class ValidateApiKeyResource(_EmbedResource):
    """GET /internal/embed/validate-api-key: the partner key's embed rate limit.

    The key is found and verified as on the v2 route (ADR-0003: a revoked or expired key is
    refused); `read_scores` is not required, and no analytics row is written.
    """

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        key = api_key.presented_key(
            req.get_header,
            demo_key=self._settings.demo_api_key,
            demo_aliases=self._settings.demo_api_key_aliases,
        )
        with self._db.transaction() as tx:
            auth = api_key.authenticate(tx, key, now=datetime.now(UTC))
            rate_limit = api_keys.embed_rate_limit(tx, auth.key_id)
        resp.media = {"embed_rate_limit": rate_limit}


class EmbedStampsResource(_EmbedResource):
    """POST /internal/embed/stamps/{address}"""

    def on_post(self, req: falcon.Request, resp: falcon.Response, address: str) -> None:
        require_internal_token(req, self._settings.cgrants_api_token)
        payload = parse_body(AddStampsBody, json_body(req)).payload
        with self._db.transaction() as tx:
            resp.media = rescoring.add_embed_stamps(
                tx,
                address=address,
                payload=payload,
                settings=self._settings,
                now=datetime.now(UTC),
            )


class EmbedScoreResource(_EmbedResource):
    """GET /internal/embed/score/{scorer_id}/{address}"""

    def on_get(
        self, req: falcon.Request, resp: falcon.Response, scorer_id: str, address: str
    ) -> None:
        community_id = route_int(scorer_id)
        with self._db.transaction() as tx:
            resp.media = rescoring.embed_score(
                tx,
                scorer_id=community_id,
                address=address,
                settings=self._settings,
                now=datetime.now(UTC),
            )


class EmbedWeightsResource(_EmbedResource):
    """GET /internal/embed/weights?community_id=<id>"""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        community_id = req.get_param("community_id")
        with self._db.transaction() as tx:
            resp.media = embed_config.scorer_weights(tx, community_id, settings=self._settings)


class EmbedConfigResource(_EmbedResource):
    """GET /internal/embed/config?community_id=<id>"""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        community_id = required_param(req, "community_id")
        with self._db.transaction() as tx:
            resp.media = embed_config.embed_config(tx, community_id, settings=self._settings)
