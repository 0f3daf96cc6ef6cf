"""registry_passport, registry_stamp, registry_score and registry_event writes of a scoring run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from service.db.connection import Transaction
from service.db.jsonb import dumps
from service.domain.credentials import LoadedStamp
from service.domain.events import dedup_data, score_update_data
from service.domain.lifo import DedupEvent
from service.domain.scoring import StoredScore


def upsert_passport(tx: Transaction, address: str, community_id: int) -> int:
    # The no-op update takes the row lock, so two requests scoring the same passport queue up
    # instead of interleaving their stamp and score writes.
    return int(
        tx.scalar(
            "INSERT INTO registry_passport (address, community_id) VALUES (:address, :community_id)"
            " ON CONFLICT (address, community_id) DO UPDATE SET address = EXCLUDED.address"
            " RETURNING id",
            address=address,
            community_id=community_id,
        )
    )


def replace_stamps(tx: Transaction, passport_id: int, stamps: Sequence[LoadedStamp]) -> None:
    tx.run("DELETE FROM registry_stamp WHERE passport_id = :passport_id", passport_id=passport_id)
    if not stamps:
        return
    tx.run(
        "INSERT INTO registry_stamp (provider, credential, passport_id)"
        " SELECT e.v->>'provider', e.v->'credential', :passport_id"
        " FROM jsonb_array_elements(CAST(:rows AS jsonb)) WITH ORDINALITY AS e(v, ord)"
        " ORDER BY e.ord",
        passport_id=passport_id,
        rows=dumps([{"provider": s.provider, "credential": s.credential} for s in stamps]),
    )


def save_score(
    tx: Transaction, *, passport_id: int, community_id: int, stored: StoredScore
) -> None:
    """Upserts the score row; a DONE score also gets its SCU event, in the same statement."""
    score_columns: dict[str, Any] = {
        "passport_id": passport_id,
        "score": stored.score,
        "last_score_timestamp": stored.last_score_timestamp,
        "status": stored.status,
        "error": stored.error,
        "evidence": None if stored.evidence is None else dumps(stored.evidence),
        "stamp_scores": None if stored.stamp_scores is None else dumps(stored.stamp_scores),
        "stamps": None if stored.stamps is None else dumps(stored.stamps),
        "expiration_date": stored.expiration_date,
    }
    upsert = (
        "INSERT INTO registry_score (passport_id, score, last_score_timestamp, status, error,"
        " evidence, stamp_scores, stamps, expiration_date) VALUES (:passport_id,"
        " CAST(:score AS numeric), :last_score_timestamp, :status, :error,"
        " CAST(:evidence AS jsonb), CAST(:stamp_scores AS jsonb), CAST(:stamps AS jsonb),"
        " :expiration_date)"
        " ON CONFLICT (passport_id) DO UPDATE SET score = EXCLUDED.score,"
        " last_score_timestamp = EXCLUDED.last_score_timestamp, status = EXCLUDED.status,"
        " error = EXCLUDED.error, evidence = EXCLUDED.evidence,"
        " stamp_scores = EXCLUDED.stamp_scores, stamps = EXCLUDED.stamps,"
        " expiration_date = EXCLUDED.expiration_date RETURNING id"
    )
    if stored.status != "DONE":
        # The reference writes an SCU event only for DONE saves.
        tx.run(upsert, **score_columns)
        return
    # The event's `pk` is the score's id, which only the upsert knows.
    event = score_update_data(score_id=0, passport_id=passport_id, stored=stored)
    tx.run(
        f"WITH s AS ({upsert})"
        " INSERT INTO registry_event (action, address, created_at, data, community_id)"
        " SELECT 'SCU', :address, now(),"
        "  jsonb_set(CAST(:event AS jsonb), '{pk}', to_jsonb(s.id)), :community_id FROM s",
        **score_columns,
        address=stored.address,
        event=dumps(event),
        community_id=community_id,
    )


def record_dedup_events(
    tx: Transaction, events: Sequence[DedupEvent], *, address: str, community_id: int
) -> None:
    if not events:
        return
    tx.run(
        "INSERT INTO registry_event (action, address, created_at, data, community_id)"
        " SELECT 'LDP', :address, now(), e.v, :community_id"
        " FROM jsonb_array_elements(CAST(:rows AS jsonb)) WITH ORDINALITY AS e(v, ord)"
        " ORDER BY e.ord",
        address=address,
        community_id=community_id,
        rows=dumps(
            [
                dedup_data(
                    nullifiers=ev.nullifiers, provider=ev.provider, community_id=community_id
                )
                for ev in events
            ]
        ),
    )


def find_score(tx: Transaction, address: str, community_id: int) -> StoredScore | None:
    """The stored score of the address's passport in the community, as it was last saved."""
    row = tx.one(
        "SELECT p.address, s.score, s.status, s.last_score_timestamp, s.error, s.evidence,"
        " s.stamp_scores, s.stamps, s.expiration_date"
        " FROM registry_score s JOIN registry_passport p ON p.id = s.passport_id"
        " WHERE p.address = :address AND p.community_id = :community_id",
        address=address,
        community_id=community_id,
    )
    return StoredScore(*row) if row else None
