#!/usr/bin/env bash
# Three `ictdesk hub` nodes on one PostgreSQL database, N = 10 000 clients spread over
# them round-robin, M = 200 events published to the first node at R = 5/s and 50/s.
# Prints the JSON lines and a table and appends them to bench/results/. Bounded in time.
#
#   ICTDESK_BENCH_POSTGRES_URL=postgres://USER:PASSWORD@127.0.0.1/DB bench/cluster.sh
# (the user must be allowed to CREATE DATABASE; default: the CI's ictdesk superuser)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BASE_URL=${ICTDESK_BENCH_POSTGRES_URL:-postgres://ictdesk:ictdesk@127.0.0.1/ictdesk}
TOKEN=bench-secret
WORK=$(mktemp -d /tmp/ictdesk-cluster-bench.XXXXXX)
PIDS=()

cleanup() {
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

cargo build --release --quiet -p ictdesk -p loadgen
BIN=$TARGET_DIR/release

run() { # run RATE
    local db="ictdesk_bench_$(date +%s)_$1"
    psql -q "$BASE_URL" -c "CREATE DATABASE $db"
    local url="${BASE_URL%/*}/$db" ws=() pids=()
    for node in 1 2 3; do
        ICTDESK_BROADCAST_TOKEN=$TOKEN ICTDESK_MAX_CONNECTIONS_PER_IP=0 ICTDESK_MAX_HTTP_CONNECTIONS_PER_IP=0 RUST_LOG=warn \
            "$BIN/ictdesk" hub --port 0 --node "bench-$node" --database "$url" \
            --addr-file "$WORK/node$node" >"$WORK/node$node.log" 2>&1 &
        pids+=($!)
        PIDS+=($!)
    done
    for node in 1 2 3; do
        for _ in $(seq 100); do [ -s "$WORK/node$node" ] && break; sleep 0.1; done
        ws+=(--ws "ws://$(cat "$WORK/node$node")/ws")
    done
    local pid_args=()
    for pid in "${pids[@]}"; do pid_args+=(--server-pid "$pid"); done
    timeout 300 "$BIN/loadgen" run --target "ictdesk-3-nodes" "${ws[@]}" \
        --publish "http://$(cat "$WORK/node1")/broadcast" --token "$TOKEN" \
        -n 10000 -m 200 -r "$1" "${pid_args[@]}" | tee -a "$WORK/results.jsonl"
    for pid in "${pids[@]}"; do kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; done
    PIDS=()
    psql -q "$BASE_URL" -c "DROP DATABASE $db WITH (FORCE)"
    rm -f "$WORK"/node?
    sleep 3 # let the closed sockets go
}

run 5
run 50
mkdir -p bench/results
{
    printf '\n## Three nodes on PostgreSQL, %s\n\n' "$(date -u)"
    "$BIN/loadgen" table "$WORK/results.jsonl"
    printf '\n```\n'
    cat "$WORK/results.jsonl"
    printf '```\n'
} | tee -a "bench/results/$(date -u +%F).md"
