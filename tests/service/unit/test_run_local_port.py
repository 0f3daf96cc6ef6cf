"""`make run` refuses a port something listens on, and accepts one left only in TIME_WAIT (as
gunicorn's own bind does, with SO_REUSEADDR)."""

from __future__ import annotations

import socket

from tools.run_local import _port_is_free


def _listener() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


def test_a_port_in_time_wait_only_is_free() -> None:
    listener = _listener()
    port = listener.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = listener.accept()
    # The server side closes first, so its end of the connection stays in TIME_WAIT.
    accepted.close()
    client.recv(1)
    client.close()
    listener.close()

    assert _port_is_free(port)


def test_a_port_something_listens_on_is_not_free() -> None:
    with _listener() as listener:
        assert not _port_is_free(listener.getsockname()[1])
