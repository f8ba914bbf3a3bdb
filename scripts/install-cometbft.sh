#!/usr/bin/env bash
# Installs the pinned CometBFT (the optional second consensus engine, docs/cometbft.md) with
# `go install`, skipping the build when the binary is already cached, and prints its path.
# The one extra command a consortium needs for this engine. The cache is outside the
# checkout (~/.cache/medledger/cometbft/<version>/, or $MEDLEDGER_COMETBFT_CACHE/<version>/)
# so that fresh clones, CI's among them, reuse one build.
set -euo pipefail
# Newest v0.38 patch release the Go module proxy serves; the v1.0 line is discontinued.
# packages/node/src/abci/cometbft-process.ts pins the same version.
VERSION="v0.38.26"
CACHE="${MEDLEDGER_COMETBFT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/medledger/cometbft}"
BIN_DIR="$CACHE/$VERSION"
BIN="$BIN_DIR/cometbft"
if [ -x "$BIN" ] && "$BIN" version 2>/dev/null | grep -qx "${VERSION#v}"; then
  echo "$BIN"
  exit 0
fi
GO="$(command -v go || true)"
if [ -z "$GO" ] && [ -x /usr/local/go/bin/go ]; then GO=/usr/local/go/bin/go; fi
if [ -z "$GO" ]; then
  echo "install-cometbft: the Go toolchain (go) is needed to build CometBFT $VERSION" >&2
  exit 1
fi
mkdir -p "$BIN_DIR"
GOBIN="$BIN_DIR" "$GO" install "github.com/cometbft/cometbft/cmd/cometbft@$VERSION" >&2
"$BIN" version >&2
echo "$BIN"
