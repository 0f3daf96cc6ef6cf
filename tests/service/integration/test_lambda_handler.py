"""The Lambda entry point, driven with ALB target events shaped as AWS sends them."""

from __future__ import annotations

import importlib
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import falcon
import pg8000.native
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.service.support import scenario as sc

EVENTS = Path(__file__).resolve().parent.parent / "events"


class LambdaContext:
    """The attributes of the Lambda runtime's context object that the service reads."""

    aws_request_id = "5b1f3a0e-8c2d-4e6f-9a7b-0c1d2e3f4a5b"
    function_name = "scorer-api"


class Echo:
    """A test-only resource that answers what the app received."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {
            "tags": req.get_param_as_list("tag"),
            "address": req.get_param("address"),
            "repeated_header": req.get_header("X-Test-Repeated"),
        }

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {
            "content_type": req.content_type,
            "body": req.bounded_stream.read().decode("utf-8"),
        }


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


@pytest.fixture
def lambda_module(
    monkeypatch: pytest.MonkeyPatch, settings_env: dict[str, str]
) -> Iterator[ModuleType]:
    """service.lambda_handler imported afresh from an environment naming the test database."""
    for name, value in settings_env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SETTINGS_SECRET_ARN", raising=False)
    monkeypatch.delenv("LOG_LEVEL", raising=False)
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    try:
        if "service.lambda_handler" in sys.modules:
            module = importlib.reload(sys.modules["service.lambda_handler"])
        else:
            module = importlib.import_module("service.lambda_handler")
        module.app.add_route("/test-only/echo", Echo())
        yield module
    finally:
        # The handler configures logging for Lambda at import; give pytest its handlers back.
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)


def invoke(module: ModuleType, event_name: str) -> dict[str, Any]:
    response: dict[str, Any] = module.handler(load_event(event_name), LambdaContext())
    return response


def test_health_event_answers_200_ok_as_plain_text(lambda_module: ModuleType) -> None:
    response = invoke(lambda_module, "alb_get_health.json")

    assert response["statusCode"] == 200
    assert response["statusDescription"] == "200 OK"
    assert response["isBase64Encoded"] is False
    assert response["body"] == "OK"
    assert response["headers"]["content-type"].startswith("text/plain")


def test_single_value_event_gets_single_value_headers_back(lambda_module: ModuleType) -> None:
    response = invoke(lambda_module, "alb_get_health.json")

    assert "multiValueHeaders" not in response
    assert all(isinstance(value, str) for value in response["headers"].values())


def test_the_request_id_is_the_lambda_invocation_id(lambda_module: ModuleType) -> None:
    response = invoke(lambda_module, "alb_get_health.json")

    assert response["headers"]["x-request-id"] == LambdaContext.aws_request_id


def test_unknown_route_answers_a_json_404(lambda_module: ModuleType) -> None:
    response = invoke(lambda_module, "alb_get_unknown_route.json")

    assert response["statusCode"] == 404
    assert response["statusDescription"] == "404 Not Found"
    assert response["isBase64Encoded"] is False
    assert response["headers"]["content-type"].startswith("application/json")
    assert json.loads(response["body"]) == {"detail": "Not Found"}


def test_multi_value_event_keeps_a_repeated_query_parameter(lambda_module: ModuleType) -> None:
    response = invoke(lambda_module, "alb_get_multi_value.json")

    assert json.loads(response["body"])["tags"] == ["first", "second"]


def test_multi_value_event_keeps_a_repeated_header(lambda_module: ModuleType) -> None:
    response = invoke(lambda_module, "alb_get_multi_value.json")

    assert json.loads(response["body"])["repeated_header"] == "one,two"


def test_query_values_the_load_balancer_left_encoded_are_decoded_once(
    lambda_module: ModuleType,
) -> None:
    response = invoke(lambda_module, "alb_get_multi_value.json")

    assert json.loads(response["body"])["address"] == "0xabc+def"


def test_multi_value_event_gets_multi_value_headers_back(lambda_module: ModuleType) -> None:
    response = invoke(lambda_module, "alb_get_multi_value.json")

    assert response["statusCode"] == 200
    assert response["statusDescription"] == "200 OK"
    assert response["isBase64Encoded"] is False
    assert "headers" not in response
    assert response["multiValueHeaders"]["content-type"] == ["application/json"]


def test_base64_encoded_body_reaches_the_app_decoded(lambda_module: ModuleType) -> None:
    response = invoke(lambda_module, "alb_post_base64_body.json")

    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {
        "content_type": "application/json",
        "body": '{"address": "0xabc", "note": "café ✓"}',
    }
    assert response["isBase64Encoded"] is False


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda e: e.pop("httpMethod"), id="no-method"),
        pytest.param(lambda e: e.pop("path"), id="no-path"),
        pytest.param(lambda e: e.update(path="no-leading-slash"), id="relative-path"),
        pytest.param(
            lambda e: e.update(body="%%%not-base64", isBase64Encoded=True), id="bad-base64"
        ),
        pytest.param(lambda e: e.update(headers=["not", "a", "dict"]), id="headers-not-a-dict"),
        pytest.param(lambda e: e.update(queryStringParameters="a=b"), id="query-not-a-dict"),
        pytest.param(lambda e: e.update(httpMethod=None), id="method-null"),
    ],
)
def test_a_malformed_event_answers_400_json_without_reaching_the_app(
    lambda_module: ModuleType, mutate: Any
) -> None:
    event = load_event("alb_get_health.json")
    mutate(event)

    response = lambda_module.handler(event, LambdaContext())

    assert response["statusCode"] == 400
    assert response["statusDescription"] == "400 Bad Request"
    assert json.loads(response["body"]) == {"detail": "Bad request"}


def test_huge_headers_are_handled_like_any_other_request(lambda_module: ModuleType) -> None:
    event = load_event("alb_get_health.json")
    event["headers"]["x-padding"] = "a" * 200_000

    response = lambda_module.handler(event, LambdaContext())

    assert response["statusCode"] == 200


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    event=st.dictionaries(
        st.sampled_from(
            [
                "httpMethod",
                "path",
                "headers",
                "multiValueHeaders",
                "queryStringParameters",
                "multiValueQueryStringParameters",
                "body",
                "isBase64Encoded",
                "requestContext",
            ]
        ),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.text(max_size=30),
            st.lists(st.text(max_size=5), max_size=3),
            st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3),
        ),
    )
)
def test_no_event_shape_makes_the_handler_raise(
    lambda_module: ModuleType, event: dict[str, Any]
) -> None:
    response = lambda_module.handler(event, LambdaContext())

    assert 200 <= response["statusCode"] < 500
    assert response["statusDescription"].startswith(str(response["statusCode"]))


HUGE = "9" * 5000  # past Python's 4,300-digit limit on converting a string to an int
ADDRESS = "0x" + "ab" * 20


@pytest.mark.parametrize(
    ("method", "path", "query", "body"),
    [
        pytest.param("GET", f"/internal/embed/score/{HUGE}/{ADDRESS}", {}, "", id="embed-score"),
        pytest.param("GET", f"/internal/score/v2/{HUGE}/{ADDRESS}", {}, "", id="internal-score"),
        pytest.param(
            "GET", f"/internal/stake/legacy-gtc/{ADDRESS}/{HUGE}", {}, "", id="legacy-gtc-round"
        ),
        pytest.param("GET", f"/v2/stamps/{HUGE}/score/{ADDRESS}", {}, "", id="v2-scorer-id"),
        pytest.param(
            "GET", "/internal/embed/weights", {"community_id": HUGE}, "", id="embed-weights"
        ),
        pytest.param(
            "GET", "/internal/embed/config", {"community_id": HUGE}, "", id="embed-config"
        ),
        pytest.param(
            "POST",
            f"/internal/embed/stamps/{ADDRESS}",
            {},
            f'{{"scorer_id": {HUGE}, "stamps": []}}',
            id="embed-stamps-body",
        ),
    ],
)
def test_an_integer_of_any_size_is_a_4xx_json_answer(
    lambda_module: ModuleType,
    clean_db: pg8000.native.Connection,
    method: str,
    path: str,
    query: dict[str, str],
    body: str,
) -> None:
    # A valid API key and internal token, so that every route gets as far as the number.
    world = sc.build(clean_db)
    event = load_event("alb_get_health.json")
    event.update(httpMethod=method, path=path, queryStringParameters=query, body=body)
    event["headers"]["authorization"] = "test-internal-token"
    event["headers"]["x-api-key"] = world.api_key.key

    response = lambda_module.handler(event, LambdaContext())

    assert 400 <= response["statusCode"] < 500, response["body"][:300]
    assert "detail" in json.loads(response["body"])
