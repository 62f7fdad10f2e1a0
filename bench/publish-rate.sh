#!/usr/bin/env bash
# Publish rate: acknowledged `POST /broadcast` per second against ictdesk's hub (SQLite
# with synchronous=FULL, and PostgreSQL) and Nginx + Nchan (`POST /pub`, kept in memory),
# with 1, 16 and 64 publishers at once, each on a keep-alive connection, driven by wrk
# with the same body (bench/publish.lua). Each cell gets a freshly started server, and
# the targets take turns per cell so that they see the same machine conditions.
# The desk targets (desk_sqlite, desk_postgres) time the desk's own changes instead:
# `ictdesk serve --demo`, an admin's API token, PATCH a ticket's status
# (bench/desk-change.lua).
#
#   bench/publish-rate.sh                       # prints a table, appends it to bench/results/
#   ICTDESK=/path/to/ictdesk bench/publish-rate.sh   # another build (e.g. before a change)
#   SECONDS_PER_CELL=8 PUBLISHERS="1 16 64" TARGETS="sqlite postgres nchan" bench/publish-rate.sh
#
# PostgreSQL: ICTDESK_BENCH_POSTGRES_URL names a role that may create databases
# (default: the local test server); each hub run gets a new database, dropped afterwards.
# Every wait is bounded; servers are stopped by PID.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
PUBLISHERS=${PUBLISHERS:-1 16 64}
TARGETS=${TARGETS:-sqlite postgres nchan desk_sqlite desk_postgres}
SECONDS_PER_CELL=${SECONDS_PER_CELL:-8}
ADMIN_URL=${ICTDESK_BENCH_POSTGRES_URL:-postgres://ictdesk:ictdesk@127.0.0.1:5432/ictdesk}
PAUSE=2
export BENCH_TOKEN=bench-secret

NICE=()
if [ "$(id -u)" = 0 ]; then
    NICE=(nice -n -10)
fi

WORK=$(mktemp -d /tmp/ictdesk-publish.XXXXXX)
chmod 755 "$WORK" # Nginx workers run as nobody when started as root
RESULTS=$WORK/results.jsonl
SERVER_PID=
DATABASE=

log() { printf '%s\n' "$*" >&2; }

cleanup() {
    stop_server
    rm -rf "$WORK"
}
trap cleanup EXIT

stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 100); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
    if [ -n "$DATABASE" ]; then
        psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $DATABASE WITH (FORCE)" >/dev/null
        DATABASE=
    fi
}

wait_http() {
    for _ in $(seq 100); do
        curl -s -o /dev/null --max-time 1 "$1" && return 0
        sleep 0.1
    done
    log "no answer from $1"
    return 1
}

prepare() {
    if [ -z "${ICTDESK:-}" ]; then
        log "building (release)…"
        cargo build --release --quiet -p ictdesk
        ICTDESK=$TARGET_DIR/release/ictdesk
    fi
    command -v wrk >/dev/null || apt-get install -y wrk >&2
    [ -f /usr/lib/nginx/modules/ngx_nchan_module.so ] || apt-get install -y nginx libnginx-mod-nchan >&2
}

# $1 cell name, $2 database URL, $3 mode (hub, or serve --demo); sets SERVER_PID, ADDR,
# URL and SCRIPT.
start_ictdesk() {
    local dir=$WORK/$1 mode=($3)
    mkdir -p "$dir"
    ICTDESK_BROADCAST_TOKEN=$BENCH_TOKEN RUST_LOG=warn \
        "${NICE[@]}" "$ICTDESK" "${mode[@]}" --port 0 --database "$2" --addr-file "$dir/addr" \
        >"$dir/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 300); do
        [ -s "$dir/addr" ] && break
        sleep 0.1
    done
    ADDR=$(cat "$dir/addr")
    URL=http://$ADDR/broadcast
    SCRIPT=bench/publish.lua
    wait_http "http://$ADDR/test"
}

sqlite_url() { echo "sqlite://$WORK/$1/bench.db"; }

# A new database for one run (dropped by stop_server); sets DATABASE and PG_URL.
create_database() {
    DATABASE=bench_publish_$$_$RANDOM
    psql -q "$ADMIN_URL" -c "CREATE DATABASE $DATABASE" >/dev/null
    PG_URL=${ADMIN_URL%/*}/$DATABASE
}

start_sqlite() { start_ictdesk "$1" "$(sqlite_url "$1")" hub; }

start_postgres() {
    create_database
    start_ictdesk "$1" "$PG_URL" hub
}

# The desk: the demo's admin signs in, makes an API token, and wrk changes tickets.
start_desk() {
    local cookies=$WORK/$1/cookies csrf
    start_ictdesk "$1" "$2" "serve --demo"
    csrf=$(curl -s -c "$cookies" -H 'Content-Type: application/json' -H "Origin: http://$ADDR" \
        -d '{"email":"admin@demo.local","password":"demo"}' "http://$ADDR/api/v1/session" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf_token"])')
    DESK_TOKEN=$(curl -s -b "$cookies" -H 'Content-Type: application/json' -H "Origin: http://$ADDR" \
        -H "X-CSRF-Token: $csrf" -d '{"name":"bench"}' "http://$ADDR/api/v1/tokens" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
    URL=http://$ADDR
    SCRIPT=bench/desk-change.lua
}

start_desk_sqlite() { start_desk "$1" "$(sqlite_url "$1")"; }

start_desk_postgres() {
    create_database
    start_desk "$1" "$PG_URL"
}

start_nchan() {
    local dir=$WORK/$1 port
    mkdir -p "$dir"
    chmod 755 "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    sed "s|@DIR@|$dir|g; s|@PORT@|$port|g" bench/nchan.conf >"$dir/nginx.conf"
    "${NICE[@]}" /usr/sbin/nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/server.log" 2>&1 &
    SERVER_PID=$!
    URL=http://127.0.0.1:$port/pub
    SCRIPT=bench/publish.lua
    wait_http "$URL"
}

# $1 target, $2 publishers at once.
run_one() {
    local target=$1 publishers=$2 threads=2 line token=$BENCH_TOKEN
    [ "$publishers" -lt 2 ] && threads=1
    "start_$target" "$target-$publishers"
    if [ "$SCRIPT" = bench/desk-change.lua ]; then
        threads=1 # the script keeps one ticket counter per thread
        token=$DESK_TOKEN
    fi
    line=$(BENCH_TOKEN=$token "${NICE[@]}" wrk -t "$threads" -c "$publishers" -d "${SECONDS_PER_CELL}s" \
        --timeout 10s -s "$SCRIPT" "$URL" | tail -n 1)
    printf '{"target":"%s","publishers":%s,%s\n' "$target" "$publishers" "${line#\{}" | tee -a "$RESULTS" >&2
    stop_server
    sleep "$PAUSE"
}

report() {
    local out=$ROOT/bench/results/$(date -u +%F).md
    {
        printf '\n## Publish rate, %s\n\n' "$(date -u)"
        printf 'Machine: %s cores, %s; %s s per cell; wrk, keep-alive; priority: %s; ictdesk: %s.\n\n' \
            "$(nproc)" "$(uname -sr)" "$SECONDS_PER_CELL" "${NICE[*]:-default}" "$ICTDESK"
        printf '| target | publishers | acknowledged/s | not 2xx | socket errors | p50 ms | p99 ms | max ms |\n'
        printf '|---|---|---|---|---|---|---|---|\n'
        python3 -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    print("| {target} | {publishers} | {acked_per_s} | {not_2xx} | {socket_errors} | {latency_ms_p50} | {latency_ms_p99} | {latency_ms_max} |".format(**r))
' "$RESULTS"
        printf '\nRaw results:\n\n```\n'
        cat "$RESULTS"
        printf '```\n'
    } | tee -a "$out"
    log "appended to $out"
}

main() {
    prepare
    touch "$RESULTS"
    for publishers in $PUBLISHERS; do
        for target in $TARGETS; do
            run_one "$target" "$publishers"
        done
    done
    report
}

main
