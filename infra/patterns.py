"""Sets of paths (or hosts) described by ALB patterns and Falcon route templates, compared exactly.

ALB path and host patterns know two wildcards: ``*`` (any run of characters, ``/`` included,
possibly empty) and ``?`` (exactly one character). A Falcon template's ``{field}`` is one or more
characters other than ``/``. Each pattern is a small automaton; ``witness`` explores the product
of several of them and returns the shortest string that all of ``inside`` match and none of
``outside`` does. Overlap, inclusion and "taken but not served" are all that one search.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

TokenKind = Literal["char", "any_one", "any_run", "segment_one", "segment_run"]


@dataclass(frozen=True)
class _Token:
    kind: TokenKind
    char: str = ""

    def accepts(self, char: str) -> bool:
        if self.kind == "char":
            return char == self.char
        if self.kind in ("segment_one", "segment_run"):
            return char != "/"
        return True

    @property
    def repeats(self) -> bool:
        return self.kind in ("any_run", "segment_run")


@dataclass(frozen=True)
class Pattern:
    """A set of strings: an ALB pattern or a Falcon route template, as a token sequence."""

    source: str
    tokens: tuple[_Token, ...]

    @property
    def literals(self) -> set[str]:
        return {token.char for token in self.tokens if token.kind == "char"}


def alb(pattern: str) -> Pattern:
    tokens = []
    for char in pattern:
        if char == "*":
            tokens.append(_Token("any_run"))
        elif char == "?":
            tokens.append(_Token("any_one"))
        else:
            tokens.append(_Token("char", char))
    return Pattern(pattern, tuple(tokens))


def alb_non_empty(pattern: str) -> Pattern:
    """``pattern`` with every ``*`` matching at least one character: nicer example requests."""
    return alb(pattern.replace("*", "?*"))


_FIELD = re.compile(r"\{[^}]*\}")


def falcon(template: str) -> Pattern:
    tokens: list[_Token] = []
    for index, part in enumerate(_FIELD.split(template)):
        if index:
            tokens += [_Token("segment_one"), _Token("segment_run")]
        tokens += [_Token("char", char) for char in part]
    return Pattern(template, tuple(tokens))


def witness(inside: Sequence[Pattern], outside: Sequence[Pattern] = ()) -> str | None:
    """The shortest string every ``inside`` pattern matches and no ``outside`` pattern does."""
    if not inside:
        raise ValueError("witness needs at least one pattern the string must match")
    patterns = [*inside, *outside]
    alphabet = _alphabet(patterns)
    start = tuple(_closure(pattern, {0}) for pattern in patterns)
    previous: dict[tuple[frozenset[int], ...], tuple[tuple[frozenset[int], ...], str] | None] = {
        start: None
    }
    queue = deque([start])
    while queue:
        state = queue.popleft()
        if _accepting(state, patterns, len(inside)):
            return _spell(state, previous)
        for char in alphabet:
            following = tuple(
                _step(pattern, positions, char)
                for pattern, positions in zip(patterns, state, strict=True)
            )
            # A string no longer matching an inside pattern never will.
            if any(not positions for positions in following[: len(inside)]):
                continue
            if following not in previous:
                previous[following] = (state, char)
                queue.append(following)
    return None


def overlap(a: Pattern, b: Pattern) -> bool:
    return witness([a, b]) is not None


def covered(pattern: Pattern, by: Iterable[Pattern]) -> bool:
    """Whether every string ``pattern`` matches is matched by one of ``by``."""
    return witness([pattern], list(by)) is None


def _alphabet(patterns: Sequence[Pattern]) -> list[str]:
    literals = set().union(*(pattern.literals for pattern in patterns)) | {"/"}
    # One character no pattern names stands for all of them: they behave alike everywhere.
    other = next(char for char in "abcdefghijklmnopqrstuvwxyz0123456789" if char not in literals)
    # It goes first, so example strings read as paths ("/v2/stamps/b/score/b/history").
    return [other, *sorted(literals)]


def _closure(pattern: Pattern, positions: Iterable[int]) -> frozenset[int]:
    """Positions reachable without reading: a repeating token may match nothing more."""
    reached = set(positions)
    stack = list(reached)
    while stack:
        position = stack.pop()
        skippable = position < len(pattern.tokens) and pattern.tokens[position].repeats
        if skippable and position + 1 not in reached:
            reached.add(position + 1)
            stack.append(position + 1)
    return frozenset(reached)


def _step(pattern: Pattern, positions: frozenset[int], char: str) -> frozenset[int]:
    following = set()
    for position in positions:
        if position == len(pattern.tokens):
            continue
        token = pattern.tokens[position]
        if token.accepts(char):
            following.add(position if token.repeats else position + 1)
    return _closure(pattern, following)


def _accepting(state: tuple[frozenset[int], ...], patterns: Sequence[Pattern], inside: int) -> bool:
    ends = [
        len(pattern.tokens) in positions for pattern, positions in zip(patterns, state, strict=True)
    ]
    return all(ends[:inside]) and not any(ends[inside:])


def _spell(
    state: tuple[frozenset[int], ...],
    previous: dict[tuple[frozenset[int], ...], tuple[tuple[frozenset[int], ...], str] | None],
) -> str:
    chars = []
    link = previous[state]
    while link is not None:
        state, char = link
        chars.append(char)
        link = previous[state]
    return "".join(reversed(chars))
