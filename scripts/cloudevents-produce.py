"""Produces Brygga inbound events with the CloudEvents Python SDK (an implementation
independent of Brygga's), in both content modes of the HTTP binding, whose `ce-` headers the
NATS binding shares. Reads a JSON list of {"type", "id", "data", "traceparent"?} on stdin and
prints a JSON list of {"mode", "headers", "body"} (body as text) for each, binary then
structured. Used by tests/e2e/tests/e2e/cloudevents_sdk.rs."""
import json
import sys

from cloudevents.core.bindings import http
from cloudevents.core.v1.event import CloudEvent

out = []
for spec in json.load(sys.stdin):
    attributes = {"type": spec["type"], "source": "urn:example:python-sdk", "id": spec["id"],
                  "datacontenttype": "application/json"}
    if spec.get("traceparent"):
        attributes["traceparent"] = spec["traceparent"]
    event = CloudEvent(attributes=attributes, data=spec["data"])
    for mode, message in (("binary", http.to_binary_event(event)), ("structured", http.to_structured_event(event))):
        out.append({"mode": mode, "id": spec["id"], "headers": dict(message.headers),
                    "body": message.body.decode("utf-8")})
json.dump(out, sys.stdout)
