#!/usr/bin/env bash
# Installs the pinned schemathesis (PyPI), the fuzzer packages/node/src/openapi-fuzz.test.ts
# runs against the API from its own OpenAPI document, into a Python venv, skipping the
# install when the cached one answers with the pinned version, and prints the binary's path.
# The cache is outside the checkout (~/.cache/medledger/schemathesis/<version>/, or
# $MEDLEDGER_SCHEMATHESIS_CACHE/<version>/) so that fresh clones, CI's among them, reuse it.
set -euo pipefail
VERSION="4.32.5"
CACHE="${MEDLEDGER_SCHEMATHESIS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/medledger/schemathesis}"
VENV="$CACHE/$VERSION"
BIN="$VENV/bin/schemathesis"
if [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -q "$VERSION"; then
  echo "$BIN"
  exit 0
fi
PYTHON="$(command -v python3 || true)"
if [ -z "$PYTHON" ]; then
  echo "install-schemathesis: python3 (with its venv module) is needed to install schemathesis $VERSION" >&2
  exit 1
fi
rm -rf "$VENV"
mkdir -p "$CACHE"
"$PYTHON" -m venv "$VENV" >&2
"$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION" >&2
"$BIN" --version >&2
echo "$BIN"
