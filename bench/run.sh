#!/usr/bin/env bash
# The standard benchmark matrix (N = 1 000 and 10 000 subscribers, M = 200 events at
# R = 5/s and 50/s) against ictdesk's hub and against Nginx + Nchan, on this machine.
# Prints a table and the raw JSON lines and appends both to bench/results/.
#
# Every run gets a freshly started server: allocators keep freed memory, so a second
# run on the same process would report almost no memory per connection.
# Takes about five minutes; every wait below is bounded.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
CLIENTS=(1000 10000)
RATES=(5 50)
EVENTS=200
PAUSE=3            # seconds between runs, for closed sockets to go
RUN_TIMEOUT=300    # seconds one loadgen run may take at most
TOKEN=bench-secret

# Servers and load generator run at the same raised priority when the script may raise
# it (as root), so that other work on the machine disturbs the measurement less; the
# "other CPU s" column shows how much else ran anyway.
NICE=()
if [ "$(id -u)" = 0 ]; then
    NICE=(nice -n -10)
fi

WORK=$(mktemp -d /tmp/ictdesk-bench.XXXXXX)
chmod 755 "$WORK" # Nginx workers run as nobody when started as root
RESULTS=$WORK/results.jsonl
SERVER_PID=
NGINX_WORKERS=

cleanup() {
    stop_server
    rm -rf "$WORK"
}
trap cleanup EXIT

log() { printf '%s\n' "$*" >&2; }

# Stops the server this script started (by PID) and waits for it, at most 10 s.
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

# Waits until $1 answers an HTTP request, at most 10 s.
wait_http() {
    for _ in $(seq 100); do
        curl -s -o /dev/null --max-time 1 "$1" && return 0
        sleep 0.1
    done
    log "no answer from $1"
    return 1
}

build() {
    log "building (release)…"
    cargo build --release --quiet -p ictdesk -p loadgen
    LOADGEN=$TARGET_DIR/release/loadgen
    ICTDESK=$TARGET_DIR/release/ictdesk
}

ensure_nginx() {
    if [ -x /usr/sbin/nginx ] && [ -f /usr/lib/nginx/modules/ngx_nchan_module.so ]; then
        return 0
    fi
    log "installing nginx and libnginx-mod-nchan…"
    apt-get install -y nginx libnginx-mod-nchan >&2
}

# Starts the hub on a fresh SQLite database; sets SERVER_PID and HUB_ADDR.
start_ictdesk() {
    local dir=$WORK/$1
    mkdir -p "$dir"
    ICTDESK_BROADCAST_TOKEN=$TOKEN ICTDESK_MAX_CONNECTIONS_PER_IP=0 ICTDESK_MAX_HTTP_CONNECTIONS_PER_IP=0 RUST_LOG=warn \
        "${NICE[@]}" "$ICTDESK" hub --port 0 --database "sqlite://$dir/bench.db" --addr-file "$dir/addr" \
        >"$dir/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do
        [ -s "$dir/addr" ] && break
        sleep 0.1
    done
    HUB_ADDR=$(cat "$dir/addr")
    wait_http "http://$HUB_ADDR/test"
}

# Starts Nginx + Nchan from bench/nchan.conf; sets SERVER_PID, NGINX_WORKERS, NGINX_PORT.
start_nchan() {
    local dir=$WORK/$1
    mkdir -p "$dir"
    chmod 755 "$dir"
    NGINX_PORT=$("$LOADGEN" free-port)
    sed "s|@DIR@|$dir|g; s|@PORT@|$NGINX_PORT|g" bench/nchan.conf >"$dir/nginx.conf"
    "${NICE[@]}" /usr/sbin/nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/server.log" 2>&1 &
    SERVER_PID=$!
    wait_http "http://127.0.0.1:$NGINX_PORT/pub"
    NGINX_WORKERS=$(pgrep -P "$SERVER_PID" | tr '\n' ' ')
}

# One run: $1 target, $2 N, $3 R.
run_one() {
    local target=$1 clients=$2 rate=$3 name=$1-$2-$3
    local args=(-n "$clients" -m "$EVENTS" -r "$rate" --target "$target")
    if [ "$target" = ictdesk ]; then
        start_ictdesk "$name"
        args+=(--mode ictdesk --ws "ws://$HUB_ADDR/ws" --publish "http://$HUB_ADDR/broadcast"
            --token "$TOKEN" --server-pid "$SERVER_PID")
    else
        start_nchan "$name"
        args+=(--mode nchan --ws "ws://127.0.0.1:$NGINX_PORT/sub"
            --publish "http://127.0.0.1:$NGINX_PORT/pub" --server-pid "$SERVER_PID")
        for worker in $NGINX_WORKERS; do args+=(--server-pid "$worker"); done
    fi
    log "$target: N=$clients R=$rate/s M=$EVENTS…"
    if ! timeout "$RUN_TIMEOUT" "${NICE[@]}" "$LOADGEN" run "${args[@]}" >>"$RESULTS"; then
        log "  run failed or timed out"
    fi
    tail -n 1 "$RESULTS" | cut -c1-200 >&2
    stop_server
    summarize_log "$name"
    sleep "$PAUSE"
}

# The server's warnings and errors, counted, with the most frequent lines.
summarize_log() {
    local dir=$WORK/$1 file count
    file=$dir/server.log
    [ -f "$dir/error.log" ] && file=$dir/error.log
    count=$(grep -ciE 'warn|error|crit|alert|emerg' "$file" || true)
    printf '%s: %s warning/error lines\n' "$1" "$count" >>"$WORK/logs.txt"
    grep -iE 'warn|error|crit|alert|emerg' "$file" | sed -E 's/[0-9]+/N/g' | sort | uniq -c |
        sort -rn | head -n 5 >>"$WORK/logs.txt" || true
}

report() {
    local out=$ROOT/bench/results/$(date -u +%F).md
    mkdir -p "$ROOT/bench/results"
    {
        printf '\n## %s\n\n' "$(date -u)"
        printf 'Machine: %s cores, %s, %s; M=%s events, frames ~150 bytes; priority: %s.\n\n' \
            "$(nproc)" "$(uname -sr)" "$(/usr/sbin/nginx -v 2>&1 | sed 's/.*: //')" "$EVENTS" \
            "${NICE[*]:-default}"
        "$LOADGEN" table "$RESULTS"
        printf '\nServer logs (warnings and errors):\n\n```\n'
        cat "$WORK/logs.txt"
        printf '```\n\nRaw results:\n\n```\n'
        cat "$RESULTS"
        printf '```\n'
    } | tee -a "$out"
    log "appended to $out"
}

main() {
    build
    ensure_nginx
    touch "$RESULTS" "$WORK/logs.txt"
    for clients in "${CLIENTS[@]}"; do
        for rate in "${RATES[@]}"; do
            run_one ictdesk "$clients" "$rate"
            run_one nchan "$clients" "$rate"
        done
    done
    report
}

main
