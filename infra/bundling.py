"""Builds and checks the Lambda code bundle without Docker.

The bundle is the ``service/`` package plus the wheels of ``service/requirements.txt``, which pip
downloads for the Lambda platform (Linux arm64, CPython 3.12) whatever machine runs it. CDK's
asset bundling (``scorer_code.py``, on ``cdk deploy``) and ``make package`` both call
``build_bundle`` and ``check_bundle``, so they produce the same directory. Nothing here imports
CDK: packaging works without starting the jsii runtime.

Where a CPython 3.12 runs on the packaging machine (``$LAMBDA_PYTHON``, or ``python3.12`` on the
PATH), it compiles the bundle's byte code: Lambda's code folder is read-only, so byte code that
is not in the bundle is compiled again on every cold start (ADR-0051).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVICE_DIR = REPO_ROOT / "service"
REQUIREMENTS_FILE = "requirements.txt"

HANDLER = "service.lambda_handler.handler"
HANDLER_MODULE = Path("service") / "lambda_handler.py"

# Must match the function's runtime and architecture (scorer_function.py).
PYTHON_VERSION = "3.12"
# Byte code is specific to the interpreter's minor version: only a CPython 3.12 can compile it.
RUNTIME_PYTHON_ENV = "LAMBDA_PYTHON"
RUNTIME_PYTHON_COMMAND = f"python{PYTHON_VERSION}"
# The bundle never changes once built: no check of the source at import (ADR-0051).
BYTE_CODE_INVALIDATION = "unchecked-hash"
CPYTHON_TAG = "cp312"
ARCHITECTURE = "aarch64"
# The python3.12 runtime runs on Amazon Linux 2023 (glibc 2.34). pip does not widen a
# manylinux_2_x platform to older ones by itself, so every accepted level is listed.
PIP_PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64", "manylinux_2_34_aarch64")

# Lambda's limit on the unzipped function code, layers included.
UNZIPPED_LIMIT_BYTES = 262_144_000

# Interpreter caches: never part of the asset or its hash.
CACHE_PATTERNS = ("__pycache__", "*.pyc")
# Left out of the bundle's service/ copy: caches and the requirements file pip already consumed.
BUNDLE_EXCLUDES = (*CACHE_PATTERNS, REQUIREMENTS_FILE)

_ELF_MAGIC = b"\x7fELF"
_EM_AARCH64 = 183


class BundleError(RuntimeError):
    """The bundle could not be built, or is not fit for the Lambda runtime."""


@dataclass(kw_only=True)
class BundleReport:
    size_bytes: int
    files: int
    problems: list[str] = field(default_factory=list)
    # Python modules of the bundle, and how many of them carry the runtime's byte code.
    modules: int = 0
    compiled_modules: int = 0

    @property
    def byte_code_note(self) -> str:
        if self.modules and self.compiled_modules == self.modules:
            return f"byte code for CPython {PYTHON_VERSION}: all {self.modules} modules"
        return (
            f"byte code for CPython {PYTHON_VERSION}: {self.compiled_modules} of {self.modules}"
            f" modules; every Lambda cold start compiles the rest (set {RUNTIME_PYTHON_ENV} to"
            f" a CPython {PYTHON_VERSION}, or put {RUNTIME_PYTHON_COMMAND} on the PATH)"
        )

    @property
    def size_mb(self) -> float:
        return self.size_bytes / 1_000_000


def pip_install_command(output_dir: Path, requirements: Path, *, host: bool = False) -> list[str]:
    """pip's command for the bundle's dependencies: for the Lambda platform, or with ``host``
    for this machine (tests/runtime runs the bundle here; only the CPU may differ)."""
    if host:
        return [
            sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--quiet",
            "--no-compile", "--target", str(output_dir), "-r", str(requirements),
        ]  # fmt: skip
    platforms = [arg for platform in PIP_PLATFORMS for arg in ("--platform", platform)]
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--quiet",
        *platforms,
        "--implementation",
        "cp",
        "--python-version",
        PYTHON_VERSION,
        "--only-binary=:all:",
        # Byte code compiled here would not match the runtime's interpreter; Lambda compiles lazily.
        "--no-compile",
        "--target",
        str(output_dir),
        "-r",
        str(requirements),
    ]


def build_bundle(
    output_dir: Path,
    *,
    service_dir: Path = SERVICE_DIR,
    host: bool = False,
    compiler: str | None = None,
) -> None:
    """Fill ``output_dir`` (created if missing) with the dependencies and ``service/``, and
    compile it with ``compiler`` (a CPython 3.12; by default `runtime_python()`'s) when there is
    one. A ``host`` bundle, for this machine's interpreter, is left to compile as it runs."""
    requirements = service_dir / REQUIREMENTS_FILE
    if not requirements.is_file():
        raise BundleError(f"{requirements} not found")
    output_dir.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        pip_install_command(output_dir, requirements, host=host),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BundleError(
            "pip could not install the service requirements for "
            f"{', '.join(PIP_PLATFORMS)} / CPython {PYTHON_VERSION}:\n{result.stderr}"
        )
    shutil.copytree(
        service_dir,
        output_dir / "service",
        ignore=shutil.ignore_patterns(*BUNDLE_EXCLUDES),
        dirs_exist_ok=True,
    )
    if host:
        return
    compiler = compiler or runtime_python()
    if compiler is not None:
        compile_bundle(output_dir, compiler)


def runtime_python() -> str | None:
    """A CPython of the runtime's minor version on this machine: ``$LAMBDA_PYTHON`` (an error if
    it is not one), else ``python3.12`` on the PATH if it runs and is one; None otherwise."""
    configured = os.environ.get(RUNTIME_PYTHON_ENV)
    if configured:
        version = _python_version(configured)
        if version != PYTHON_VERSION:
            found = "does not run" if version is None else f"is CPython {version}"
            raise BundleError(
                f"{RUNTIME_PYTHON_ENV}={configured} {found}; the runtime is CPython "
                f"{PYTHON_VERSION}, whose byte code only a {PYTHON_VERSION} can compile"
            )
        return configured
    on_path = shutil.which(RUNTIME_PYTHON_COMMAND)
    # A version manager's shim may be on the PATH without the version behind it.
    if on_path is not None and _python_version(on_path) == PYTHON_VERSION:
        return on_path
    return None


def _python_version(interpreter: str) -> str | None:
    """ "3.12" for a CPython 3.12; None if it does not run or is not CPython."""
    probe = (
        "import sys, platform; "
        "print(platform.python_implementation(), '%d.%d' % sys.version_info[:2])"
    )
    try:
        result = subprocess.run(
            [interpreter, "-c", probe], capture_output=True, text=True, check=False, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    implementation, _, version = result.stdout.strip().partition(" ")
    if result.returncode != 0 or implementation != "CPython":
        return None
    return version


def compile_bundle(bundle_dir: Path, interpreter: str) -> None:
    """Byte code for every module of the bundle, by ``interpreter``, with hash-based pycs that
    are never checked against their source (the bundle is immutable; ADR-0051)."""
    result = subprocess.run(
        [
            interpreter,
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            "--invalidation-mode",
            BYTE_CODE_INVALIDATION,
            str(bundle_dir),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    # compileall exits 1 when a file does not compile: some packages ship files that never
    # load (templates, leftovers for other Python versions). `check_bundle` holds the service's
    # own modules to having byte code.
    if result.returncode not in (0, 1):
        raise BundleError(f"{interpreter} -m compileall failed:\n{result.stderr}{result.stdout}")


def check_bundle(bundle_dir: Path) -> BundleReport:
    """Measure the bundle and list every reason it would not run on the Lambda runtime."""
    size = 0
    count = 0
    problems: list[str] = []
    if not (bundle_dir / HANDLER_MODULE).is_file():
        problems.append(f"handler module {HANDLER_MODULE} is missing (handler {HANDLER})")
    modules = compiled = 0
    service_without_byte_code: list[Path] = []
    for path in _files(bundle_dir):
        count += 1
        size += path.stat().st_size
        relative = path.relative_to(bundle_dir)
        if path.suffix == ".py":
            modules += 1
            if _has_runtime_byte_code(path):
                compiled += 1
            elif relative.parts[0] == "service":
                service_without_byte_code.append(relative)
        if _is_extension(path):
            problems.extend(_extension_problems(path, relative))
        elif path.name == "WHEEL" and path.parent.name.endswith(".dist-info"):
            problems.extend(_wheel_tag_problems(path, relative))
    if compiled:
        problems.extend(
            f"{module}: no byte code for CPython {PYTHON_VERSION} (it does not compile there)"
            for module in service_without_byte_code
        )
    if size >= UNZIPPED_LIMIT_BYTES:
        problems.append(
            f"unzipped size {size:,} bytes is over Lambda's limit of {UNZIPPED_LIMIT_BYTES:,} bytes"
        )
    return BundleReport(
        size_bytes=size,
        files=count,
        problems=problems,
        modules=modules,
        compiled_modules=compiled,
    )


def _has_runtime_byte_code(module: Path) -> bool:
    return (
        module.parent / "__pycache__" / f"{module.stem}.cpython-{CPYTHON_TAG[2:]}.pyc"
    ).is_file()


def _files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path


def _is_extension(path: Path) -> bool:
    return path.suffix == ".so" or ".so." in path.name


def _extension_problems(path: Path, relative: Path) -> list[str]:
    problems = []
    with path.open("rb") as handle:
        header = handle.read(20)
    if header[:4] != _ELF_MAGIC:
        problems.append(f"{relative}: not an ELF shared object")
    elif int.from_bytes(header[18:20], "little") != _EM_AARCH64:
        problems.append(f"{relative}: compiled for another architecture than {ARCHITECTURE}")
    # Extension modules name their ABI: foo.cpython-312-aarch64-linux-gnu.so or foo.abi3.so.
    name = path.name
    if ".cpython-" in name and f".cpython-{CPYTHON_TAG[2:]}-" not in name:
        problems.append(f"{relative}: built for another Python than {PYTHON_VERSION}")
    if ".cpython-" in name and ARCHITECTURE not in name:
        problems.append(f"{relative}: extension tagged for another platform")
    return problems


def _wheel_tag_problems(wheel_file: Path, relative: Path) -> list[str]:
    # A wheel lists one Tag line per compatible interpreter (py2 and py3, say); one must fit.
    lines = wheel_file.read_text(encoding="utf-8").splitlines()
    tags = [line.removeprefix("Tag:").strip() for line in lines if line.startswith("Tag:")]
    if any(_tag_fits(tag) for tag in tags):
        return []
    return [f"{relative.parent}: wheel tags {', '.join(tags) or '(none)'} do not fit the runtime"]


def _tag_fits(tag: str) -> bool:
    python, abi, platform = tag.split("-", 2)
    if platform != "any" and ARCHITECTURE not in platform:
        return False
    if abi == "none":
        return python.startswith("py3") or python == CPYTHON_TAG
    if abi == "abi3":
        # A stable-ABI wheel built for CPython 3.x runs on any later 3.y.
        minor = python.removeprefix("cp3")
        return python.startswith("cp3") and minor.isdigit() and int(minor) <= 12
    return abi == CPYTHON_TAG
