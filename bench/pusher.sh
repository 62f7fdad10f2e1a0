#!/usr/bin/env bash
# The Pusher path beside the native one, with Sockudo as the peer, on this machine:
# N = 1 000 and 10 000 subscribers × R = 5/s (latency) and 50/s (saturation), M = 200
# events of ~150-byte frames, each cell against the hub's /ws, the hub's /app/{key}
# (published through the signed HTTP API) and Sockudo (same load generator, same mode).
# Prints a table and the raw JSON lines and appends both to bench/results/.
#
# Sockudo: `cargo install sockudo --no-default-features --features local`
# (Debian's protobuf-compiler needed); SOCKUDO=/path/to/sockudo if not on PATH.
# Without it, the Sockudo column is skipped with a note. Every server is started fresh
# per run and stopped by PID; every wait is bounded.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
CLIENTS=(${PUSHER_BENCH_CLIENTS:-1000 10000})
RATES=(${PUSHER_BENCH_RATES:-5 50})
EVENTS=200
PAUSE=3
RUN_TIMEOUT=300
TOKEN=bench-secret
APP=4242:bench-key:bench-secret
SOCKUDO=${SOCKUDO:-$(command -v sockudo || true)}

NICE=()
if [ "$(id -u)" = 0 ]; then
    NICE=(nice -n -10)
fi

WORK=$(mktemp -d /tmp/ictdesk-pusher-bench.XXXXXX)
RESULTS=$WORK/results.jsonl
SERVER_PID=

cleanup() {
    stop_server
    rm -rf "$WORK"
}
trap cleanup EXIT

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

wait_http() {
    for _ in $(seq 100); do
        curl -s -o /dev/null --max-time 1 "$1" && return 0
        sleep 0.1
    done
    log "no answer from $1"
    return 1
}

start_ictdesk() {
    local dir=$WORK/$1
    mkdir -p "$dir"
    ICTDESK_BROADCAST_TOKEN=$TOKEN ICTDESK_MAX_CONNECTIONS_PER_IP=0 ICTDESK_MAX_HTTP_CONNECTIONS_PER_IP=0 RUST_LOG=warn \
        "${NICE[@]}" "$TARGET_DIR/release/ictdesk" hub --port 0 --database "sqlite://$dir/bench.db" \
        --addr-file "$dir/addr" --pusher-app "$APP" >"$dir/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do
        [ -s "$dir/addr" ] && break
        sleep 0.1
    done
    ADDR=$(cat "$dir/addr")
    wait_http "http://$ADDR/test"
}

start_sockudo() {
    local dir=$WORK/$1 port
    mkdir -p "$dir"
    port=$("$TARGET_DIR/release/loadgen" free-port)
    (cd "$dir" && HOST=127.0.0.1 PORT=$port RATE_LIMITER_ENABLED=false METRICS_ENABLED=false \
        SOCKUDO_DEFAULT_APP_ID=${APP%%:*} SOCKUDO_DEFAULT_APP_KEY=bench-key SOCKUDO_DEFAULT_APP_SECRET=bench-secret \
        SOCKUDO_DEFAULT_APP_MAX_CONNECTIONS=100000 \
        "${NICE[@]}" "$SOCKUDO" >"$dir/server.log" 2>&1) &
    SERVER_PID=$!
    ADDR=127.0.0.1:$port
    wait_http "http://$ADDR/"
}

# One run: $1 target (native, pusher, sockudo), $2 N, $3 R.
run_one() {
    local target=$1 clients=$2 rate=$3 name=$1-$2-$3
    local args=(-n "$clients" -m "$EVENTS" -r "$rate" --target "$target")
    case $target in
    native)
        start_ictdesk "$name"
        args+=(--mode ictdesk --ws "ws://$ADDR/ws" --publish "http://$ADDR/broadcast" --token "$TOKEN")
        ;;
    pusher)
        start_ictdesk "$name"
        args+=(--mode pusher --ws "ws://$ADDR/app/bench-key?protocol=7" --publish "http://$ADDR/apps/4242/events" --pusher-app "$APP")
        ;;
    sockudo)
        start_sockudo "$name"
        args+=(--mode pusher --ws "ws://$ADDR/app/bench-key?protocol=7" --publish "http://$ADDR/apps/4242/events" --pusher-app "$APP")
        ;;
    esac
    args+=(--server-pid "$SERVER_PID")
    # The Sockudo PID is the subshell's; measure the server process itself.
    if [ "$target" = sockudo ]; then
        local child
        child=$(pgrep -P "$SERVER_PID" | head -n 1)
        [ -n "$child" ] && args=("${args[@]:0:${#args[@]}-2}" --server-pid "$child")
    fi
    log "$target: N=$clients R=$rate/s M=$EVENTS…"
    if ! timeout "$RUN_TIMEOUT" "${NICE[@]}" "$TARGET_DIR/release/loadgen" run "${args[@]}" >>"$RESULTS"; then
        log "  run failed or timed out"
    fi
    tail -n 1 "$RESULTS" | cut -c1-200 >&2
    stop_server
    sleep "$PAUSE"
}

log "building (release)…"
cargo build --release --quiet -p ictdesk -p loadgen
targets=(${PUSHER_BENCH_TARGETS:-native pusher})
if [ -z "${PUSHER_BENCH_TARGETS:-}" ] && [ -n "$SOCKUDO" ] && [ -x "$SOCKUDO" ]; then
    targets+=(sockudo)
else
    log "no sockudo binary (set SOCKUDO=…): its column is skipped"
fi
for clients in "${CLIENTS[@]}"; do
    for rate in "${RATES[@]}"; do
        for target in "${targets[@]}"; do
            run_one "$target" "$clients" "$rate"
        done
    done
done

out=$ROOT/bench/results/$(date -u +%F)-pusher.md
{
    printf '\n## Pusher path, %s\n\n' "$(date -u)"
    printf 'Machine: %s cores, %s; M=%s events, frames ~150 bytes.\n\n' "$(nproc)" "$(uname -r)" "$EVENTS"
    "$TARGET_DIR/release/loadgen" table "$RESULTS"
    printf '\n```\n'
    cat "$RESULTS"
    printf '```\n'
} | tee -a "$out"
