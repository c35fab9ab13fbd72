"""Checks that the NATS users of deploy/nats/values-prod.yaml (the Helm chart's values) carry
exactly the subject permissions of deploy/nats/permissions.json, which the test
crates/cli/tests/it/permissions.rs runs the services under. Run by scripts/check-deploy."""
import json
import os
import sys

import yaml

ROOT = os.path.join(os.path.dirname(__file__), "..")
with open(os.path.join(ROOT, "deploy/nats/permissions.json")) as f:
    want = json.load(f)["users"]
with open(os.path.join(ROOT, "deploy/nats/values-prod.yaml")) as f:
    # `<< $VAR >>` is the chart's unquoted variable syntax; as YAML it is a plain string.
    values = yaml.safe_load(f.read().replace("<< $", "'<< $").replace(" >>", " >>'"))
users = {u["user"]: u.get("permissions", {}) for u in values["config"]["merge"]["accounts"]["BRYGGA"]["users"]}
problems = []
for user, perms in want.items():
    if user not in users:
        problems.append(f"{user}: missing from values-prod.yaml")
    elif users[user] != perms:
        problems.append(f"{user}: permissions differ from permissions.json")
problems += [f"{u}: not in permissions.json" for u in users if u not in want]
if problems:
    print("\n".join(problems))
    sys.exit(1)
print(f"nats permissions: values-prod.yaml agrees with permissions.json ({len(want)} users)")
