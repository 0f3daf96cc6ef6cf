"""Print the spans of OTLP/HTTP trace export bodies as JSON (run with the layer on PYTHONPATH,
whose opentelemetry-proto and protobuf decode them)."""

import json
import sys

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest


def _value(value):  # type: ignore[no-untyped-def]
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


spans = []
for path in sys.argv[1:]:
    request = ExportTraceServiceRequest()
    with open(path, "rb") as handle:
        request.ParseFromString(handle.read())
    for resource_spans in request.resource_spans:
        resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(
                    {
                        "name": span.name,
                        "kind": span.kind,
                        "scope": scope_spans.scope.name,
                        "trace_id": span.trace_id.hex(),
                        "span_id": span.span_id.hex(),
                        "parent_span_id": span.parent_span_id.hex(),
                        "attributes": {a.key: _value(a.value) for a in span.attributes},
                        "resource": resource,
                    }
                )
json.dump(spans, sys.stdout)
