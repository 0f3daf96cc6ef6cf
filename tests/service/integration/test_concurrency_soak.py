"""A bounded soak: 8 threads, 200 scoring and stamp-write requests over 20 addresses whose stamps
share nullifiers. Afterwards the database must be consistent, whatever the interleaving was."""

from __future__ import annotations

import random
import threading
from collections import Counter
from decimal import Decimal
from typing import Any

import pg8000.native
import pytest

from service.db.connection import Database
from service.plumbing.settings import Settings
from tests.service.support import ceramic
from tests.service.support import scenario as sc
from tools import seed

THREADS = 8
REQUESTS = 200
ADDRESSES = [f"0x{index:040x}" for index in range(1, 21)]
PROVIDERS = ["Google", "Github", "Twitter", "Discord"]
# Four humans' accounts per provider: every nullifier is wanted by five addresses.
NULLIFIERS = {p: [f"v0:{p}:human-{i}" for i in range(4)] for p in PROVIDERS}


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return ceramic.ceramic_env(settings_env)


def _stamp_for(address: str, provider: str) -> dict[str, Any]:
    human = ADDRESSES.index(address) % 4
    return sc.stamp(provider, address=address, nullifiers=[NULLIFIERS[provider][human]])


@pytest.mark.slow
def test_concurrent_scoring_and_writes_leave_a_consistent_database(
    clean_db: pg8000.native.Connection, settings: Settings, db: Database
) -> None:
    world = ceramic.build_world(clean_db, settings, db)
    key = seed.create_api_key(clean_db, account_id=world.account_id, pbkdf2_iterations=1000)
    for address in ADDRESSES[::2]:
        seed.add_cached_stamp(clean_db, address=address, credential=_stamp_for(address, "Google"))
    stamps = {(a, p): _stamp_for(a, p) for a in ADDRESSES for p in PROVIDERS}
    plan = random.Random(20261127)
    requests = [
        (plan.choice(["score", "write"]), plan.choice(ADDRESSES), plan.sample(PROVIDERS, 2))
        for _ in range(REQUESTS)
    ]
    statuses: Counter[int] = Counter()
    failures: list[BaseException] = []
    lock = threading.Lock()
    queue = iter(requests)

    def worker() -> None:
        client = world.client
        while True:
            with lock:
                job = next(queue, None)
            if job is None:
                return
            kind, address, providers = job
            try:
                if kind == "score":
                    result = client.simulate_get(
                        f"/v2/stamps/{ceramic.SCORER_ID}/score/{address}",
                        headers={"X-API-Key": key.key},
                    )
                else:
                    body = [{"provider": p, "stamp": stamps[(address, p)]} for p in providers]
                    result = world.request(
                        "POST",
                        "/ceramic-cache/stamps/bulk",
                        body,
                        token=ceramic.hs256_token(address),
                    )
                with lock:
                    statuses[result.status_code] += 1
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                with lock:
                    failures.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    assert failures == []
    assert sum(statuses.values()) == REQUESTS
    assert all(status < 500 for status in statuses), statuses
    _assert_consistent(clean_db, community_id=ceramic.SCORER_ID)


def _assert_consistent(conn: pg8000.native.Connection, *, community_id: int) -> None:
    # At most one owner per nullifier and community (the unique constraint), and every kept
    # stamp's nullifiers belong to the address it was kept for.
    owners = dict(
        conn.run(
            "SELECT hash, address FROM registry_hashscorerlink WHERE community_id = :c",
            c=community_id,
        )
    )
    duplicates = conn.run(
        "SELECT hash FROM registry_hashscorerlink GROUP BY hash, community_id HAVING count(*) > 1"
    )
    assert duplicates == []
    kept = conn.run(
        "SELECT p.address, s.provider, s.credential FROM registry_stamp s"
        " JOIN registry_passport p ON p.id = s.passport_id WHERE p.community_id = :c",
        c=community_id,
    )
    for address, _provider, credential in kept:
        for nullifier in credential["credentialSubject"]["nullifiers"]:
            assert owners[nullifier] == address

    weights = sc.DEFAULT_WEIGHTS
    scores = conn.run(
        "SELECT p.id, p.address, s.status, s.evidence, s.stamps FROM registry_score s"
        " JOIN registry_passport p ON p.id = s.passport_id WHERE p.community_id = :c",
        c=community_id,
    )
    assert scores, "the soak must have stored scores"
    for passport_id, address, status, evidence, score_stamps in scores:
        assert status == "DONE", (address, status)
        stored = [
            row[0]
            for row in conn.run(
                "SELECT provider FROM registry_stamp WHERE passport_id = :p ORDER BY id",
                p=passport_id,
            )
        ]
        # All of a request's writes or none: the stamps rows are the score's kept stamps.
        assert sorted(stored) == sorted(k for k, v in score_stamps.items() if not v["dedup"])
        # And the stored score is what those stamps add up to.
        total = sum((Decimal(weights.get(p, 0)) for p in stored), Decimal(0))
        assert Decimal(evidence["rawScore"]) == total
