"""Builds the CDK app: one ``ScorerStack`` per environment, cdk-nag packs as validation plugins.

The context is read here and only here. ``-c env=<name>`` selects one environment (all of them
otherwise); ``-c bundle=false`` synthesizes without building the Lambda bundle.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import App

from infra.config_error import ConfigError
from infra.nag import add_rule_packs
from infra.scorer_code import scorer_code
from infra.scorer_stack import ScorerStack
from infra.settings import CONTEXT_KEY, environment_names, load_environment

# CDK bundles the assets of the stacks listed under this key; an empty list skips bundling.
BUNDLING_STACKS_CONTEXT = "aws:cdk:bundling-stacks"


def create_app(*, context: Mapping[str, Any] | None = None, outdir: str | None = None) -> App:
    app = App(context=dict(context) if context is not None else None, outdir=outdir)
    if not _flag(app.node.try_get_context("bundle"), name="bundle", default=True):
        # The CLI always asks for bundling on synth; the app overrides it before any stack
        # exists, which is the only moment context may still change.
        app.node.set_context(BUNDLING_STACKS_CONTEXT, [])

    environments = app.node.try_get_context(CONTEXT_KEY)
    selected = app.node.try_get_context("env")
    names = [selected] if selected else environment_names(environments)
    for name in names:
        settings = load_environment(environments, str(name))
        # A Code instance belongs to one stack.
        ScorerStack(app, settings.stack_name, settings=settings, code=scorer_code())

    add_rule_packs(app)
    return app


def _flag(value: object, *, name: str, default: bool) -> bool:
    # Values given with -c arrive as strings.
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    raise ConfigError(f"{name}: expected true or false, got {value!r}")
