"""`python -m service` as it is run outside Lambda, started here on a free port: chunked bodies."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pg8000.native
import pytest

from tests.service.support.internal_rows import INTERNAL_TOKEN
from tests.service.support.local_server import (
    Answer,
    ServiceProcess,
    exchange,
    request,
    running,
)

pytestmark = pytest.mark.slow

INTERNAL = {"Authorization": INTERNAL_TOKEN, "Content-Type": "application/json"}
LIMIT = 1_048_576  # MAX_REQUEST_BODY_BYTES' default


@pytest.fixture(scope="module")
def server(
    database_url: str,
    admin_conn: pg8000.native.Connection,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServiceProcess]:
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    with running(database_url, log_path) as server:
        yield server


def detail(answer: Answer) -> object:
    assert answer.headers["content-type"].startswith("application/json"), answer.body[:200]
    return json.loads(answer.body)["detail"]


# --- chunked request bodies -----------------------------------------------------------------


def test_a_chunked_body_is_read(server: ServiceProcess) -> None:
    body = json.dumps({"proof_values": ["0xa", "0xb"]}).encode()

    answer = exchange(
        server.port,
        request("POST", "/internal/check-revocations", headers=INTERNAL, chunked_body=body),
    )

    assert answer.status == 200, answer.body
    assert json.loads(answer.body) == [
        {"proof_value": "0xa", "is_revoked": False},
        {"proof_value": "0xb", "is_revoked": False},
    ]


def test_a_chunked_body_over_the_limit_is_413(server: ServiceProcess) -> None:
    body = b'{"proof_values": ["' + b"a" * (2 * LIMIT) + b'"]}'

    answer = exchange(
        server.port,
        request("POST", "/internal/check-revocations", headers=INTERNAL, chunked_body=body),
    )

    assert answer.status == 413
    assert detail(answer) == f"Request body too large (limit {LIMIT} bytes)"


def test_a_chunked_body_reaches_the_embed_write(server: ServiceProcess) -> None:
    body = json.dumps({"scorer_id": 999_999, "stamps": []}).encode()

    answer = exchange(
        server.port,
        request(
            "POST", f"/internal/embed/stamps/0x{'ab' * 20}", headers=INTERNAL, chunked_body=body
        ),
    )

    # The body was read: its scorer is looked up (an empty body would be a 422 "Field required").
    assert answer.status == 400
    assert detail(answer) == "Invalid scorer_id"


def test_broken_chunk_framing_is_a_400_json_answer(server: ServiceProcess) -> None:
    raw = request("POST", "/internal/check-revocations", headers=INTERNAL, chunked_body=b"")
    broken = raw.replace(b"0\r\n\r\n", b"zz\r\n{}\r\n0\r\n\r\n")

    answer = exchange(server.port, broken)

    assert answer.status == 400
    assert isinstance(detail(answer), str)
