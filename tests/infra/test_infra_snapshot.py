"""One snapshot per stack and environment, so a reviewer sees every template change.

The asset hash follows the service's source, not the infrastructure: it is replaced by a
placeholder so the snapshot changes only when the infrastructure does.
Update after an intended change: pytest tests/infra --snapshot-update
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_cdk.assertions import Template
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

ASSET_HASH = re.compile(r"\b[0-9a-f]{64}\b")


def normalised(template: Template) -> Any:
    text = json.dumps(template.to_json(), sort_keys=True)
    return json.loads(ASSET_HASH.sub("<asset-hash>", text))


@pytest.fixture
def json_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


def test_template_matches_snapshot(template: Template, json_snapshot: SnapshotAssertion) -> None:
    assert normalised(template) == json_snapshot


def test_normalisation_removes_the_asset_hash_only(template: Template) -> None:
    text = json.dumps(normalised(template))
    assert "<asset-hash>.zip" in text
    assert not ASSET_HASH.search(text)
