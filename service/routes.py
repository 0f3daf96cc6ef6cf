"""The route table: every public path of the service, in one place."""

from __future__ import annotations

import falcon

from service.clients.rate_limiter import RateLimiter
from service.clients.stamp_metadata_source import StampMetadataSource
from service.db.connection import Database
from service.plumbing.settings import Settings
from service.resources import ceramic_cache_routes, embed_routes, internal
from service.resources.openapi import OpenApiResource
from service.resources.v2_reads import (
    ScoreHistoryResource,
    StampMetadataResource,
    StampsResource,
)
from service.resources.v2_score import V2ScoreResource

# Falcon's router takes one field name per path level, so the stamps list's address sits in
# the field the score routes call `scorer_id`; clients and service/openapi.json see
# `/v2/stamps/{address}`.
STAMPS_LIST_TEMPLATE = "/v2/stamps/{scorer_id}"
DOCUMENTED_TEMPLATES = {STAMPS_LIST_TEMPLATE: "/v2/stamps/{address}"}


def add_routes(
    app: falcon.App[falcon.Request, falcon.Response],
    *,
    settings: Settings,
    db: Database,
    metadata: StampMetadataSource,
    limiter: RateLimiter,
) -> None:
    # The public v2 API (API key); each route is counted by `limiter` in
    # v2_access.authenticate_v2_request.
    app.add_route(
        "/v2/stamps/{scorer_id}/score/{address}",
        V2ScoreResource(settings=settings, db=db, limiter=limiter),
    )
    for path, read_resource in (
        ("/v2/stamps/{scorer_id}/score/{address}/history", ScoreHistoryResource),
        # A literal segment wins over a field in Falcon's router, so `metadata` is never an
        # address (the reference declares it first for the same reason).
        ("/v2/stamps/metadata", StampMetadataResource),
        (STAMPS_LIST_TEMPLATE, StampsResource),
    ):
        app.add_route(
            path, read_resource(settings=settings, db=db, metadata=metadata, limiter=limiter)
        )

    # The OpenAPI description of every route (tools/openapi_document.py builds it).
    app.add_route("/openapi.json", OpenApiResource())

    # Ceramic cache (the Passport app; bearer tokens on the stamp writes and the score).
    for path, ceramic_resource in (
        ("/ceramic-cache/stamps/bulk", ceramic_cache_routes.BulkStampsResource),
        ("/ceramic-cache/score/{address}", ceramic_cache_routes.ScoreResource),
        ("/ceramic-cache/stamp", ceramic_cache_routes.StampResource),
        ("/ceramic-cache/weights", ceramic_cache_routes.WeightsResource),
    ):
        app.add_route(path, ceramic_resource(settings=settings, db=db))

    # Embed (internal load balancer).
    for path, embed_resource in (
        ("/internal/embed/validate-api-key", embed_routes.ValidateApiKeyResource),
        ("/internal/embed/stamps/{address}", embed_routes.EmbedStampsResource),
        ("/internal/embed/score/{scorer_id}/{address}", embed_routes.EmbedScoreResource),
        ("/internal/embed/weights", embed_routes.EmbedWeightsResource),
        ("/internal/embed/config", embed_routes.EmbedConfigResource),
    ):
        app.add_route(path, embed_resource(settings=settings, db=db))

    # Internal API (internal load balancer, internal key).
    for path, internal_resource in (
        ("/internal/score/v2/{scorer_id}/{address}", internal.InternalScoreResource),
        ("/internal/check-bans", internal.CheckBansResource),
        ("/internal/check-revocations", internal.CheckRevocationsResource),
        ("/internal/stake/gtc/{address}", internal.GtcStakeResource),
        ("/internal/stake/legacy-gtc/{address}/{round_id}", internal.LegacyGtcStakeResource),
        ("/internal/cgrants/contributor_statistics", internal.ContributorStatisticsResource),
        ("/internal/allow-list/{list_name}/{address}", internal.AllowListResource),
        ("/internal/customization/credential/{provider_id}", internal.CustomCredentialResource),
    ):
        app.add_route(path, internal_resource(settings=settings, db=db))
