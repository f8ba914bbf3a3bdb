#!/usr/bin/env bash
# Installs the pinned CometBFT (the optional second consensus engine, docs/cometbft.md) with
# `go install` into .cache/cometbft/<version>/, skipping the build when the binary is there,
# and prints the binary's path. The one extra command a consortium needs for this engine.
set -euo pipefail
# Newest v0.38 patch release the Go module proxy serves; the v1.0 line is discontinued.
VERSION="v0.38.26"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN_DIR="${MEDLEDGER_COMETBFT_CACHE:-$ROOT/.cache/cometbft}/$VERSION"
BIN="$BIN_DIR/cometbft"
if [ -x "$BIN" ] && "$BIN" version 2>/dev/null | grep -qx "${VERSION#v}"; then
  echo "$BIN"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "install-cometbft: the Go toolchain (go) is needed to build CometBFT $VERSION" >&2
  exit 1
fi
mkdir -p "$BIN_DIR"
GOBIN="$BIN_DIR" go install "github.com/cometbft/cometbft/cmd/cometbft@$VERSION" >&2
"$BIN" version >&2
echo "$BIN"
