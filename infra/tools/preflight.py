"""Check one environment's synthesized routing plan against its listeners (``make preflight``).

    python -m infra.tools.preflight --env staging                 # live: read-only AWS calls
    python -m infra.tools.preflight --env staging --rules DIR     # recorded documents
    python -m infra.tools.preflight --env staging --deploy        # also refuse example values

Live, it reads every rule of both listeners (``describe_rules``, paginated) and their tags
(``describe_tags``); it changes nothing. Offline, ``DIR`` holds what
``aws elbv2 describe-rules --listener-arn <arn>`` prints for each listener, as ``public.json``
and ``internal.json``, and optionally what ``aws elbv2 describe-tags --resource-arns ...``
prints for their rules, as ``tags.json`` (without it no rule counts as this stack's own).

One line per problem (``preflight.py`` says which); exit status 1 when there is any, 2 when the
environment cannot be read or synthesized.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from infra.alb_rules import (
    AlbRule,
    from_describe_rules,
    from_template,
    tags_from_describe_tags,
    with_tags,
)
from infra.bundling import REPO_ROOT
from infra.config_error import ConfigError
from infra.examples import example_values
from infra.preflight import Problem, ServedRoutes, check_listener
from infra.routes import ROUTE_MAP
from infra.settings import CONTEXT_KEY, EnvironmentSettings, ListenerSettings, load_environment

# describe_tags accepts at most 20 resource ARNs per call.
_TAGS_BATCH = 20


class InputError(Exception):
    """A recorded document that cannot be read, or is not the listener's."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--env", required=True, help="environment name in cdk.json")
    parser.add_argument("--rules", type=Path, help="folder of recorded describe-rules documents")
    parser.add_argument(
        "--deploy", action="store_true", help="also refuse values cdk.json ships as examples"
    )
    args = parser.parse_args(argv)
    context = _cdk_context()
    try:
        settings = load_environment(context.get(CONTEXT_KEY), args.env)
        live = recorded_rules(args.rules, settings) if args.rules else live_rules(settings)
        template = synthesized_template(context, settings)
    except ConfigError as error:
        print(f"preflight {args.env}: cdk.json context error: {error}", file=sys.stderr)
        return 2
    except InputError as error:
        print(f"preflight {args.env}: {error}", file=sys.stderr)
        return 2
    lines = []
    if args.deploy:
        block = context[CONTEXT_KEY][args.env]
        lines += [
            f"example value still in cdk.json: {entry}"
            for entry in example_values(block, f"{CONTEXT_KEY}.{args.env}")
        ]
    problems = check_environment(settings, template=template, live=live, served=served_routes())
    lines += [problem.line() for problem in problems]
    for line in lines:
        print(line)
    source = f"the documents in {args.rules}" if args.rules else "the live listeners"
    planned = sum(len(listener.routes) for listener in settings.routing.listeners)
    if lines:
        print(f"preflight {args.env}: {len(lines)} problem(s) against {source}", file=sys.stderr)
        return 1
    print(f"preflight {args.env}: {planned} planned routes agree with {source}")
    return 0


def check_environment(
    settings: EnvironmentSettings,
    *,
    template: Mapping[str, Any],
    live: Mapping[str, list[AlbRule]],
    served: ServedRoutes,
) -> list[Problem]:
    problems = []
    for listener in settings.routing.listeners:
        problems += check_listener(
            listener,
            planned=from_template(template, listener.listener_arn),
            live=live[listener.name],
            stack_name=settings.stack_name,
            served=served,
        )
    return problems


def served_routes() -> ServedRoutes:
    """The service's route table, as the route map records it (a test keeps the two equal)."""
    served: dict[str, list[str]] = defaultdict(list)
    for method, template in ROUTE_MAP:
        served[method].append(template)
    return served


def synthesized_template(context: Mapping[str, Any], settings: EnvironmentSettings) -> Any:
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    from infra.app_factory import create_app

    app = create_app(context={**context, "env": settings.name, "bundle": False})
    return app.synth().get_stack_by_name(settings.stack_name).template


def _cdk_context() -> dict[str, Any]:
    with (REPO_ROOT / "cdk.json").open(encoding="utf-8") as handle:
        context: dict[str, Any] = json.load(handle)["context"]
    return context


def recorded_rules(folder: Path, settings: EnvironmentSettings) -> dict[str, list[AlbRule]]:
    tags_file = folder / "tags.json"
    tags = tags_from_describe_tags(_read_json(tags_file)) if tags_file.is_file() else {}
    rules: dict[str, list[AlbRule]] = {}
    for listener in settings.routing.listeners:
        document = _read_json(folder / f"{listener.name}.json")
        recorded = with_tags(from_describe_rules(document), tags)
        _require_listener(listener, recorded, folder / f"{listener.name}.json")
        rules[listener.name] = recorded
    return rules


def live_rules(settings: EnvironmentSettings, client: Any = None) -> dict[str, list[AlbRule]]:
    """Both listeners' rules and tags, read with ``describe_rules`` and ``describe_tags``."""
    if client is None:
        import boto3

        client = boto3.client("elbv2", region_name=settings.region)
    rules: dict[str, list[AlbRule]] = {}
    for listener in settings.routing.listeners:
        paginator = client.get_paginator("describe_rules")
        raw = [
            rule
            for page in paginator.paginate(ListenerArn=listener.listener_arn)
            for rule in page["Rules"]
        ]
        arns = [rule["RuleArn"] for rule in raw]
        tags: dict[str, dict[str, str]] = {}
        for start in range(0, len(arns), _TAGS_BATCH):
            answer = client.describe_tags(ResourceArns=arns[start : start + _TAGS_BATCH])
            tags.update(tags_from_describe_tags(answer))
        rules[listener.name] = with_tags(from_describe_rules({"Rules": raw}), tags)
    return rules


def _require_listener(listener: ListenerSettings, rules: list[AlbRule], source: Path) -> None:
    # Rule ARNs extend their listener's: .../listener-rule/app/<lb>/<id>/<listener id>/<rule id>
    prefix = listener.listener_arn.replace(":listener/", ":listener-rule/", 1) + "/"
    strangers = [rule.arn for rule in rules if not rule.arn.startswith(prefix)]
    if strangers:
        raise InputError(
            f"{source} holds rules of another listener than "
            f"{listener.listener_arn} (first: {strangers[0]})"
        )


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise InputError(f"cannot read {path}: {error}") from None


if __name__ == "__main__":
    sys.exit(main())
