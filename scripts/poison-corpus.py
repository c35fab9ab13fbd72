#!/usr/bin/env python3
"""Writes tests/poison/: one file per class of bad inbound event, each with the subject it is
published on, the reason_code Brygga must dead-letter it with, and words its reason must hold.
The events start from the project's own examples in schemas/examples/. Run it again after a
contract change; `tests/e2e` (`poison_corpus_is_dead_lettered_with_its_reason`) replays them."""
import copy, json, pathlib

root = pathlib.Path(__file__).resolve().parent.parent
ex = lambda f: json.loads((root / "schemas/examples" / f).read_text())
ORG, CALL, CLOSED = ex("organisation.registered.json"), ex("call.published.json"), ex("call.closed.json")
PREFS = ex("organisation.preferences.updated.json")
FEEDBACK = ex("recommendation.feedback.json")
out = root / "tests/poison"
out.mkdir(exist_ok=True)
for old in out.glob("*.json"):
    old.unlink()
cases = []

def case(name, code, subject, event=None, raw=None, contains=()):
    c = {"class": name, "reason_code": code, "subject": subject, "reason_contains": list(contains)}
    if raw is not None:
        c["payload_raw"] = raw
    else:
        c["event"] = event
    cases.append(c)

def with_data(base, **changes):
    """`base` with these `data` fields set (None removes one)."""
    e = copy.deepcopy(base)
    for k, v in changes.items():
        if v is None:
            e["data"].pop(k, None)
        else:
            e["data"][k] = v
    return e

org = lambda **changes: with_data(ORG, **changes)
call = lambda **changes: with_data(CALL, **changes)

def env(e, **changes):
    e = copy.deepcopy(e)
    for k, v in changes.items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = v
    return e

R, C = "organisation.registered", "call.published"
# The envelope and the bytes.
case("malformed-json-truncated", "malformed_json", R, raw='{"specversion": "1.0", "id": ')
case("empty-payload", "malformed_json", R, raw="")
case("not-an-object", "bad_envelope", R, raw="[1, 2, 3]")
case("specversion-0-3", "bad_envelope", R, env(ORG, specversion="0.3"), contains=["specversion"])
case("missing-specversion", "bad_envelope", R, env(ORG, specversion=None), contains=["specversion"])
case("missing-id", "bad_envelope", R, env(ORG, id=None), contains=["id"])
case("empty-id", "bad_envelope", R, env(ORG, id=" "), contains=["must not be empty"])
case("missing-source", "bad_envelope", R, env(ORG, source=None), contains=["source"])
case("missing-type", "bad_envelope", R, env(ORG, type=None), contains=["type"])
case("missing-data", "bad_envelope", R, env(ORG, data=None), contains=["data"])
case("control-character-in-id", "bad_envelope", R, env(ORG, id="ev\u0000nul"), contains=["id", "U+0000"])
case("datacontenttype-xml", "bad_envelope", R, env(ORG, datacontenttype="application/xml"), contains=["datacontenttype"])
case("unknown-type", "unknown_type", R, env(ORG, type="se.brygga.organisation.exploded.v1"), contains=["exploded"])
case("unsupported-version", "unsupported_version", R, env(ORG, type="se.brygga.organisation.registered.v7"), contains=["v7"])
case("oversized", "oversized", R, org(description="x" * 20000), contains=["exceeds the limit"])
case("registration-on-removed-subject", "bad_envelope", "organisation.removed", ORG, contains=["subject", "organisation.registered"])
case("registration-on-made-up-subject", "bad_envelope", "organisation.exploded", ORG, contains=["subject"])
case("call-on-organisation-subject", "bad_envelope", R, CALL, contains=["subject"])
# Organisations.
case("org-missing-name", "invalid_payload", R, org(name=None), contains=["data.name: missing"])
case("org-several-shape-errors", "invalid_payload", R, org(version="seven", kind=5, keywords="hav", name=None),
     contains=["data.version: must be an integer", "data.kind: must be a string", "data.keywords: must be an array", "data.name: missing"])
case("org-empty-name", "invalid_payload", R, org(name="  "), contains=["name: must not be empty"])
case("org-name-too-long", "invalid_payload", R, org(name="N" * 301), contains=["name: is 301 characters"])
case("org-name-nul", "invalid_payload", R, org(name="Havsöga\u0000AB"), contains=["name: contains the control character U+0000"])
case("org-name-bidi-override", "invalid_payload", R, org(name="Havsöga \u202eBA"), contains=["U+202E"])
case("org-description-bell", "invalid_payload", R, org(description="Sensorer\u0007 i havet"), contains=["description", "U+0007"])
case("org-too-many-keywords", "invalid_payload", R, org(keywords=["k"] * 101), contains=["keywords: has 101 entries"])
case("org-keyword-too-long", "invalid_payload", R, org(keywords=["k" * 201]), contains=["keywords[0]"])
case("org-bad-country", "invalid_payload", R, org(country="XX"), contains=["country:"])
case("org-bad-nace", "invalid_payload", R, org(nace=["99.99"]), contains=["nace:"])
case("org-bad-sni", "invalid_payload", R, org(sni=["99999"]), contains=["sni:"])
case("org-number-checksum", "invalid_payload", R, org(org_number="559912-3452"), contains=["org_number:", "checksum"])
case("org-bad-kind", "invalid_payload", R, org(kind="pirate"), contains=["kind:"])
case("org-bad-language", "invalid_payload", R, org(preferred_language="de"), contains=["preferred_language:"])
case("org-bad-mission", "invalid_payload", R, org(interests={"missions": ["moon"], "themes": []}), contains=["interests.missions:"])
case("org-bad-nuts", "invalid_payload", R, org(nuts="SE-221!"), contains=["nuts:"])
case("org-version-beyond-i64", "invalid_payload", R, org(version=9223372036854775808), contains=["version: 9223372036854775808 exceeds"])
case("org-negative-version", "invalid_payload", R, org(version=-1), contains=["version"])
case("org-unknown-field", "invalid_payload", R, org(shoe_size=44), contains=["shoe_size"])
case("org-subject-unsafe-id", "invalid_payload", R, org(id="org.with.dots"), contains=["id:"])
case("org-every-fault-named", "invalid_payload", R, org(name="", country="XX", kind="pirate", nace=["00.00"]),
     contains=["name:", "country:", "kind:", "nace:"])
# Calls.
case("call-javascript-url", "invalid_payload", C, call(url="javascript:alert(document.cookie)"), contains=["url:", "javascript"])
case("call-data-url", "invalid_payload", C, call(url="data:text/html,<script>1</script>"), contains=["url:"])
case("call-relative-url", "invalid_payload", C, call(url="/topic-details/x"), contains=["url:"])
case("call-date-without-zeros", "invalid_payload", C, call(deadlines=["2026-9-3"]), contains=["deadlines:", "2026-9-3"])
case("call-impossible-date", "invalid_payload", C, call(deadlines=["2026-02-30"]), contains=["deadlines:"])
case("call-three-deadlines", "invalid_payload", C, call(deadlines=["2026-10-01", "2026-11-01", "2026-12-01"]), contains=["at most two"])
case("call-opens-after-deadline", "invalid_payload", C, call(opening_date="2027-01-01", deadlines=["2026-10-01"]), contains=["opening_date:"])
case("call-bad-trl", "invalid_payload", C, call(trl=[7, 3]), contains=["trl:"])
case("call-bad-status", "invalid_payload", C, call(status="maybe"), contains=["status:"])
case("call-bad-programme", "invalid_payload", C, call(programme="moonshot"), contains=["programme:"])
case("call-missing-title", "invalid_payload", C, call(title=None), contains=["data.title: missing"])
case("call-title-bidi-isolate", "invalid_payload", C, call(title="Ocean \u2066testing\u2069 sites"), contains=["title:", "U+2066"])
case("call-every-fault-named", "invalid_payload", C, call(url="ftp://x.org/a", status="maybe", trl=[0, 12]),
     contains=["url:", "status:", "trl:"])
# Removals and closures.
case("closed-version-beyond-i64", "invalid_payload", "call.closed", env(CLOSED, data={"id": "HORIZON-MISS-2026-03-OCEAN-04", "version": 18446744073709551615}), contains=["version:"])
case("closed-bad-id-and-version", "invalid_payload", "call.closed", env(CLOSED, data={"id": "a b", "version": 9223372036854775808}), contains=["id:", "version:"])
case("removed-reason-with-nul", "invalid_payload", "organisation.removed",
     env(ORG, type="se.brygga.organisation.removed.v1", data={"id": "sample-havsoga", "version": 9, "reason": "gone\u0000"}), contains=["reason:"])
# Notification preferences: every field named, and the address never quoted back.
P = "organisation.preferences.updated"
prefs = lambda **changes: with_data(PREFS, **changes)
case("preferences-every-fault-named", "invalid_payload", P,
     prefs(channel="sms", cadence="hourly", language="fi", opt_out={"all": False, "kinds": ["spam"]}),
     contains=["channel:", "cadence:", "language:", "opt_out.kinds[0]:"])
case("preferences-bad-address", "invalid_payload", P, prefs(address="kontakt at example.se"),
     contains=["address:", "not an e-mail address"])
case("preferences-javascript-webhook", "invalid_payload", P, prefs(channel="webhook", address="javascript:alert(1)"),
     contains=["address:", "scheme"])
# Feedback: every field named; a recommendation id that is not this organisation's and target's.
F = "recommendation.feedback"
feedback = lambda **changes: with_data(FEEDBACK, **changes)
case("feedback-every-fault-named", "invalid_payload", F,
     feedback(feedback="meh", target={"kind": "planet", "id": "x"}, version=-1),
     contains=["feedback:", "target", "version"])
case("feedback-wrong-recommendation", "invalid_payload", F,
     feedback(recommendation_id="00000000-0000-0000-0000-000000000000"), contains=["recommendation_id:"])

for c in cases:
    (out / f"{c['class']}.json").write_text(json.dumps(c, ensure_ascii=False, indent=1) + "\n")
print(f"{len(cases)} poison classes written to {out.relative_to(root)}")
