#!/usr/bin/env bash
# shellcheck from Debian's package, unpacked into .cache/shellcheck and linked as .cache/bin/shellcheck.
# GitHub's ubuntu runners preinstall it and actionlint runs it on every `run:` block, so the
# workflow tests put it on PATH to see what actionlint reports there.
# Called by scripts/setup.sh with the cache folder as $1. Idempotent.
set -euo pipefail
CACHE="$(mkdir -p "${1:-$(dirname "$0")/../../.cache}" && cd "${1:-$(dirname "$0")/../../.cache}" && pwd)"
mkdir -p "$CACHE/bin"
if [ ! -x "$CACHE/shellcheck/usr/bin/shellcheck" ]; then
  echo "setup: shellcheck from Debian's shellcheck package"
  tmp=$(mktemp -d)
  if ! (cd "$tmp" && apt-get download shellcheck >/dev/null 2>&1); then
    apt-get update -qq >/dev/null
    (cd "$tmp" && apt-get download shellcheck >/dev/null)
  fi
  dpkg -x "$tmp"/shellcheck_*.deb "$CACHE/shellcheck"
  rm -rf "$tmp"
fi
ln -sf "$CACHE/shellcheck/usr/bin/shellcheck" "$CACHE/bin/shellcheck"
echo "setup: $("$CACHE/bin/shellcheck" --version | sed -n 's/^version: /shellcheck /p') in $CACHE/bin"
