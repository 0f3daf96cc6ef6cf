"""JSON request bodies validated the way django-ninja validates them (ADR-0026).

A route with a single body parameter reads the whole body into that parameter, so pydantic's
error locations start with the parameter's name (`payload`), and ninja prefixes them with
`"body"`. An empty body is a missing parameter. Errors keep pydantic's `type`, `loc`, `msg`
(and `ctx` where pydantic gives one), without `input` or `url`.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from service.domain.ceramic_cache_rules import NO_BODY
from service.plumbing.errors import ValidationFailed

# The single body parameter's name in every reference route that takes a JSON body.
PAYLOAD = "payload"

_Model = TypeVar("_Model", bound=BaseModel)


class _NinjaSchema(BaseModel):
    """`ninja_schema.Schema`: reads fields from dicts or attributes, ignores unknown keys."""

    model_config = ConfigDict(from_attributes=True)


class _NinjaGetterSchema(_NinjaSchema):
    """`ninja.Schema`: wraps its input in a getter first, so a value that is not an object
    reports each required field as missing instead of one type error."""

    @model_validator(mode="before")
    @classmethod
    def _fields_of_non_objects_are_missing(cls, value: Any) -> Any:
        return value if isinstance(value, dict) else {}


class CredentialSubject(_NinjaSchema):
    # Optional without a default: required, but null is accepted (pydantic v2).
    hash: str | None
    provider: str | None
    id: str | None


class Credential(_NinjaSchema):
    credentialSubject: CredentialSubject


class CheckBansBody(BaseModel):
    payload: list[Credential]


class RevocationCheckPayload(_NinjaSchema):
    proof_values: list[str]


class CheckRevocationsBody(BaseModel):
    payload: RevocationCheckPayload


class AddStampsPayload(_NinjaGetterSchema):
    scorer_id: int
    stamps: list[Any]


class AddStampsBody(BaseModel):
    payload: AddStampsPayload


def parse_body(model: type[_Model], media: Any) -> _Model:
    """`media` is the decoded JSON, or NO_BODY when the request had no body."""
    data = {} if media is NO_BODY else {PAYLOAD: media}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(ninja_errors(exc, source="body")) from None


def ninja_errors(exc: ValidationError, *, source: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for error in exc.errors(include_url=False, include_input=False):
        item: dict[str, Any] = {
            "type": error["type"],
            "loc": [source, *error["loc"]],
            "msg": error["msg"],
        }
        if "ctx" in error:
            item["ctx"] = {
                key: str(value) if isinstance(value, Exception) else value
                for key, value in error["ctx"].items()
            }
        items.append(item)
    return items
