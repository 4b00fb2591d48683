#!/usr/bin/env bash
# act (runs GitHub Actions workflows locally) built from its Go module into .cache/bin/act; the
# workflow tests run our caller workflows under it, on the host (__tests__/act).
# Called by scripts/setup.sh with the cache folder as $1. Idempotent: an existing binary of the
# pinned version is kept. Without a Go toolchain it says so and leaves the binary absent; the act
# tests then skip with a message naming this script.
set -euo pipefail
CACHE="${1:-$(cd "$(dirname "$0")/../.." && pwd)/.cache}"
VERSION=v0.2.89
BIN="$CACHE/bin/act"
mkdir -p "$CACHE/bin"

if [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -qx "act version ${VERSION#v}"; then
  echo "setup: act $VERSION already in $BIN"
  exit 0
fi
GO="$(command -v go || true)"
[ -z "$GO" ] && [ -x /usr/local/go/bin/go ] && GO=/usr/local/go/bin/go
if [ -z "$GO" ]; then
  echo "setup: no Go toolchain: act not built (the act tests will skip)" >&2
  exit 0
fi
echo "setup: act $VERSION from its Go module"
# GOTOOLCHAIN=local: build with the Go that is here, never download another toolchain.
GOTOOLCHAIN=local GOBIN="$CACHE/bin" GOFLAGS=-buildvcs=false "$GO" install "github.com/nektos/act@$VERSION"
"$BIN" --version
