#!/usr/bin/env bash
# Starts the real-time hub, as the original system's script did.
#   ./start-websocket.sh                       # port 8080
#   WEBSOCKET_PORT=9000 ./start-websocket.sh   # another port
# Any other setting comes from the environment (see README) or from flags passed here.
#
# Runs the built binary when there is one — $ICTDESK_BIN, else target/release/ictdesk
# beside this script (or in $CARGO_TARGET_DIR), else `ictdesk` on PATH — so that a
# server with only the binary needs nothing else; only without one does it build and
# run from the source with cargo.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

if [ -n "${ICTDESK_BIN:-}" ]; then
    if [ ! -x "$ICTDESK_BIN" ]; then
        echo "start-websocket.sh: ICTDESK_BIN=$ICTDESK_BIN is not an executable file" >&2
        exit 1
    fi
    exec "$ICTDESK_BIN" hub "$@"
fi
built="${CARGO_TARGET_DIR:-$here/target}/release/ictdesk"
if [ -x "$built" ]; then
    exec "$built" hub "$@"
fi
if command -v ictdesk >/dev/null 2>&1; then
    exec ictdesk hub "$@"
fi
cd "$here"
exec cargo run --release --quiet -p ictdesk -- hub "$@"
