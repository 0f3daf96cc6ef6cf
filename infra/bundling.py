"""Builds and checks the Lambda code bundle without Docker.

The bundle is the ``service/`` package plus the wheels of ``service/requirements.txt``, which pip
downloads for the Lambda platform (Linux arm64, CPython 3.12) whatever machine runs it. CDK's
asset bundling (``scorer_code.py``, on ``cdk deploy``) and ``make package`` both call
``build_bundle`` and ``check_bundle``, so they produce the same directory. Nothing here imports
CDK: packaging works without starting the jsii runtime.
"""

from __future__ import annotations

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


def build_bundle(output_dir: Path, *, service_dir: Path = SERVICE_DIR, host: bool = False) -> None:
    """Fill ``output_dir`` (created if missing) with the dependencies and ``service/``."""
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


def check_bundle(bundle_dir: Path) -> BundleReport:
    """Measure the bundle and list every reason it would not run on the Lambda runtime."""
    size = 0
    count = 0
    problems: list[str] = []
    if not (bundle_dir / HANDLER_MODULE).is_file():
        problems.append(f"handler module {HANDLER_MODULE} is missing (handler {HANDLER})")
    for path in _files(bundle_dir):
        count += 1
        size += path.stat().st_size
        relative = path.relative_to(bundle_dir)
        if _is_extension(path):
            problems.extend(_extension_problems(path, relative))
        elif path.name == "WHEEL" and path.parent.name.endswith(".dist-info"):
            problems.extend(_wheel_tag_problems(path, relative))
    if size >= UNZIPPED_LIMIT_BYTES:
        problems.append(
            f"unzipped size {size:,} bytes is over Lambda's limit of {UNZIPPED_LIMIT_BYTES:,} bytes"
        )
    return BundleReport(size_bytes=size, files=count, problems=problems)


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
