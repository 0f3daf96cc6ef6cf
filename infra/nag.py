"""cdk-nag rule packs and the one way this app acknowledges a finding."""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, Validations
from cdk_nag import AwsSolutionsChecks, ServerlessChecks
from constructs import IConstruct


def add_rule_packs(app: App) -> None:
    """Run the packs as validation plugins: an unacknowledged finding fails synth."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))


def acknowledge(scope: IConstruct, rule_id: str, *, reason: str) -> None:
    """Accept one finding on ``scope`` and its children; the reason lands in the assembly."""
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))
