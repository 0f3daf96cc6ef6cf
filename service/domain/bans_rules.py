"""Ban checks for POST /internal/check-bans (api/internal/bans_revocations.py). Pure: no I/O.

All credentials of one request belong to one subject. The active bans of that subject (by
address, case-insensitively) or of any of the credentials' hashes are fetched once; then each
credential, in input order, takes the first ban that matches it, walking the bans in id order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.domain.bodies_rules import PAYLOAD, Credential
from service.domain.events_rules import django_datetime
from service.plumbing.errors import BadRequest, ValidationFailed

NO_CREDENTIALS = "Must provide valid credential(s)"
MIXED_SUBJECTS = "All credentials must be issued to the same address"


@dataclass(frozen=True)
class Ban:
    id: int
    type: str
    provider: str
    hash: str
    address: str
    end_time: datetime | None
    reason: str | None


def subject_address(credentials: Sequence[Credential]) -> str:
    """The address shared by every credential: the tail of the subject DID after its last ':'.

    The subject is not validated as an address, as in the reference.
    """
    ids = {credential.credentialSubject.id for credential in credentials}
    if not ids:
        raise BadRequest(NO_CREDENTIALS)
    if len(ids) > 1:
        # A null id counts as one more subject, as in the reference.
        raise BadRequest(MIXED_SUBJECTS)
    (only,) = ids
    if only is None:
        # The reference fails with a 500 here; no credential names a subject.
        raise BadRequest(NO_CREDENTIALS)
    return only.split(":")[-1]


def require_hashes(credentials: Sequence[Credential]) -> None:
    """Each result echoes its credential's hash as a string; the reference answers a null hash
    with a 500 when it builds the result, this answers it as the validation error it is."""
    errors: list[dict[str, Any]] = [
        {
            "type": "string_type",
            "loc": ["body", PAYLOAD, index, "credentialSubject", "hash"],
            "msg": "Input should be a valid string",
        }
        for index, credential in enumerate(credentials)
        if credential.credentialSubject.hash is None
    ]
    if errors:
        raise ValidationFailed(errors)


def hashes_to_check(credentials: Sequence[Credential]) -> list[str]:
    """The distinct non-empty hashes; an empty hash never selects a ban by hash."""
    return sorted({c.credentialSubject.hash for c in credentials if c.credentialSubject.hash})


def first_match(
    bans: Sequence[Ban], *, address: str, stamp_hash: str | None, provider: str | None
) -> Ban | None:
    subject = address.lower()
    for ban in bans:
        ban_address = ban.address.lower()
        if ban.type == "account" and ban_address == subject and not ban.provider:
            return ban
        if ban.type == "hash" and ban.hash == stamp_hash:
            return ban
        if ban.type == "single_stamp" and ban_address == subject and ban.provider == provider:
            return ban
    return None


def check_results(
    credentials: Sequence[Credential], bans: Sequence[Ban], *, address: str
) -> list[dict[str, Any]]:
    """One `CheckBanResult` per credential, in input order, keys in the reference's order."""
    results: list[dict[str, Any]] = []
    for credential in credentials:
        subject = credential.credentialSubject
        ban = first_match(bans, address=address, stamp_hash=subject.hash, provider=subject.provider)
        results.append(
            {
                "hash": subject.hash,
                "is_banned": ban is not None,
                "end_time": django_datetime(ban.end_time) if ban else None,
                "ban_type": ban.type if ban else None,
                "reason": ban.reason if ban else None,
            }
        )
    return results
