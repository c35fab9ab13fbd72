"""Checks the committed JSON Schemas against what the service does, with a standard validator
(jsonschema, Draft 2020-12): every committed example passes its schema, and every poison-corpus
event that the service dead-letters fails its schema, except the classes listed in
NOT_IN_SCHEMA (checks no JSON Schema can state). Run by CI: scripts/check-schemas."""
import glob
import json
import os
import sys

import jsonschema

ROOT = os.path.join(os.path.dirname(__file__), "..")
SCHEMA_OF = {
    "se.brygga.organisation.registered.v1": "organisation.v1",
    "se.brygga.organisation.updated.v1": "organisation.v1",
    "se.brygga.organisation.removed.v1": "removed.v1",
    "se.brygga.call.published.v1": "call.v1",
    "se.brygga.call.updated.v1": "call.v1",
    "se.brygga.call.closed.v1": "removed.v1",
    "se.brygga.organisation.preferences.updated.v1": "preferences.v1",
    "se.brygga.recommendation.feedback.v1": "feedback.v1",
}
# Refused by the service for reasons a schema cannot express: checksums, characters inside
# strings, the subject an event arrives on, byte sizes, calendar dates, relations between fields.
NOT_IN_SCHEMA = {
    "call-bad-trl",  # a reversed range, [7, 3]
    "call-impossible-date",  # 2026-02-30: the pattern holds, the calendar does not
    "call-opens-after-deadline",
    "call-on-organisation-subject",  # the subject is not in the event
    "registration-on-made-up-subject",
    "registration-on-removed-subject",
    "org-number-checksum",  # the Luhn check digit
    "oversized",  # bytes on the wire, not a field
    "preferences-bad-address",  # the shape of an e-mail address
    "preferences-javascript-webhook",  # a URL's scheme
    "feedback-wrong-recommendation",  # the id derived from organisation and target
}


def schema(stem):
    with open(os.path.join(ROOT, "schemas", f"{stem}.schema.json")) as f:
        return jsonschema.Draft202012Validator(json.load(f))


def main():
    failures = []
    for path in sorted(glob.glob(os.path.join(ROOT, "schemas", "examples", "*.json"))):
        with open(path) as f:
            ev = json.load(f)
        errors = list(schema(SCHEMA_OF[ev["type"]]).iter_errors(ev))
        if errors:
            failures.append(f"{os.path.basename(path)} fails its schema: {errors[0].message}")
    passed_schema = set()
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "poison", "*.json"))):
        with open(path) as f:
            case = json.load(f)
        ev = case.get("event")
        if ev is None:
            continue  # raw bytes, not JSON: no schema to speak of
        if isinstance(ev, str):
            try:
                ev = json.loads(ev)
            except ValueError:
                continue  # not JSON at all: no schema to speak of
        stem = SCHEMA_OF.get(ev.get("type") if isinstance(ev, dict) else None)
        if stem is None:
            continue  # unknown type: refused before any schema
        if schema(stem).is_valid(ev):
            passed_schema.add(case["class"])
    unexpected = passed_schema - NOT_IN_SCHEMA
    if unexpected:
        failures.append("dead-lettered by the service but valid by the schema: " + ", ".join(sorted(unexpected)))
    if failures:
        print("\n".join(failures))
        sys.exit(1)
    print(f"schemas: examples valid; poison classes the schema cannot state: {len(passed_schema)}: {', '.join(sorted(passed_schema))}")


main()
