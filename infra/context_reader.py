"""Reads one ``cdk.json`` context object, naming the full path of any missing or wrong key."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from infra.config_error import ConfigError

_MISSING: Any = object()


@dataclass(frozen=True)
class Form:
    """The shape a string value must have, and how an error message describes it."""

    pattern: re.Pattern[str]
    description: str

    def matches(self, value: str) -> bool:
        return self.pattern.match(value) is not None


def as_mapping(value: object, path: str) -> Mapping[str, Any]:
    if value is None:
        raise ConfigError(f"{path}: missing (expected an object)")
    if not isinstance(value, Mapping):
        raise ConfigError(f"{path}: expected an object, got {type(value).__name__}")
    return cast(Mapping[str, Any], value)


class ContextReader:
    """Typed getters over a context object; ``finish`` rejects keys nobody read (typos)."""

    def __init__(self, data: Mapping[str, Any], path: str) -> None:
        self._data = data
        self.path = path
        self._used: set[str] = set()

    def _where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        return key in self._data

    def names(self) -> list[str]:
        return list(self._data)

    def _get(self, key: str, default: Any, check: Callable[[Any], bool], expected: str) -> Any:
        self._used.add(key)
        if key not in self._data or self._data[key] is None:
            if default is _MISSING:
                raise ConfigError(f"{self._where(key)}: missing (expected {expected})")
            return default
        value = self._data[key]
        if not check(value):
            raise ConfigError(f"{self._where(key)}: expected {expected}, got {value!r}")
        return value

    def string(self, key: str, *, form: Form | None = None, default: str = _MISSING) -> str:
        value: str = self._get(
            key,
            default,
            lambda v: isinstance(v, str) and (form is None or form.matches(v)),
            form.description if form else "a string",
        )
        return value

    def string_list(self, key: str, *, form: Form, unique: bool = True) -> tuple[str, ...]:
        value: list[str] = self._get(
            key,
            _MISSING,
            lambda v: (
                isinstance(v, list)
                and len(v) > 0
                and all(isinstance(item, str) and form.matches(item) for item in v)
            ),
            f"a non-empty list, each {form.description}",
        )
        if unique and len(set(value)) != len(value):
            raise ConfigError(f"{self._where(key)}: contains duplicates")
        return tuple(value)

    def integer(
        self,
        key: str,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
        default: int = _MISSING,
    ) -> int:
        value: int = self._get(
            key,
            default,
            lambda v: isinstance(v, int) and not isinstance(v, bool),
            "an integer",
        )
        self._check_range(key, value, minimum, maximum)
        return value

    def optional_integer(self, key: str, *, minimum: int, maximum: int) -> int | None:
        if self._data.get(key) is None:
            self._used.add(key)
            return None
        return self.integer(key, minimum=minimum, maximum=maximum)

    def number(
        self,
        key: str,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        default: float = _MISSING,
    ) -> float:
        value = self._get(
            key,
            default,
            lambda v: isinstance(v, int | float) and not isinstance(v, bool),
            "a number",
        )
        self._check_range(key, value, minimum, maximum)
        return float(value)

    def boolean(self, key: str) -> bool:
        value: bool = self._get(key, _MISSING, lambda v: isinstance(v, bool), "true or false")
        return value

    def env_value(self, key: str) -> str:
        """An environment variable value: strings as they are, JSON for anything else."""
        value = self._get(
            key,
            _MISSING,
            lambda v: isinstance(v, str | int | float | bool | list | dict),
            "a string, number, boolean, list or object",
        )
        if isinstance(value, str):
            return value
        # Booleans become "true"/"false", which both the Python and the Rust readers accept.
        return json.dumps(value, separators=(",", ":"))

    def mapping(self, key: str) -> Mapping[str, Any]:
        value: Mapping[str, Any] = self._get(
            key, _MISSING, lambda v: isinstance(v, Mapping), "an object"
        )
        return value

    def child(self, key: str, *, default: Mapping[str, Any] = _MISSING) -> ContextReader:
        value: Mapping[str, Any] = self._get(
            key, default, lambda v: isinstance(v, Mapping), "an object"
        )
        return ContextReader(value, self._where(key))

    def finish(self) -> None:
        unknown = sorted(set(self._data) - self._used)
        if unknown:
            raise ConfigError(f"{self.path}: unknown key(s) {', '.join(unknown)}")

    def _check_range(
        self, key: str, value: float, minimum: float | None, maximum: float | None
    ) -> None:
        if minimum is not None and value < minimum:
            raise ConfigError(f"{self._where(key)}: {value} is below the minimum {minimum}")
        if maximum is not None and value > maximum:
            raise ConfigError(f"{self._where(key)}: {value} is above the maximum {maximum}")
