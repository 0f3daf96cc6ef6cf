"""The bundle checks: handler present, platform of every extension and wheel, size limit."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra import bundling
from infra.bundling import check_bundle, pip_install_command

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
