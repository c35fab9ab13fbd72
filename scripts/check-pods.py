"""Checks the pods of a rendered manifest: the restricted Pod Security Standard for every pod,
and, for Brygga's Deployments, probes (startup, liveness, readiness) and resources."""
import sys
import yaml

failures = []
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
for d in docs:
    kind, name = d["kind"], d["metadata"]["name"]
    if kind not in ("Deployment", "StatefulSet", "Job"):
        continue
    pod = d["spec"]["template"]["spec"]
    where = f"{kind}/{name}"
    psc = pod.get("securityContext", {})
    if not psc.get("runAsNonRoot"):
        failures.append(f"{where}: runAsNonRoot is not set")
    if psc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        failures.append(f"{where}: seccompProfile is not RuntimeDefault")
    if pod.get("automountServiceAccountToken") is not False:
        failures.append(f"{where}: the service account token is mounted")
    for c in pod["containers"]:
        sc = c.get("securityContext", {})
        if sc.get("allowPrivilegeEscalation") is not False:
            failures.append(f"{where}/{c['name']}: allowPrivilegeEscalation is not false")
        if sc.get("readOnlyRootFilesystem") is not True:
            failures.append(f"{where}/{c['name']}: the root filesystem is writable")
        if sc.get("capabilities", {}).get("drop") != ["ALL"]:
            failures.append(f"{where}/{c['name']}: capabilities are not all dropped")
        if "limits" not in c.get("resources", {}) or "requests" not in c.get("resources", {}):
            failures.append(f"{where}/{c['name']}: no resource requests and limits")
        for env in c.get("env", []):
            # A secret's value must come from a Secret; `*_FILE` settings name a mounted file.
            if "password" in env["name"].lower() and "value" in env and not env["name"].endswith("_FILE"):
                failures.append(f"{where}/{c['name']}: {env['name']} inlined, not from a Secret")
        if kind == "Deployment" and name.startswith("brygga-"):
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                if probe not in c:
                    failures.append(f"{where}/{c['name']}: no {probe}")
kinds = {d["kind"] for d in docs}
for needed in ("PodDisruptionBudget", "NetworkPolicy", "ServiceAccount", "Service"):
    if needed not in kinds:
        failures.append(f"{sys.argv[1]}: no {needed}")
if failures:
    print("\n".join(failures))
    sys.exit(1)
print(f"{sys.argv[1]}: {len(docs)} objects, pods restricted, probes and resources set")
