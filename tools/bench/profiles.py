"""cProfile summaries: where the time goes, by function and by package."""

from __future__ import annotations

import cProfile
import pstats
import re
import sysconfig
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.bench.server import REPO_ROOT

_STDLIB = Path(sysconfig.get_paths()["stdlib"]).resolve()
_BUILTIN_MODULE = re.compile(r"<(?:built-in method |method '[^']*' of ')([\w.]+)")


@dataclass(frozen=True)
class Share:
    name: str
    ms_per_unit: float
    share: float  # of the profiled total


@dataclass(frozen=True)
class Profile:
    total_ms_per_unit: float  # under the profiler, so slower than unprofiled
    functions: tuple[Share, ...]  # by own time
    packages: tuple[Share, ...]  # own time summed per package or module
    cumulative: tuple[Share, ...]  # the functions asked for by name, with what they call


def profile(
    work: Callable[[], None],
    *,
    units: int,
    top: int = 10,
    cumulative_of: Mapping[str, str] | None = None,
) -> Profile:
    """Profiles `work`, reporting per unit (request, stamp). `cumulative_of` maps a label to a
    "path/suffix.py:function" whose cumulative time should be reported."""
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        work()
    finally:
        profiler.disable()
    stats = pstats.Stats(profiler)
    raw: dict[tuple[str, int, str], tuple[Any, ...]] = vars(stats)["stats"]
    total = sum(entry[2] for entry in raw.values()) or 1e-12

    def share(name: str, seconds: float) -> Share:
        return Share(name, seconds * 1000 / units, seconds / total)

    by_function = sorted(raw.items(), key=lambda item: item[1][2], reverse=True)
    functions = tuple(share(_label(key), entry[2]) for key, entry in by_function[:top])
    per_package: dict[str, float] = defaultdict(float)
    for key, entry in raw.items():
        per_package[_package(key)] += entry[2]
    packages = tuple(
        share(name, seconds)
        for name, seconds in sorted(per_package.items(), key=lambda item: item[1], reverse=True)
    )[:top]
    cumulative = []
    for label, where in (cumulative_of or {}).items():
        suffix, _, function = where.partition(":")
        seconds = sum(
            entry[3]
            for (filename, _line, name), entry in raw.items()
            if name == function and filename.endswith(suffix)
        )
        if seconds:
            cumulative.append(share(label, seconds))
    return Profile(
        total_ms_per_unit=total * 1000 / units,
        functions=functions,
        packages=packages,
        cumulative=tuple(cumulative),
    )


def _relative(filename: str) -> tuple[str, str] | None:
    """("site" | "repo" | "stdlib", the path below it) for a source file."""
    path = Path(filename)
    if "site-packages" in path.parts:
        index = path.parts.index("site-packages")
        return "site", "/".join(path.parts[index + 1 :])
    try:
        return "repo", str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        pass
    try:
        return "stdlib", str(path.resolve().relative_to(_STDLIB))
    except ValueError:
        return None


def _label(key: tuple[str, int, str]) -> str:
    filename, line, function = key
    if filename == "~":
        return function
    relative = _relative(filename)
    return f"{relative[1] if relative else filename}:{line}({function})"


def _package(key: tuple[str, int, str]) -> str:
    filename, _line, function = key
    if filename == "~":
        match = _BUILTIN_MODULE.match(function)
        module = match.group(1).split(".")[0] if match else "builtins"
        if module in ("_socket", "socket", "_ssl"):
            return "socket I/O (waiting for PostgreSQL)"
        return f"C built-ins ({module})"
    relative = _relative(filename)
    if relative is None:
        return filename
    kind, path = relative
    if kind == "repo":
        return path.removesuffix(".py").replace("/", ".")
    top = path.split("/")[0].removesuffix(".py")
    return f"stdlib {top}" if kind == "stdlib" else top
