#!/usr/bin/env bash
# Vendor axe-core for the browser tests only (internal/browsertest/testdata):
# the accessibility check the tests inject into every console page. The
# product never serves it. Idempotent.
set -euo pipefail
AXE_VERSION="${AXE_VERSION:-4.14.1}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/internal/browsertest/testdata"
command -v npm >/dev/null || { echo "vendor-axe: npm is required" >&2; exit 1; }
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"
npm pack --silent "axe-core@${AXE_VERSION}" >/dev/null
tar -xzf axe-core-*.tgz
mkdir -p "$DEST"
install -m 0644 package/axe.min.js "$DEST/axe.min.js"
install -m 0644 package/LICENSE "$DEST/axe-LICENSE.txt"
echo "vendored axe-core $(node -p "require('./package/package.json').version") into ${DEST#$ROOT/} (tests only)"
