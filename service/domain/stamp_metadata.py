"""The Passport app's stamp metadata document (the reference's `fetch_all_stamp_metadata` in
`api/registry/api/v1.py`): validated into its `StampDisplayResponse` shape, icons resolved against
PASSPORT_PUBLIC_URL, and the per-provider view the stamps list attaches to its items (as
`fetch_stamp_metadata_for_provider` in `api/v2/api/api_stamps.py` builds it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from service.plumbing.errors import InternalError

if TYPE_CHECKING:
    from service.domain.stamp_metadata_models import Platform

FETCH_FAILED = "Error fetching external stamp metadata"


class MetadataUnavailable(InternalError):
    detail = FETCH_FAILED


class ProviderMetadataUnavailable(InternalError):
    def __init__(self, provider: str) -> None:
        super().__init__(f"{FETCH_FAILED} for provider {provider}")


class UnusableMetadata(ValueError):
    """The document is not a list of platforms of the reference's shape."""


@dataclass(frozen=True)
class StampMetadata:
    platforms: list[dict[str, Any]]
    by_provider: dict[str, dict[str, Any]]


def read_document(document: Any, public_url: str) -> StampMetadata:
    """Raises UnusableMetadata when any element misses a required key or has a wrong type: the
    reference then fails the whole fetch."""
    # The models are built on the first document, not at import: only the stamp metadata and
    # stamps list routes read one, and building pydantic models is a cost of every cold start.
    from pydantic import ValidationError

    from service.domain.stamp_metadata_models import Platform

    if not isinstance(document, list):
        raise UnusableMetadata("the document is not a list")
    platforms: list[Platform] = []
    for element in document:
        if not isinstance(element, dict) or not isinstance(element.get("icon"), str):
            raise UnusableMetadata("a platform without a string icon")
        try:
            platforms.append(
                Platform.model_validate({**element, "icon": urljoin(public_url, element["icon"])})
            )
        except (ValidationError, ValueError) as exc:
            raise UnusableMetadata(str(exc)) from None
    return StampMetadata(
        platforms=[platform.model_dump() for platform in platforms],
        by_provider=_by_provider(platforms),
    )


def _by_provider(platforms: list[Platform]) -> dict[str, dict[str, Any]]:
    """Stamp name → its item metadata, keys in the reference's response-model order; a name
    listed twice keeps its last entry."""
    view: dict[str, dict[str, Any]] = {}
    for platform in platforms:
        summary = {
            "id": platform.id,
            "icon": platform.icon,
            "name": platform.name,
            "description": platform.description,
            "connectMessage": platform.connectMessage,
        }
        for group in platform.groups:
            for stamp in group.stamps:
                view[stamp.name] = {
                    "group": group.name,
                    "platform": summary,
                    "name": stamp.name,
                    "description": stamp.description,
                    "hash": stamp.hash,
                }
    return view
