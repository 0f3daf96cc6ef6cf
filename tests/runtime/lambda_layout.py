"""A Lambda Python runtime with the ADOT layer, laid out in a folder instead of at / .

    root/var/task       the function's bundle (infra.bundling.build_bundle, for this machine)
    root/opt/python     the ADOT layer's packages (adot_python_layer/*requirements.txt)
    root/opt/otel-instrument   the layer's exec wrapper (adot_python_layer/otel-instrument)
    root/var/runtime    the runtime's bootstrap (lambda_bootstrap.py)
    root/var/lang       the runtime's interpreter: a venv of this machine's Python, with the
                        boto3 the runtime ships in its own site-packages

``invoke`` starts it the way Lambda does with ``AWS_LAMBDA_EXEC_WRAPPER`` set: the wrapper runs
with the interpreter and the bootstrap as arguments, in ``/var/task``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.bundling import HANDLER, REPO_ROOT, build_bundle

HERE = Path(__file__).resolve().parent
LAYER_FILES = HERE / "adot_python_layer"
FUNCTION_NAME = "scorer-runtime-test"


@dataclass(frozen=True)
class Runtime:
    root: Path

    @property
    def task(self) -> Path:
        return self.root / "var" / "task"

    @property
    def opt(self) -> Path:
        return self.root / "opt"

    @property
    def runtime_dir(self) -> Path:
        return self.root / "var" / "runtime"

    @property
    def lang(self) -> Path:
        return self.root / "var" / "lang"

    @property
    def python(self) -> Path:
        return self.lang / "bin" / "python3"

    def site_packages(self) -> Path:
        version = f"python{sys.version_info.major}.{sys.version_info.minor}"
        return self.lang / "lib" / version / "site-packages"


def lay_out(root: Path) -> Runtime:
    runtime = Runtime(root)
    build_bundle(runtime.task, host=True)
    _install_layer(runtime.opt)
    venv.create(runtime.lang, with_pip=False, symlinks=True)
    _pip("--target", str(runtime.site_packages()), f"boto3=={_pinned('boto3')}")
    runtime.runtime_dir.mkdir(parents=True)
    shutil.copy(HERE / "lambda_bootstrap.py", runtime.runtime_dir / "bootstrap.py")
    return runtime


def invoke(
    runtime: Runtime, events: list[dict[str, Any]], environment: dict[str, str], work: Path
) -> tuple[dict[str, Any], str]:
    """Run the events through the handler; the bootstrap's result and the process's output."""
    events_file, result_file = work / "events.json", work / "result.json"
    events_file.write_text(json.dumps(events), encoding="utf-8")
    wrapper = runtime.opt / "otel-instrument"
    env = {
        # The runtime's interpreter is the python3 the wrapper execs.
        "PATH": f"{runtime.lang / 'bin'}:/usr/bin:/bin",
        "HOME": str(work),
        "LAMBDA_TASK_ROOT": str(runtime.task),
        "LAMBDA_RUNTIME_DIR": str(runtime.runtime_dir),
        "ADOT_LAYER_ROOT": str(runtime.opt),
        "AWS_LAMBDA_EXEC_WRAPPER": str(wrapper),
        "_HANDLER": HANDLER,
        "AWS_REGION": "us-west-2",
        "AWS_DEFAULT_REGION": "us-west-2",
        "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{FUNCTION_NAME}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/12/01/[$LATEST]runtime-test",
        **environment,
    }
    process = subprocess.run(
        [str(wrapper), str(runtime.python), str(runtime.runtime_dir / "bootstrap.py"),
         str(events_file), str(result_file)],
        cwd=runtime.task, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    output = process.stdout + process.stderr
    if not result_file.is_file():
        raise AssertionError(f"the runtime exited {process.returncode} without a result:\n{output}")
    result: dict[str, Any] = json.loads(result_file.read_text(encoding="utf-8"))
    return result, output


def decode_traces(runtime: Runtime, bodies: list[bytes], work: Path) -> list[dict[str, Any]]:
    """Spans of OTLP/HTTP trace export bodies, decoded with the layer's own protobuf classes."""
    files = []
    for number, body in enumerate(bodies):
        path = work / f"traces-{number}.pb"
        path.write_bytes(body)
        files.append(str(path))
    process = subprocess.run(
        [str(runtime.python), str(HERE / "otlp_decode.py"), *files],
        env={"PYTHONPATH": str(runtime.opt / "python"), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    spans: list[dict[str, Any]] = json.loads(process.stdout)
    return spans


def _install_layer(opt: Path) -> None:
    layer = opt / "python"
    _pip("--target", str(layer), "-r", str(LAYER_FILES / "requirements.txt"))
    # As the layer's Dockerfile does it: these go in --no-deps to a folder of their own and are
    # copied over (pip --target --upgrade would replace the whole opentelemetry folder).
    nodeps = opt / "nodeps"
    _pip("--no-deps", "--target", str(nodeps), "-r", str(LAYER_FILES / "nodeps-requirements.txt"))
    shutil.copytree(nodeps, layer, dirs_exist_ok=True)
    shutil.rmtree(nodeps)
    shutil.copy(LAYER_FILES / "otel_wrapper.py", layer / "otel_wrapper.py")
    # The runtime ships its own AWS SDK and urllib3; the layer deletes its copies.
    for pattern in ("boto*", "urllib3*"):
        for path in layer.glob(pattern):
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    shutil.copy(LAYER_FILES / "otel-instrument", opt / "otel-instrument")
    (opt / "otel-instrument").chmod(0o755)


def _pip(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--quiet",
         "--no-compile", *args],
        check=True, capture_output=True, text=True,
    )  # fmt: skip


def _pinned(package: str) -> str:
    for line in (REPO_ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        name, _, version = line.partition("==")
        if name.strip().lower() == package:
            return version.strip()
    raise AssertionError(f"{package} is not pinned in requirements.txt")
