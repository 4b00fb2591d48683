#!/usr/bin/env bash
# Headless Chromium from Debian, for the test that opens the demo's HTML page in a real browser
# (every Mermaid diagram must become an SVG with the network off). Installed system-wide with
# apt-get, as CI runs on a fresh machine as root; idempotent: an installed chromium is kept.
# Without root or apt it says so and the page test skips with a message naming this script.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  echo "setup: $(chromium --version 2>/dev/null | head -1) already installed"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: chromium is not installed and this is not root with apt-get: run 'apt-get install -y chromium' (the demo page test will skip)" >&2
  exit 0
fi
echo "setup: chromium from Debian"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq chromium >/dev/null 2>&1; then
  apt-get update -qq >/dev/null
  apt-get install -y -qq chromium >/dev/null
fi
chromium --version | head -1
