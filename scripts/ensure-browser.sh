#!/usr/bin/env bash
# Installs what the browser test needs (crates/cli/tests/it/web.rs) and prints the directory it
# runs from: Debian's chromium (apt) if /usr/bin/chromium is missing, and playwright-core (npm,
# pinned by scripts/browser/package-lock.json; it drives the system's Chromium, no browser
# download) with the test script, in .tools/browser.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if ! [ -x /usr/bin/chromium ]; then
  echo "installing Debian's chromium (apt)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends chromium >&2 \
    || { apt-get update >&2 && apt-get install -y --no-install-recommends chromium >&2; }
fi
dir="$root/.tools/browser"
if ! [ -d "$dir/node_modules/playwright-core" ] || ! cmp -s "$root/scripts/browser/package-lock.json" "$dir/package-lock.json"; then
  echo "installing playwright-core (npm) into $dir" >&2
  mkdir -p "$dir"
  cp "$root/scripts/browser/package.json" "$root/scripts/browser/package-lock.json" "$dir/"
  (cd "$dir" && npm ci --silent --no-audit --no-fund) >&2
fi
cp "$root/scripts/browser/advisor.mjs" "$dir/"
echo "$dir"
