"""The internal API (api/internal/api.py): every route here takes the internal key (ADR-0007).

Path segments the reference types `{int:...}` are checked first (anything else is a 404, as an
unmatched route), then the key, then the request itself.
"""

from __future__ import annotations

from datetime import UTC, datetime

import falcon

from service.auth.internal_token import require_internal_token
from service.db import (
    allow_lists,
    bans_queries,
    cgrants,
    custom_credentials,
    revocations,
    stakes_queries,
)
from service.db.connection import Database
from service.domain import bans_rules as ban_rules
from service.domain.addresses import normalize_address
from service.domain.bodies_rules import CheckBansBody, CheckRevocationsBody, parse_body
from service.domain.ceramic_cache_rules import MAX_BULK_CACHE_SIZE
from service.domain.contributions import contributor_statistics
from service.domain.embed_rules import TOO_MANY_STAMPS
from service.domain.params import route_int
from service.domain.stakes_rules import legacy_event_item, stake_item
from service.plumbing.errors import InternalError, NotFound, UnprocessableEntity
from service.plumbing.settings import Settings
from service.resources.bodies_reader import json_body
from service.resources.query import required_param
from service.use_cases import rescoring


class _InternalResource:
    def __init__(self, *, settings: Settings, db: Database) -> None:
        self._settings = settings
        self._db = db

    def _authorize(self, req: falcon.Request) -> None:
        require_internal_token(req, self._settings.cgrants_api_token)


class InternalScoreResource(_InternalResource):
    """GET /internal/score/v2/{scorer_id}/{address}"""

    def on_get(
        self, req: falcon.Request, resp: falcon.Response, scorer_id: str, address: str
    ) -> None:
        community_id = route_int(scorer_id)
        self._authorize(req)
        with self._db.transaction() as tx:
            body = rescoring.internal_score(
                tx,
                scorer_id=community_id,
                address=address,
                settings=self._settings,
                now=datetime.now(UTC),
            )
        # Raised after the commit: the reference keeps the ERROR score it answers 500 for.
        if body["error"] is not None:
            raise InternalError(rescoring.FAILED_TO_CALCULATE)
        resp.media = body


class CheckBansResource(_InternalResource):
    """POST /internal/check-bans"""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._authorize(req)
        credentials = parse_body(CheckBansBody, json_body(req)).payload
        address = ban_rules.subject_address(credentials)
        ban_rules.require_hashes(credentials)
        with self._db.transaction() as tx:
            found = bans_queries.active_bans(
                tx,
                address=address,
                hashes=ban_rules.hashes_to_check(credentials),
                now=datetime.now(UTC),
            )
        resp.media = ban_rules.check_results(credentials, found, address=address)


class CheckRevocationsResource(_InternalResource):
    """POST /internal/check-revocations"""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._authorize(req)
        body = parse_body(CheckRevocationsBody, json_body(req))
        proof_values = body.payload.proof_values
        if len(proof_values) > MAX_BULK_CACHE_SIZE:
            raise UnprocessableEntity(TOO_MANY_STAMPS)
        with self._db.transaction() as tx:
            revoked = revocations.revoked_among(tx, proof_values)
        # One answer per submitted value, in input order, repeats included.
        resp.media = [
            {"proof_value": value, "is_revoked": value in revoked} for value in proof_values
        ]


class GtcStakeResource(_InternalResource):
    """GET /internal/stake/gtc/{address}"""

    def on_get(self, req: falcon.Request, resp: falcon.Response, address: str) -> None:
        self._authorize(req)
        normalized = normalize_address(address)
        with self._db.transaction() as tx:
            found = stakes_queries.gtc_stakes(tx, normalized)
        resp.media = {"items": [stake_item(stake) for stake in found]}


class LegacyGtcStakeResource(_InternalResource):
    """GET /internal/stake/legacy-gtc/{address}/{round_id}"""

    def on_get(
        self, req: falcon.Request, resp: falcon.Response, address: str, round_id: str
    ) -> None:
        round_number = route_int(round_id)
        self._authorize(req)
        normalized = normalize_address(address)
        with self._db.transaction() as tx:
            events = stakes_queries.legacy_events(tx, normalized, round_number)
        resp.media = {"results": [legacy_event_item(event) for event in events]}


class ContributorStatisticsResource(_InternalResource):
    """GET /internal/cgrants/contributor_statistics?address=<address>"""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._authorize(req)
        address = required_param(req, "address")
        normalized = normalize_address(address)
        with self._db.transaction() as tx:
            totals = cgrants.contribution_totals(tx, normalized)
        resp.media = contributor_statistics(totals)


class AllowListResource(_InternalResource):
    """GET /internal/allow-list/{list_name}/{address}: the address is not validated."""

    def on_get(
        self, req: falcon.Request, resp: falcon.Response, list_name: str, address: str
    ) -> None:
        self._authorize(req)
        with self._db.transaction() as tx:
            member = allow_lists.is_member(tx, list_name, address)
        resp.media = {"is_member": member}


class CustomCredentialResource(_InternalResource):
    """GET /internal/customization/credential/{provider_id}"""

    def on_get(self, req: falcon.Request, resp: falcon.Response, provider_id: str) -> None:
        self._authorize(req)
        # The path is already decoded once; a literal "%23" left in it (double encoding) is
        # turned into "#" as the reference does.
        wanted = provider_id.replace("%23", "#")
        with self._db.transaction() as tx:
            found, definition = custom_credentials.definition(tx, wanted)
        if not found:
            raise NotFound()
        resp.media = {"ruleset": definition}
