#!/usr/bin/env bash
# Installs the CloudEvents Python SDK (scripts/cloudevents-requirements.txt, pinned with hashes)
# into .tools/cloudevents if it is missing, and prints that venv's python.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.tools/cloudevents"
if ! "$venv/bin/python" -c "import cloudevents.core.bindings.http" 2>/dev/null; then
  echo "installing the CloudEvents Python SDK (PyPI) into $venv" >&2
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes \
    -r "$root/scripts/cloudevents-requirements.txt" >&2
fi
echo "$venv/bin/python"
