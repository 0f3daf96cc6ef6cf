"""The handler the ADOT layer's exec wrapper names (/opt/python/otel_wrapper.py), as the layer
release 1.29.0 has it: instrument the Lambda handler, then load the function's own handler
(``ORIG_HANDLER``) and expose it as ``lambda_handler``."""

import os
from importlib import import_module

from opentelemetry.instrumentation.aws_lambda import AwsLambdaInstrumentor

AwsLambdaInstrumentor().instrument()

_handler_path = os.environ.get("ORIG_HANDLER")
if not _handler_path or "." not in _handler_path:
    raise RuntimeError(f"ORIG_HANDLER is not a module.function path: {_handler_path!r}")
_module_name, _function_name = _handler_path.rsplit(".", 1)
lambda_handler = getattr(import_module(_module_name.replace("/", ".")), _function_name)
