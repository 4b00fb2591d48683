#!/usr/bin/env bash
# kubelogin (Azure's client-go credential plugin for AKS with Entra ID) built from its Go module
# into .cache/bin/kubelogin. Called by scripts/setup.sh with the cache folder as $1. Idempotent: an
# existing binary of the pinned version is kept. The pinned version is the newest tag whose go.mod
# this machine's Go satisfies without downloading a toolchain (GOTOOLCHAIN=local). Without a Go
# toolchain it says so and leaves the binary absent; the AKS tests then fail naming this script.
set -euo pipefail
CACHE="${1:-$(cd "$(dirname "$0")/../.." && pwd)/.cache}"
VERSION=v0.2.19
BIN="$CACHE/bin/kubelogin"
mkdir -p "$CACHE/bin"

if [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -q "git hash: $VERSION/\|$VERSION"; then
  echo "setup: kubelogin $VERSION already in $BIN"
  exit 0
fi
GO="$(command -v go || true)"
[ -z "$GO" ] && [ -x /usr/local/go/bin/go ] && GO=/usr/local/go/bin/go
if [ -z "$GO" ]; then
  echo "setup: no Go toolchain: kubelogin not built (the AKS sandbox tests need it)" >&2
  exit 0
fi
echo "setup: kubelogin $VERSION from its Go module"
# The version string kubelogin prints is set at link time, as its release build does.
GOBIN="$CACHE/bin" GOTOOLCHAIN=local GOFLAGS=-buildvcs=false "$GO" install \
  -ldflags "-X main.gitTag=$VERSION" \
  "github.com/Azure/kubelogin@$VERSION"
"$BIN" --version | head -3
