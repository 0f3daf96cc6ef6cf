"""The bundle checks: handler present, platform of every extension and wheel, size limit."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from infra import bundling
from infra.bundling import BundleError, check_bundle, pip_install_command

AARCH64 = 183
X86_64 = 62


def elf(machine: int) -> bytes:
    header = bytearray(b"\x7fELF" + bytes(16))
    header[18:20] = machine.to_bytes(2, "little")
    return bytes(header)


def wheel(root: Path, name: str, *tags: str) -> None:
    info = root / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "WHEEL").write_text(
        "Wheel-Version: 1.0\n" + "".join(f"Tag: {tag}\n" for tag in tags), encoding="utf-8"
    )


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    (tmp_path / "service").mkdir()
    (tmp_path / "service" / "lambda_handler.py").write_text("def handler(e, c): ...\n")
    wheel(tmp_path, "falcon", "cp312-cp312-manylinux_2_17_aarch64")
    wheel(tmp_path, "six", "py2-none-any", "py3-none-any")
    wheel(tmp_path, "cryptography", "cp39-abi3-manylinux_2_34_aarch64")
    (tmp_path / "falcon").mkdir()
    (tmp_path / "falcon" / "app.cpython-312-aarch64-linux-gnu.so").write_bytes(elf(AARCH64))
    return tmp_path


def test_a_bundle_for_the_runtime_passes(bundle: Path) -> None:
    report = check_bundle(bundle)
    assert report.problems == []
    assert report.files == 5
    assert report.size_bytes > 0


def test_missing_handler_module_is_reported(bundle: Path) -> None:
    (bundle / "service" / "lambda_handler.py").unlink()
    assert check_bundle(bundle).problems == [
        "handler module service/lambda_handler.py is missing "
        "(handler service.lambda_handler.handler)"
    ]


def test_extension_for_another_architecture_is_reported(bundle: Path) -> None:
    (bundle / "falcon" / "other.abi3.so").write_bytes(elf(X86_64))
    (problem,) = check_bundle(bundle).problems
    assert "falcon/other.abi3.so: compiled for another architecture" in problem


def test_extension_for_another_python_is_reported(bundle: Path) -> None:
    (bundle / "falcon" / "old.cpython-311-aarch64-linux-gnu.so").write_bytes(elf(AARCH64))
    (problem,) = check_bundle(bundle).problems
    assert "built for another Python than 3.12" in problem


@pytest.mark.parametrize(
    "tag",
    ["cp312-cp312-manylinux_2_17_x86_64", "cp311-cp311-manylinux_2_17_aarch64", "py2-none-any"],
)
def test_wheel_for_another_platform_or_python_is_reported(bundle: Path, tag: str) -> None:
    wheel(bundle, "other", tag)
    (problem,) = check_bundle(bundle).problems
    assert f"other-1.0.dist-info: wheel tags {tag} do not fit the runtime" in problem


def test_bundle_over_the_size_limit_is_reported(
    bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bundling, "UNZIPPED_LIMIT_BYTES", 10)
    (problem,) = check_bundle(bundle).problems
    assert "over Lambda's limit of 10 bytes" in problem


def test_pip_asks_for_binary_aarch64_wheels_of_python_312(tmp_path: Path) -> None:
    command = pip_install_command(tmp_path / "out", tmp_path / "requirements.txt")
    joined = " ".join(command)
    assert "--platform manylinux2014_aarch64" in joined
    assert "--implementation cp --python-version 3.12 --only-binary=:all:" in joined
    assert f"--target {tmp_path / 'out'} -r {tmp_path / 'requirements.txt'}" in joined


# --- byte code ---------------------------------------------------------------------------------

RUNTIME_PYC = "cpython-312.pyc"


def runtime_byte_code(module: Path) -> Path:
    """Where the runtime's interpreter looks for a module's byte code."""
    cache = module.parent / "__pycache__"
    cache.mkdir(exist_ok=True)
    return cache / f"{module.stem}.{RUNTIME_PYC}"


def test_a_bundle_without_byte_code_passes_and_says_every_cold_start_compiles_it(
    bundle: Path,
) -> None:
    report = check_bundle(bundle)

    assert report.problems == []
    assert (report.modules, report.compiled_modules) == (1, 0)
    assert "0 of 1 modules; every Lambda cold start compiles the rest" in report.byte_code_note
    assert "LAMBDA_PYTHON" in report.byte_code_note


def test_a_compiled_bundle_counts_its_modules_with_the_runtimes_byte_code(bundle: Path) -> None:
    runtime_byte_code(bundle / "service" / "lambda_handler.py").write_bytes(b"")
    (bundle / "falcon" / "app.py").write_text("")
    runtime_byte_code(bundle / "falcon" / "app.py").write_bytes(b"")

    report = check_bundle(bundle)

    assert report.problems == []
    assert report.byte_code_note == "byte code for CPython 3.12: all 2 modules"


def test_a_service_module_left_without_byte_code_in_a_compiled_bundle_is_reported(
    bundle: Path,
) -> None:
    (bundle / "falcon" / "app.py").write_text("")
    runtime_byte_code(bundle / "falcon" / "app.py").write_bytes(b"")

    (problem,) = check_bundle(bundle).problems

    assert problem.endswith(
        "service/lambda_handler.py: no byte code for CPython 3.12 (it does not compile there)"
    )


def test_compile_bundle_writes_byte_code_never_checked_against_its_source(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text("VALUE = 1\n")
    (tmp_path / "pkg" / "broken.py").write_text("def (:\n")  # never imported: tolerated

    bundling.compile_bundle(tmp_path, sys.executable)

    tag = sys.implementation.cache_tag
    header = (tmp_path / "pkg" / "__pycache__" / f"mod.{tag}.pyc").read_bytes()[:8]
    assert header[:4] == importlib.util.MAGIC_NUMBER
    # PEP 552 flags: hash-based (bit 0), source not checked (bit 1 clear).
    assert int.from_bytes(header[4:8], "little") == 0b01
    assert not (tmp_path / "pkg" / "__pycache__" / f"broken.{tag}.pyc").exists()


def fake_python(directory: Path, prints: str) -> Path:
    """A `python3.12` on the PATH that answers the version probe with `prints`."""
    directory.mkdir()
    script = directory / "python3.12"
    script.write_text(f"#!/bin/sh\necho '{prints}'\n")
    script.chmod(0o755)
    return script


def test_lambda_python_naming_another_python_version_stops_the_build(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LAMBDA_PYTHON", str(fake_python(tmp_path / "bin", "CPython 3.11")))

    with pytest.raises(BundleError, match=r"is CPython 3\.11; the runtime is CPython 3\.12"):
        bundling.runtime_python()


def test_lambda_python_that_does_not_run_stops_the_build(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LAMBDA_PYTHON", str(tmp_path / "no-such-python"))

    with pytest.raises(BundleError, match="does not run"):
        bundling.runtime_python()


def test_python312_on_the_path_is_the_compiler_when_it_is_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    script = fake_python(tmp_path / "bin", "CPython 3.12")
    monkeypatch.delenv("LAMBDA_PYTHON", raising=False)
    monkeypatch.setenv("PATH", str(script.parent))

    assert bundling.runtime_python() == str(script)


@pytest.mark.parametrize("prints", ["CPython 3.11", "PyPy 3.12", ""])
def test_a_python312_on_the_path_that_is_not_one_is_passed_over(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, prints: str
) -> None:
    # A version manager's shim can be on the PATH without the version behind it.
    script = fake_python(tmp_path / "bin", prints)
    monkeypatch.delenv("LAMBDA_PYTHON", raising=False)
    monkeypatch.setenv("PATH", str(script.parent))

    assert bundling.runtime_python() is None
