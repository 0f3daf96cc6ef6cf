"""`python -m service` as it is run outside Lambda, started here on a free port: chunked bodies,
slow clients, and the requests that never reach the app."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pg8000.native
import pytest

from tests.service.support.internal_rows import INTERNAL_TOKEN
from tests.service.support.local_server import (
    HOST,
    Answer,
    ServiceProcess,
    exchange,
    parse_answer,
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
    assert detail(answer) == "Cannot parse request body"


# --- slow clients ---------------------------------------------------------------------------


def half_sent_request(port: int) -> socket.socket:
    sock = socket.create_connection((HOST, port), timeout=5)
    sock.sendall(b"GET /hea")
    return sock


def still_open(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return sock.recv(1) != b""
    except BlockingIOError:
        return True  # nothing to read, and not closed
    except OSError:
        return False
    finally:
        sock.setblocking(True)


def test_two_half_sent_requests_do_not_stall_the_server(server: ServiceProcess) -> None:
    slow = [half_sent_request(server.port) for _ in range(2)]
    try:
        time.sleep(0.5)  # let the workers pick both connections up

        answer = exchange(server.port, request("GET", "/health"), timeout_s=8)

        assert answer.status == 200
        assert answer.body == b"OK"
        # Answered while both slow clients were still connected, not after they were dropped.
        assert [still_open(sock) for sock in slow] == [True, True]
    finally:
        for sock in slow:
            sock.close()


def test_more_slow_clients_than_threads_do_not_stall_the_server(server: ServiceProcess) -> None:
    # Two workers of four threads each: far more silent and half-sent connections than threads.
    idle = [socket.create_connection((HOST, server.port), timeout=5) for _ in range(20)]
    slow = [half_sent_request(server.port) for _ in range(40)]
    try:
        time.sleep(0.5)

        answers = [exchange(server.port, request("GET", "/health"), timeout_s=8) for _ in range(5)]

        assert [answer.status for answer in answers] == [200] * 5
        assert all(still_open(sock) for sock in idle + slow)
    finally:
        for sock in idle + slow:
            sock.close()


@pytest.fixture(scope="module")
def impatient_server(
    database_url: str,
    admin_conn: pg8000.native.Connection,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServiceProcess]:
    log_path = tmp_path_factory.mktemp("impatient") / "server.log"
    with running(database_url, log_path, "--read-timeout", "1") as server:
        yield server


def test_a_request_left_unfinished_past_the_read_timeout_is_dropped(
    impatient_server: ServiceProcess,
) -> None:
    sock = half_sent_request(impatient_server.port)
    sock.settimeout(10)
    with sock:
        try:
            closed = sock.recv(1024) == b""
        except ConnectionResetError:
            closed = True

    assert closed
    # One line in the server's log, not an error with a traceback.
    assert "Traceback" not in impatient_server.log_tail(20_000)


def test_a_head_trickled_in_slower_than_the_read_timeout_is_dropped(
    impatient_server: ServiceProcess,
) -> None:
    """The timeout bounds the whole head, not each read: a byte every 0.2 s does not keep a
    connection whose head is not complete after the read timeout (1 s here)."""
    trickle = b"GET /health HTTP/1.1\r\nX-Slow: " + b"a" * 40
    with socket.create_connection((HOST, impatient_server.port), timeout=5) as sock:
        sent = 0
        while sent < len(trickle) and still_open(sock):
            try:
                sock.sendall(trickle[sent : sent + 1])
            except OSError:
                break
            sent += 1
            time.sleep(0.2)

    assert sent < len(trickle)


def test_a_body_left_unfinished_past_the_read_timeout_is_408(
    impatient_server: ServiceProcess,
) -> None:
    raw = request(
        "POST", "/internal/check-revocations", headers=INTERNAL, body=b'{"proof_values": []}'
    )
    with socket.create_connection((HOST, impatient_server.port), timeout=10) as sock:
        sock.sendall(raw[:-5])  # all but the end of the body
        received = bytearray()
        while chunk := sock.recv(65536):
            received.extend(chunk)

    answer = parse_answer(bytes(received))
    assert answer.status == 408
    assert detail(answer) == "Request body not received in time"


# --- requests that never reach the app ------------------------------------------------------

ALB_REQUEST_LINE = 16 * 1024
ALB_HEADER = 16 * 1024


def line_of(length: int) -> str:
    """A GET /health whose request line ("GET <target> HTTP/1.1") is `length` bytes long."""
    fixed = len("GET /health?pad= HTTP/1.1")
    return "/health?pad=" + "a" * (length - fixed)


def test_a_request_line_as_long_as_the_load_balancer_passes_reaches_the_app(
    server: ServiceProcess,
) -> None:
    answer = exchange(server.port, request("GET", line_of(ALB_REQUEST_LINE)))

    assert answer.status == 200
    assert answer.body == b"OK"


def test_a_longer_request_line_is_a_414_json_answer(server: ServiceProcess) -> None:
    answer = exchange(server.port, request("GET", line_of(ALB_REQUEST_LINE + 100)))

    assert answer.status == 414
    assert detail(answer) == f"Request line too long (limit {ALB_REQUEST_LINE} bytes)"
    assert answer.headers["x-request-id"]


def test_a_10_kb_bearer_token_reaches_the_app(server: ServiceProcess) -> None:
    headers = {"Authorization": "Bearer " + "a" * 10_240}

    answer = exchange(
        server.port, request("GET", f"/ceramic-cache/score/0x{'ab' * 20}", headers=headers)
    )

    assert answer.status == 401
    assert isinstance(detail(answer), str)


def test_a_header_over_16_kb_is_a_431_json_answer(server: ServiceProcess) -> None:
    headers = {"X-Padding": "a" * (ALB_HEADER + 100)}

    answer = exchange(server.port, request("GET", "/health", headers=headers))

    assert answer.status == 431
    assert detail(answer) == f"Request header fields too large (limit {ALB_HEADER} bytes each)"


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(
            b"GET /health HTTP/1.1\r\nHost: x\r\nBad\x01Name: 1\r\n\r\n", id="header-name"
        ),
        pytest.param(b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: \x00\r\n\r\n", id="header-value"),
        pytest.param(b"HELLO\r\n\r\n", id="not-http"),
        pytest.param(b"GET /health HTTP/7.3\r\nHost: x\r\n\r\n", id="http-version"),
    ],
)
def test_bytes_that_are_not_a_valid_request_get_a_400_json_answer(
    server: ServiceProcess, raw: bytes
) -> None:
    answer = exchange(server.port, raw)

    assert answer.status == 400
    assert detail(answer) == "Bad request"
