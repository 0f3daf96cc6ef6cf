"""Credentials read as text are parsed once per distinct text."""

from __future__ import annotations

import hashlib
import json

import pytest

from service.db import jsonb


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    jsonb.forget_parsed()


def test_a_text_is_parsed_once_and_its_value_and_digest_are_given_again() -> None:
    text = '{"issuer": "did:ethr:0x1", "proof": {"created": "2026-01-01T00:00:00Z"}}'

    value, digest = jsonb.loads_remembered(text)
    again, digest_again = jsonb.loads_remembered(str(text))

    assert value == json.loads(text)
    assert again is value
    assert digest == digest_again == hashlib.sha256(text.encode()).digest()


def test_different_texts_have_different_values_and_digests() -> None:
    first = jsonb.loads_remembered('{"n": 1}')
    second = jsonb.loads_remembered('{"n": 1.0}')

    assert first[1] != second[1]
    assert type(first[0]["n"]) is int and type(second[0]["n"]) is float


def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonb._parsed, "size", 2)

    for n in range(3):
        jsonb.loads_remembered(f'{{"n": {n}}}')

    assert len(jsonb._parsed) == 2
    assert '{"n": 0}' not in jsonb._parsed
