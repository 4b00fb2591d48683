#!/usr/bin/env bash
# Headless Chromium from Debian, for the test that opens the demo's HTML page in a real browser
# (every Mermaid diagram must become an SVG with the network off). Installed system-wide with
# apt-get, as CI runs on a fresh machine as root; idempotent: an installed chromium is kept.
# Without root (or passwordless sudo) and apt it says so; the page test then fails naming this script.
set -euo pipefail
for b in /usr/bin/chromium /usr/bin/google-chrome; do
  if [ -x "$b" ]; then
    echo "setup: $("$b" --version 2>/dev/null | head -1) already installed ($b)"
    exit 0
  fi
done
# root, or passwordless sudo (GitHub's hosted runners)
if [ "$(id -u)" = 0 ]; then as_root=(); elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then as_root=(sudo -n); else as_root=(none); fi
if [ "${as_root[0]:-}" = none ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: chromium is not installed and apt-get cannot run as root here: run 'sudo apt-get install -y chromium' (the demo page test fails until then)" >&2
  exit 0
fi
echo "setup: chromium from Debian"
export DEBIAN_FRONTEND=noninteractive
if ! "${as_root[@]}" apt-get install -y -qq chromium >/dev/null 2>&1; then
  "${as_root[@]}" apt-get update -qq >/dev/null
  "${as_root[@]}" apt-get install -y -qq chromium >/dev/null
fi
chromium --version | head -1
