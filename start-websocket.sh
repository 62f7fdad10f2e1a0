#!/usr/bin/env bash
# Starts the real-time hub, as the original system's script did.
#   ./start-websocket.sh                       # port 8080
#   WEBSOCKET_PORT=9000 ./start-websocket.sh   # another port
# Any other setting comes from the environment (see README) or from flags passed here.
set -euo pipefail
cd "$(dirname "$0")"
exec cargo run --release --quiet -p ictdesk -- hub "$@"
