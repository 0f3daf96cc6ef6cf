"""Fixtures: the real CDK app from cdk.json, synthesized offline with bundling skipped.

The app with every environment is synthesized once per session (as ``make synth`` does);
tests that need a variant build their own small app from a modified copy of the context.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

# First import of aws_cdk in the session: infra_testing sets the jsii environment before it.
from infra_testing import (
    ENVIRONMENTS,
    Synthesized,
    build_app,
    cdk_context,
    stack_of,
    template_of,
)

from infra.settings import EnvironmentSettings, load_environment

if TYPE_CHECKING:
    from aws_cdk.assertions import Template


@pytest.fixture(scope="session")
def synthesized() -> Iterator[Synthesized]:
    context = cdk_context()
    app = build_app(context)
    assembly = app.synth()
    stacks = {
        name: stack_of(app, load_environment(context["environments"], name).stack_name)
        for name in ENVIRONMENTS
    }
    yield Synthesized(
        app=app,
        assembly_dir=Path(assembly.directory),
        stacks=stacks,
        templates={name: template_of(stack) for name, stack in stacks.items()},
    )


@pytest.fixture(scope="session")
def settings_by_env() -> dict[str, EnvironmentSettings]:
    environments = cdk_context()["environments"]
    return {name: load_environment(environments, name) for name in ENVIRONMENTS}


@pytest.fixture(params=ENVIRONMENTS)
def env_name(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def template(synthesized: Synthesized, env_name: str) -> Template:
    return synthesized.templates[env_name]


@pytest.fixture
def settings(settings_by_env: dict[str, EnvironmentSettings], env_name: str) -> EnvironmentSettings:
    return settings_by_env[env_name]
