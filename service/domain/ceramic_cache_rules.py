"""The ceramic-cache endpoints' rules that need no database (ADR-0008, ADR-0016). Pure.

Request bodies are validated the way django-ninja validates the reference's schemas
(`CacheStampPayload`, `DeleteStampPayload`, `CalcScorePayload`), so the 422 lists match item
for item; the values a new cache row carries are derived as the reference's ORM derives them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import TypeAdapter, ValidationError

from service.domain.credentials import parse_iso_datetime
from service.domain.scoring import StoredScore
from service.domain.text import storable_json, storable_text
from service.plumbing.errors import ValidationFailed

# `settings.MAX_BULK_CACHE_SIZE` of the reference.
MAX_BULK_CACHE_SIZE = 100

# ceramic_cache_ceramiccache.type and .source_app values.
STAMP_TYPE_V1 = 1
SOURCE_APP_PASSPORT = 1
SOURCE_APP_EMBED = 2

# The body of a request whose body is empty (as opposed to the JSON `null`).
NO_BODY: Any = object()

_INT = TypeAdapter(int)


# varchar(256): ceramic_cache_ceramiccache.provider and .proof_value.
MAX_TEXT_COLUMN = 256

# timestamptz input takes UTC offsets up to ±15:59:59 (PostgreSQL's MAX_TZDISP_HOUR); Python
# parses offsets up to ±23:59.
MAX_STORABLE_UTC_OFFSET = timedelta(hours=16)


class UnusableStamp(ValueError):
    """A stamp whose row cannot be built or stored. The reference answers 500 after its soft
    delete has committed; here it is the client's 422, found before anything is written."""


def check_storable(items: Sequence[StampItem], rows: Sequence[NewCacheRow]) -> None:
    """What PostgreSQL would refuse in these rows: over-long text columns, NUL characters,
    unpaired surrogates, NaN or infinite numbers."""
    for item in items:
        if len(item.provider) > MAX_TEXT_COLUMN or not storable_text(item.provider):
            raise UnusableStamp(f"the provider {item.provider[:40]!r} cannot be stored")
        if not storable_json(item.stamp):
            raise UnusableStamp(
                f"the stamp for {item.provider!r} holds a value that cannot be stored"
            )
    for row in rows:
        if len(row.proof_value) > MAX_TEXT_COLUMN:
            raise UnusableStamp(
                f"the stamp for {row.provider!r} has a proofValue over 256 characters"
            )


@dataclass(frozen=True)
class StampItem:
    """One `CacheStampPayload`; `stamp` is None when absent or null."""

    provider: str
    stamp: Any


@dataclass(frozen=True)
class NewCacheRow:
    """The values of one inserted cache row that depend on the stamp."""

    provider: str
    stamp: Any
    proof_value: str
    issuance_date: datetime | None
    expiration_date: datetime | None


def stamp_items(body: Any) -> list[StampItem]:
    """`List[CacheStampPayload]` (address: str | None = None, provider: str, stamp: Any = None)."""
    items = _payload_list(body)
    errors: list[dict[str, Any]] = []
    parsed: list[StampItem] = []
    for index, item in enumerate(items):
        provider = _item_fields(item, index, errors)
        if provider is not None:
            parsed.append(StampItem(provider, item.get("stamp")))
    if errors:
        raise ValidationFailed(errors)
    return parsed


def delete_providers(body: Any) -> list[str]:
    """`List[DeleteStampPayload]` (address: str | None = None, provider: str): validated like
    the stamp items, whose `stamp` the delete ignores."""
    return [item.provider for item in stamp_items(body)]


def alternate_scorer_id(body: Any) -> int | None:
    """`CalcScorePayload` (alternate_scorer_id: Optional[int] = None).

    ninja reads the fields of a non-object body as attributes, finds none, and so takes the
    default: `[]`, `null` or `5` all mean "no alternate scorer".
    """
    if body is NO_BODY:
        raise ValidationFailed([_missing(["body", "payload"])])
    if not isinstance(body, dict):
        return None
    value = body.get("alternate_scorer_id")
    if value is None:
        return None
    try:
        return _INT.validate_python(value)
    except ValidationError as exc:
        loc: list[str | int] = ["body", "payload", "alternate_scorer_id"]
        raise ValidationFailed(
            [
                {"type": e["type"], "loc": [*loc, *e["loc"]], "msg": e["msg"]}
                for e in exc.errors(include_url=False, include_input=False)
            ]
        ) from None


def too_many(items: Sequence[Any]) -> bool:
    """More than `MAX_BULK_CACHE_SIZE` items (exactly 100 is allowed)."""
    return len(items) > MAX_BULK_CACHE_SIZE


def new_cache_row(provider: str, stamp: Any) -> NewCacheRow:
    """What the reference's `CeramicCache(...)` gets for one item.

    `proof_value = stamp["proof"]["proofValue"]` (a CharField, so non-strings become their
    `str`), and the two dates are the stamp's own, parsed as Django's DateTimeField parses them
    (naive values are UTC); a missing or null date is NULL.
    """
    if not isinstance(stamp, dict):
        raise UnusableStamp(f"the stamp for {provider!r} is not an object")
    proof = stamp.get("proof")
    if not isinstance(proof, dict) or "proofValue" not in proof:
        raise UnusableStamp(f"the stamp for {provider!r} has no proof.proofValue")
    proof_value = proof["proofValue"]
    if proof_value is None:
        raise UnusableStamp(f"the stamp for {provider!r} has a null proof.proofValue")
    return NewCacheRow(
        provider=provider,
        stamp=stamp,
        proof_value=proof_value if isinstance(proof_value, str) else str(proof_value),
        issuance_date=_stamp_date(stamp, "issuanceDate", provider),
        expiration_date=_stamp_date(stamp, "expirationDate", provider),
    )


def rows_to_insert(items: Sequence[StampItem], *, only_with_stamp: bool) -> list[NewCacheRow]:
    """POST inserts every item; PATCH only those whose stamp is truthy (the others only delete).

    Two new rows for one provider would break the one-live-row-per-provider index, which the
    reference reports as a 500; it is found here, before anything is written.
    """
    rows = [
        new_cache_row(item.provider, item.stamp)
        for item in items
        if not only_with_stamp or item.stamp
    ]
    seen: set[str] = set()
    for row in rows:
        if row.provider in seen:
            raise UnusableStamp(f"two stamps for provider {row.provider!r}")
        seen.add(row.provider)
    return rows


def is_expired(stored: StoredScore, *, now: datetime) -> bool:
    """ADR-0008: a stored score is served until its expiration date has passed; one without
    an expiration date (no stamps, or an ERROR score) never expires."""
    return stored.expiration_date is not None and stored.expiration_date < now


def with_response_defaults(stored: StoredScore) -> StoredScore:
    """A stored score as `format_v2_score_response` reads it: `rawScore` and `threshold` default
    to "0" and "20", and a null one counts as 0."""
    evidence = stored.evidence
    if not evidence:
        return _replace_evidence(stored, None)
    raw = evidence.get("rawScore", "0")
    threshold = evidence.get("threshold", "20")
    return _replace_evidence(
        stored,
        {
            **evidence,
            "rawScore": "0" if raw is None else raw,
            "threshold": "0" if threshold is None else threshold,
        },
    )


def _replace_evidence(stored: StoredScore, evidence: dict[str, Any] | None) -> StoredScore:
    return StoredScore(
        address=stored.address,
        score=stored.score,
        status=stored.status,
        last_score_timestamp=stored.last_score_timestamp,
        error=stored.error,
        evidence=evidence,
        stamp_scores=stored.stamp_scores,
        stamps=stored.stamps,
        expiration_date=stored.expiration_date,
    )


def _payload_list(body: Any) -> list[Any]:
    if body is NO_BODY:
        raise ValidationFailed([_missing(["body", "payload"])])
    if not isinstance(body, list):
        raise ValidationFailed(
            [
                {
                    "type": "list_type",
                    "loc": ["body", "payload"],
                    "msg": "Input should be a valid list",
                }
            ]
        )
    return body


def _item_fields(item: Any, index: int, errors: list[dict[str, Any]]) -> str | None:
    """Checks `address` then `provider`, in the schema's field order; returns the provider.

    ninja reads a non-object item through attribute access, so it has no fields at all.
    """
    loc: list[str | int] = ["body", "payload", index]
    if not isinstance(item, dict):
        errors.append(_missing([*loc, "provider"]))
        return None
    address = item.get("address")
    if address is not None and not isinstance(address, str):
        errors.append(_not_a_string([*loc, "address"]))
    if "provider" not in item:
        errors.append(_missing([*loc, "provider"]))
        return None
    provider = item["provider"]
    if not isinstance(provider, str):
        errors.append(_not_a_string([*loc, "provider"]))
        return None
    return provider


def _missing(loc: list[str | int]) -> dict[str, Any]:
    return {"type": "missing", "loc": loc, "msg": "Field required"}


def _not_a_string(loc: list[str | int]) -> dict[str, Any]:
    return {"type": "string_type", "loc": loc, "msg": "Input should be a valid string"}


def _stamp_date(stamp: dict[str, Any], key: str, provider: str) -> datetime | None:
    value = stamp.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise UnusableStamp(f"the stamp for {provider!r} has a non-string {key}")
    try:
        parsed = parse_iso_datetime(value)
    except ValueError:
        raise UnusableStamp(f"the stamp for {provider!r} has an unparseable {key}") from None
    offset = parsed.utcoffset()
    if offset is not None and abs(offset) >= MAX_STORABLE_UTC_OFFSET:
        raise UnusableStamp(
            f"the stamp for {provider!r} has an {key} whose UTC offset cannot be stored"
        )
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
