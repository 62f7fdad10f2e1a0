#!/usr/bin/env bash
# Retention against appends: does pruning a large backlog slow publishing down?
# For SQLite and PostgreSQL, ROUNDS times: fill the log through POST /broadcast (wrk,
# FILL_SECONDS), then time 16 publishers for SECONDS_PER_CELL against a hub that keeps
# everything (the floor), then against a freshly started hub with --retain-events 1000,
# which starts pruning the backlog at once (500 events a transaction). The pruned count
# at the end of the window says how much of it overlapped. Same machine, same minute.
#
#   bench/retention.sh                 # prints a table, appends it to bench/results/
#   ROUNDS=3 FILL_SECONDS=20 bench/retention.sh
#
# PostgreSQL: ICTDESK_BENCH_POSTGRES_URL names a role that may create databases
# (default: the local test server); each round gets a new database, dropped afterwards.
# Every wait is bounded; servers are stopped by PID.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
ROUNDS=${ROUNDS:-2}
FILL_SECONDS=${FILL_SECONDS:-15}
SECONDS_PER_CELL=${SECONDS_PER_CELL:-8}
TARGETS=${TARGETS:-sqlite postgres}
ADMIN_URL=${ICTDESK_BENCH_POSTGRES_URL:-postgres://ictdesk:ictdesk@127.0.0.1:5432/ictdesk}
export BENCH_TOKEN=bench-secret

WORK=$(mktemp -d /tmp/ictdesk-retention.XXXXXX)
RESULTS=$WORK/results.jsonl
SERVER_PID=
DATABASE=

log() { printf '%s\n' "$*" >&2; }

stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}

drop_database() {
    [ -n "$DATABASE" ] || return 0
    psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $DATABASE WITH (FORCE)" >/dev/null
    DATABASE=
}

cleanup() {
    stop_server
    drop_database
    rm -rf "$WORK"
}
trap cleanup EXIT

# $1 database URL, then extra flags; sets SERVER_PID and ADDR.
start_hub() {
    local url=$1 addr_file=$WORK/addr
    shift
    rm -f "$addr_file"
    ICTDESK_BROADCAST_TOKEN=$BENCH_TOKEN RUST_LOG=warn \
        "$ICTDESK" hub --port 0 --database "$url" --addr-file "$addr_file" "$@" \
        >>"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 300); do
        [ -s "$addr_file" ] && break
        sleep 0.1
    done
    ADDR=$(cat "$addr_file")
}

# $1 seconds; prints wrk's JSON line.
publish() {
    wrk -t 2 -c 16 -d "${1}s" --timeout 10s -s bench/publish.lua "http://$ADDR/broadcast" | tail -n 1
}

pruned() {
    curl -s --max-time 5 "http://$ADDR/metrics" |
        awk '$1 == "ictdesk_events_pruned_total" { print int($2) }'
}

# $1 target, $2 round.
run_round() {
    local target=$1 round=$2 url line
    if [ "$target" = postgres ]; then
        DATABASE=bench_retention_$$_$RANDOM
        psql -q "$ADMIN_URL" -c "CREATE DATABASE $DATABASE" >/dev/null
        url=${ADMIN_URL%/*}/$DATABASE
    else
        url=sqlite://$WORK/bench-$round.db
    fi
    start_hub "$url" --retain-days 0
    line=$(publish "$FILL_SECONDS")
    log "filled: $line"
    stop_server
    for cell in keep prune; do
        if [ $cell = keep ]; then
            start_hub "$url" --retain-days 0
        else
            start_hub "$url" --retain-days 0 --retain-events 1000
        fi
        line=$(publish "$SECONDS_PER_CELL")
        printf '{"target":"%s","round":%s,"cell":"%s","pruned_in_window":%s,%s\n' \
            "$target" "$round" "$cell" "$(pruned || echo 0)" "${line#\{}" | tee -a "$RESULTS" >&2
        stop_server
    done
    drop_database
    rm -f "$WORK"/bench-"$round".db*
}

report() {
    local out=$ROOT/bench/results/$(date -u +%F).md
    {
        printf '\n## Retention against appends, %s\n\n' "$(date -u)"
        printf 'Machine: %s cores, %s; 16 publishers (wrk, keep-alive), %s s per cell after a %s s fill; ictdesk: %s.\n\n' \
            "$(nproc)" "$(uname -sr)" "$SECONDS_PER_CELL" "$FILL_SECONDS" "$ICTDESK"
        printf '| target | round | hub | events pruned in the window | acknowledged/s | p50 ms | p99 ms | max ms |\n'
        printf '|---|---|---|---|---|---|---|---|\n'
        python3 -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    r["cell"] = {"keep": "keeps everything", "prune": "--retain-events 1000"}[r["cell"]]
    print("| {target} | {round} | {cell} | {pruned_in_window} | {acked_per_s} | {latency_ms_p50} | {latency_ms_p99} | {latency_ms_max} |".format(**r))
' "$RESULTS"
    } | tee -a "$out"
    log "appended to $out"
}

main() {
    if [ -z "${ICTDESK:-}" ]; then
        log "building (release)…"
        cargo build --release --quiet -p ictdesk
        ICTDESK=$TARGET_DIR/release/ictdesk
    fi
    command -v wrk >/dev/null || apt-get install -y wrk >&2
    touch "$RESULTS"
    for round in $(seq "$ROUNDS"); do
        for target in $TARGETS; do
            run_round "$target" "$round"
        done
    done
    report
}

main "$@"
