"""DATABASE_URL's sslmode against real servers: one that offers TLS (with a self-signed
certificate) and one that does not. libpq's meanings: `allow` and `prefer` (the default) encrypt
when the server offers TLS and speak plain text when it does not; `require` refuses plain text;
`verify-ca` and `verify-full` also check the certificate."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pg8000.native
import pytest
from pg8000.exceptions import InterfaceError

from service.db.connection import Database, open_connection
from service.plumbing.errors import DatabaseUnavailable
from service.plumbing.settings import parse_database_url
from tests.service.support import tls
from tools.pgcluster import EphemeralCluster


@pytest.fixture(scope="module")
def tls_server() -> Iterator[tuple[EphemeralCluster, tls.Certificate]]:
    cluster = EphemeralCluster.in_temp_dir()
    certificate = tls.self_signed(cluster.root_dir / "tls")
    cluster.hand_over(certificate.cert_file, certificate.key_file)
    cluster.server_settings = {
        "ssl": "on",
        "ssl_cert_file": str(certificate.cert_file),
        "ssl_key_file": str(certificate.key_file),
    }
    cluster.start()
    yield cluster, certificate
    cluster.destroy()


@pytest.fixture(scope="module")
def plain_server() -> Iterator[EphemeralCluster]:
    cluster = EphemeralCluster.in_temp_dir()
    cluster.start()
    yield cluster
    cluster.destroy()


def _encrypted(conn: pg8000.native.Connection) -> bool:
    try:
        return bool(conn.run("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")[0][0])
    finally:
        conn.close()


def _url(cluster: EphemeralCluster, query: str = "") -> str:
    return f"{cluster.url}{query}"


@pytest.mark.parametrize("query", ["", "?sslmode=allow", "?sslmode=prefer", "?sslmode=require"])
def test_a_server_that_offers_tls_is_spoken_to_encrypted(
    tls_server: tuple[EphemeralCluster, tls.Certificate], query: str
) -> None:
    cluster, _certificate = tls_server

    assert _encrypted(open_connection(parse_database_url(_url(cluster, query))))


@pytest.mark.parametrize("mode", ["verify-ca", "verify-full", "require"])
def test_the_certificate_is_checked_against_the_root_certificate_given(
    tls_server: tuple[EphemeralCluster, tls.Certificate], mode: str
) -> None:
    cluster, certificate = tls_server
    url = _url(cluster, f"?sslmode={mode}&sslrootcert={certificate.cert_file}")

    assert _encrypted(open_connection(parse_database_url(url)))


@pytest.mark.parametrize("mode", ["verify-ca", "verify-full", "require"])
def test_a_certificate_the_root_certificate_did_not_sign_is_refused(
    tls_server: tuple[EphemeralCluster, tls.Certificate], mode: str, tmp_path: Path
) -> None:
    cluster, _certificate = tls_server
    stranger = tls.self_signed(tmp_path).cert_file
    url = _url(cluster, f"?sslmode={mode}&sslrootcert={stranger}")

    with pytest.raises(ssl.SSLCertVerificationError):
        open_connection(parse_database_url(url))
    with pytest.raises(DatabaseUnavailable), Database(parse_database_url(url)).transaction():
        pass


@pytest.mark.parametrize("query", ["", "?sslmode=allow", "?sslmode=prefer", "?sslmode=disable"])
def test_a_server_without_tls_is_spoken_to_in_plain_text_unless_tls_is_required(
    plain_server: EphemeralCluster, query: str
) -> None:
    assert not _encrypted(open_connection(parse_database_url(_url(plain_server, query))))


def test_a_server_without_tls_is_spoken_to_over_its_unix_socket(
    plain_server: EphemeralCluster,
) -> None:
    socket_dir, port, name = plain_server.root_dir, plain_server.port, plain_server.dbname
    target = parse_database_url(f"postgresql://postgres@:{port}/{name}?host={socket_dir}")
    assert target.unix_sock is not None

    assert not _encrypted(open_connection(target))


@pytest.mark.parametrize("mode", ["require", "verify-ca", "verify-full"])
def test_a_server_without_tls_is_refused_when_tls_is_required(
    plain_server: EphemeralCluster, mode: str
) -> None:
    url = _url(plain_server, f"?sslmode={mode}")

    with pytest.raises(InterfaceError, match="Server refuses SSL"):
        open_connection(parse_database_url(url))
    with pytest.raises(DatabaseUnavailable), Database(parse_database_url(url)).transaction():
        pass
