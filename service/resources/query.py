"""Query-string parameters, refused the way django-ninja refuses a missing one."""

from __future__ import annotations

import falcon

from service.plumbing.errors import ValidationFailed


def required_param(req: falcon.Request, name: str) -> str:
    value = req.get_param(name)
    if value is None:
        raise ValidationFailed.single(type_="missing", loc=["query", name], msg="Field required")
    return value
