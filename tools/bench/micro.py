"""3. Per-credential verification time, and SHA-256 vs PBKDF2 API-key verification time."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from service.auth.api_key import sha256_form, verify_secret
from service.db.api_keys import ApiKeyRow
from service.domain.credentials import LoadedStamp, validate_stamps
from tools.bench.profiles import Profile, profile
from tools.bench.stats import Repeated
from tools.bench.world import STAMP_COUNTS, World, sign_stamps
from tools.seed import django_pbkdf2

PBKDF2_ITERATIONS = 600_000  # Django's default for pbkdf2_sha256
VERIFY_RUNS = 10
PROFILE_RUNS = 2
BENCH_KEY = "BenchKey.0123456789abcdefghijklmnopqrstuv"

# What a verification spends its time on, for the profile (path suffix : function).
VERIFICATION_PARTS = {
    "EIP-712 message hashing (service typed_data over eth-account and eth-abi)": (
        "service/domain/typed_data.py:_hash_struct"
    ),
    "struct packing (eth-abi encoders)": "service/domain/typed_data.py:_abi_packed",
    "member encoding of text not seen before (eth-account encode_field)": (
        "eth_account/_utils/encode_typed_data/encoding_and_hashing.py:encode_field"
    ),
    "Keccak-256 calls (eth-hash, safe-pysha3)": "eth_hash/main.py:__call__",
    "signature recovery (eth-keys, coincurve)": (
        "eth_keys/datatypes.py:recover_public_key_from_msg_hash"
    ),
    "remembered types and domains (service ContentMemo)": (
        "service/domain/typed_data.py:get_or_make"
    ),
    "type checks of the signed document (service _check_struct)": (
        "service/domain/credentials.py:_check_struct"
    ),
}


@dataclass(frozen=True)
class MicroResult:
    stamps: int
    # credentials this process has never verified: the whole proof check, every time
    verify_first_sight: Repeated
    # the same credentials verified again, as a rescoring in a warm process does
    verify_seen: Repeated
    verify_profile: Profile  # of first-sight verification
    sha256_check: Repeated
    pbkdf2_check: Repeated


def measure(world: World) -> MicroResult:
    address = world.latency_addresses[max(STAMP_COUNTS)]
    count = max(STAMP_COUNTS)
    now = _now().replace(microsecond=0)
    # Fresh signatures for every run, so no cache of verified credentials can answer for them.
    fresh = [
        sign_stamps(
            issuer_key=world.issuer_key, address=address, count=count, now=now, tag=f":m{run}"
        )
        for run in range(VERIFY_RUNS + PROFILE_RUNS)
    ]
    trusted = frozenset({world.issuer_did})

    def verifier(credentials: Sequence[dict[str, Any]]) -> Callable[[], None]:
        stamps = [
            LoadedStamp(provider=c["credentialSubject"]["provider"], credential=c)
            for c in credentials
        ]

        def verify() -> None:
            valid = validate_stamps(stamps, address=address, trusted_issuers=trusted, now=_now())
            if len(valid) != len(stamps):
                raise RuntimeError(f"only {len(valid)} of {len(stamps)} stamps verified")

        return verify

    verifier(world.credentials[address])()  # imports, first-call costs
    first_sight = Repeated.of(
        [_time_ms(verifier(credentials)) / count for credentials in fresh[:VERIFY_RUNS]]
    )
    profiled = [verifier(credentials) for credentials in fresh[VERIFY_RUNS:]]

    def verify_profiled() -> None:
        for verify in profiled:
            verify()

    verify_profile = profile(
        verify_profiled, units=PROFILE_RUNS * count, cumulative_of=VERIFICATION_PARTS
    )
    seen = _repeat(verifier(fresh[0]), calls=1, units=count, repeats=VERIFY_RUNS)

    sha_row = _key_row(hashed_key=django_pbkdf2(BENCH_KEY, iterations=1000), sha256=True)
    pbkdf2_row = _key_row(hashed_key=django_pbkdf2(BENCH_KEY, iterations=PBKDF2_ITERATIONS))

    def check(row: ApiKeyRow) -> Callable[[], None]:
        def run() -> None:
            if not verify_secret(BENCH_KEY, row)[0]:
                raise RuntimeError("the API key did not verify")

        return run

    sha256 = _repeat(check(sha_row), calls=20_000, units=1, repeats=5)
    pbkdf2 = _repeat(check(pbkdf2_row), calls=1, units=1, repeats=3)
    return MicroResult(
        stamps=count,
        verify_first_sight=first_sight,
        verify_seen=seen,
        verify_profile=verify_profile,
        sha256_check=sha256,
        pbkdf2_check=pbkdf2,
    )


def _time_ms(work: Callable[[], None]) -> float:
    started = time.perf_counter_ns()
    work()
    return (time.perf_counter_ns() - started) / 1e6


def _now() -> datetime:
    return datetime.now(UTC)


def _key_row(*, hashed_key: str, sha256: bool = False) -> ApiKeyRow:
    return ApiKeyRow(
        id="BenchKey." + hashed_key,
        prefix="BenchKey",
        hashed_key=hashed_key,
        hashed_key_sha256=sha256_form(BENCH_KEY) if sha256 else None,
        revoked=False,
        expiry_date=None,
        account_id=1,
        read_scores=True,
        rate_limit="125/15m",
        historical_endpoint=False,
    )


def _repeat(work: Callable[[], None], *, calls: int, units: int, repeats: int) -> Repeated:
    """Milliseconds per unit for each of `repeats` runs of `calls` calls."""
    results = []
    for _ in range(repeats):
        started = time.perf_counter_ns()
        for _ in range(calls):
            work()
        results.append((time.perf_counter_ns() - started) / 1e6 / (calls * units))
    return Repeated.of(results)
