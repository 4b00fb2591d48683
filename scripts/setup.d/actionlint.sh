#!/usr/bin/env bash
# actionlint (the workflow linter) built from its Go module into .cache/bin/actionlint.
# Called by scripts/setup.sh with the cache folder as $1. Idempotent: an existing binary of the
# pinned version is kept. Without a Go toolchain it says so and leaves the binary absent; the
# workflow tests then skip the actionlint check with a message naming this script.
set -euo pipefail
CACHE="${1:-$(cd "$(dirname "$0")/../.." && pwd)/.cache}"
VERSION=v1.7.12
BIN="$CACHE/bin/actionlint"
mkdir -p "$CACHE/bin"

if [ -x "$BIN" ] && "$BIN" -version 2>/dev/null | head -1 | grep -qx "${VERSION#v}\|$VERSION"; then
  echo "setup: actionlint $VERSION already in $BIN"
  exit 0
fi
GO="$(command -v go || true)"
[ -z "$GO" ] && [ -x /usr/local/go/bin/go ] && GO=/usr/local/go/bin/go
if [ -z "$GO" ]; then
  echo "setup: no Go toolchain: actionlint not built (the workflow tests will skip the actionlint check)" >&2
  exit 0
fi
echo "setup: actionlint $VERSION from its Go module"
# GOBIN puts the binary straight into the cache; the module and build caches stay Go's own.
GOBIN="$CACHE/bin" GOFLAGS=-buildvcs=false "$GO" install "github.com/rhysd/actionlint/cmd/actionlint@$VERSION"
"$BIN" -version | head -1
