#!/usr/bin/env bash
# Real cqlsh from PyPI, pinned, in a venv under $1/venv, linked as $1/bin/cqlsh.
# Idempotent: nothing is fetched when the pinned version is installed.
set -euo pipefail
CACHE="${1:?usage: cqlsh.sh CACHE_DIR}"
PIN="6.2.2"
VENV="$CACHE/venv"
mkdir -p "$CACHE/bin"
if ! [ -x "$VENV/bin/cqlsh" ] || ! "$VENV/bin/python" -c "import importlib.metadata as m,sys; sys.exit(m.version('cqlsh')!='$PIN')" 2>/dev/null; then
  echo "setup: cqlsh $PIN from PyPI into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "cqlsh==$PIN"
fi
# A link to pip's console script, as a pip-installed cqlsh is found in an image: its #! line names
# the venv's python (where expand-keyspaces finds cqlsh's driver). The sandbox sets CQLSH_HOST,
# CQLSH_PORT and a cqlshrc per node through the environment, never argv.
ln -sfn "$(cd "$VENV" && pwd)/bin/cqlsh" "$CACHE/bin/cqlsh"
echo "setup: cqlsh $("$VENV/bin/cqlsh" --version 2>/dev/null || echo '?')"
