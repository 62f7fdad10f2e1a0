#!/usr/bin/env bash
# The desk at scale: p50/p99 and requests per second of the desk's pages and changes on a
# seeded database (`ictdesk seed`), each beside the same SQL run alone through sqlite3 /
# psql on the same data — the floor of that page. wrk drives one endpoint at a time
# (keep-alive, CONNECTIONS at once); every cell notes the machine's load.
#
#   bench/desk.sh                                   # 1 000 000 tickets, both databases
#   TICKETS=100000 DATABASES=sqlite bench/desk.sh   # smaller, one database
#   ICTDESK=/path/to/ictdesk bench/desk.sh          # another build
#
# Seeded databases are kept in BENCH_DIR (SQLite) or as ictdesk_desk_bench_N (PostgreSQL,
# on ICTDESK_BENCH_POSTGRES_URL, a role that may create databases) and reused by later
# runs of the same size (FRESH=1 seeds again); the changes a run makes (a few thousand
# tickets created and moved) stay in them. Every wait is bounded; the server is stopped
# by PID.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
TICKETS=${TICKETS:-1000000}
USERS=${USERS:-20000}
EQUIPMENT=${EQUIPMENT:-50000}
ARTICLES=${ARTICLES:-5000}
DATABASES=${DATABASES:-sqlite postgres}
SECONDS_PER_CELL=${SECONDS_PER_CELL:-8}
CONNECTIONS=${CONNECTIONS:-8}
FLOOR_RUNS=${FLOOR_RUNS:-30}
BENCH_DIR=${BENCH_DIR:-/var/tmp/ictdesk-desk-bench}
ADMIN_URL=${ICTDESK_BENCH_POSTGRES_URL:-postgres://ictdesk:ictdesk@127.0.0.1:5432/ictdesk}

NICE=()
if [ "$(id -u)" = 0 ]; then
    NICE=(nice -n -10)
fi

WORK=$(mktemp -d /tmp/ictdesk-desk.XXXXXX)
RESULTS=$WORK/results.jsonl
SERVER_PID=

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
}

prepare() {
    if [ -z "${ICTDESK:-}" ]; then
        log "building (release)…"
        cargo build --release --quiet -p ictdesk
        ICTDESK=$TARGET_DIR/release/ictdesk
    fi
    command -v wrk >/dev/null || apt-get install -y wrk >&2
    command -v sqlite3 >/dev/null || apt-get install -y sqlite3 >&2
    mkdir -p "$BENCH_DIR"
}

# Sets DB_URL and SQL (a command reading SQL on stdin); seeds the database unless it
# was seeded before at this size.
open_database() {
    local name=ictdesk_desk_bench_$TICKETS
    case $1 in
        sqlite)
            DB_URL=sqlite://$BENCH_DIR/$name.db
            SQL=(sqlite3 "$BENCH_DIR/$name.db")
            if [ "${FRESH:-0}" = 1 ]; then rm -f "$BENCH_DIR/$name.db"*; fi
            ;;
        postgres)
            DB_URL=${ADMIN_URL%/*}/$name
            SQL=(psql -q -X -t -A "$DB_URL")
            if [ "${FRESH:-0}" = 1 ]; then
                psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null
            fi
            psql -q "$ADMIN_URL" -tc "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1 ||
                psql -q "$ADMIN_URL" -c "CREATE DATABASE $name" >/dev/null
            ;;
    esac
    if "$ICTDESK" seed --database "$DB_URL" --tickets 0 --users 0 --equipment 0 --articles 0 \
        >/dev/null 2>&1; then
        log "seeding $1: $TICKETS tickets, $USERS users, $EQUIPMENT equipment, $ARTICLES articles…"
        local started=$SECONDS
        "${NICE[@]}" "$ICTDESK" seed --database "$DB_URL" --append --tickets "$TICKETS" \
            --users "$USERS" --equipment "$EQUIPMENT" --articles "$ARTICLES" >&2
        record "$1" seed "$(jq_line seconds $((SECONDS - started)))"
    fi
}

jq_line() { printf '"%s":%s' "$1" "$2"; }

# $1 database, $2 cell, $3 JSON fields: one result line, with the load at that moment.
record() {
    printf '{"database":"%s","cell":"%s",%s,"load":"%s"}\n' "$1" "$2" "$3" \
        "$(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$RESULTS" >&2
}

start_server() {
    local dir=$WORK/$1
    mkdir -p "$dir"
    RUST_LOG=warn ICTDESK_LOGIN_ATTEMPTS=1000 "${NICE[@]}" "$ICTDESK" serve --port 0 \
        --database "$DB_URL" --addr-file "$dir/addr" --attachments-dir "$dir/files" \
        >"$dir/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 600); do
        [ -s "$dir/addr" ] && break
        sleep 0.1
    done
    BASE=http://$(cat "$dir/addr")
}

# $1 email: sets COOKIE (for pages) and TOKEN (an API token, for changes).
sign_in() {
    local jar=$WORK/jar csrf
    csrf=$(curl -s -c "$jar" -H 'Content-Type: application/json' -H "Origin: $BASE" \
        -d "{\"email\":\"$1\",\"password\":\"demo\"}" "$BASE/api/v1/session" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf_token"])')
    COOKIE=$(awk '$6 == "ictdesk_session" {print $6 "=" $7}' "$jar")
    TOKEN=$(curl -s -b "$jar" -H 'Content-Type: application/json' -H "Origin: $BASE" \
        -H "X-CSRF-Token: $csrf" -d '{"name":"bench"}' "$BASE/api/v1/tokens" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
}

# $1 database, $2 cell, $3 path, $4 floor SQL; wrk with the session cookie, then the SQL.
measure_get() {
    local line
    line=$("${NICE[@]}" wrk -t 2 -c "$CONNECTIONS" -d "${SECONDS_PER_CELL}s" --timeout 10s \
        -H "Cookie: $COOKIE" -s bench/desk.lua "$BASE$3" | tail -n 1)
    record "$1" "$2" "${line#\{}"
    floor "$1" "$2" "$4"
}

# $1 database, $2 cell, $3 lua mode (create, status); changes through the API token.
measure_change() {
    local line
    line=$(BENCH_MODE=$3 BENCH_TOKEN=$TOKEN BENCH_FIRST=${FIRST_CREATED:-0} "${NICE[@]}" \
        wrk -t 1 -c "$CONNECTIONS" -d "${SECONDS_PER_CELL}s" --timeout 10s \
        -s bench/desk.lua "$BASE" | tail -n 1)
    record "$1" "$2" "${line#\{}"
}

# $1 database, $2 cell, $3 SQL (statements separated by ;): the median over FLOOR_RUNS
# of the statements' summed time, each statement run through sqlite3 / psql in one
# session (their own timers: the database's work, without HTTP or the server).
floor() {
    local script=$WORK/floor.sql statements
    statements=$(printf '%s' "$3" | sed 's/;\s*/;\n/g' | grep -c ';')
    {
        if [ "$1" = sqlite ]; then
            printf '.timer on\n.output /dev/null\n'
        else
            printf '\\timing on\n\\o /dev/null\n'
        fi
        for _ in $(seq "$FLOOR_RUNS"); do
            printf '%s\n' "$3" | sed 's/;\s*/;\n/g'
        done
    } >"$script"
    record "$1" "$2 (floor)" "$("${SQL[@]}" <"$script" 2>/dev/null | python3 bench/desk-floor.py "$statements")"
}

# Ids the cells need, read from the seeded data.
read_ids() {
    AGENT_ID=$(echo "SELECT id FROM users WHERE email = 'agent@demo.local';" | "${SQL[@]}" 2>/dev/null | head -n 1)
    CATEGORY_ID=$(echo "SELECT id FROM categories WHERE scope = 'ticket' ORDER BY id LIMIT 1;" | "${SQL[@]}" 2>/dev/null | head -n 1)
    TICKET_ID=$(echo "SELECT MAX(id) FROM tickets;" | "${SQL[@]}" 2>/dev/null | head -n 1)
    REQUESTER=$(echo "SELECT u.email FROM users u JOIN tickets t ON t.requester_id = u.id WHERE t.id = $TICKET_ID;" | "${SQL[@]}" 2>/dev/null | head -n 1)
    REQUESTER_ID=$(echo "SELECT requester_id FROM tickets WHERE id = $TICKET_ID;" | "${SQL[@]}" 2>/dev/null | head -n 1)
}

run_database() {
    local db=$1 select stats today
    open_database "$db"
    read_ids
    start_server "$db"
    sign_in agent@demo.local
    today=$(date -u +%Y-%m-%dT00:00:00.000Z)
    # The queries the pages run (crates/desk/src/storage/mod.rs and body.rs), literal.
    select="SELECT t.id, t.title, t.description, t.type, t.status, t.priority, t.category_id, c.name, t.requester_id, r.name, t.assignee_id, a.name, t.equipment_id, e.inventory_number, e.name, t.resolution, t.created_at, t.updated_at, t.resolved_at, t.closed_at, t.version, t.updated_by, ub.name FROM tickets t JOIN users r ON r.id = t.requester_id LEFT JOIN users a ON a.id = t.assignee_id LEFT JOIN categories c ON c.id = t.category_id LEFT JOIN equipment e ON e.id = t.equipment_id LEFT JOIN users ub ON ub.id = t.updated_by"
    stats="SELECT COUNT(*), COUNT(*) FILTER (WHERE status = 'new'), COUNT(*) FILTER (WHERE status = 'in_progress'), COUNT(*) FILTER (WHERE status = 'waiting'), COUNT(*) FILTER (WHERE status = 'resolved'), COUNT(*) FILTER (WHERE status = 'closed'), COUNT(*) FILTER (WHERE assignee_id IS NULL AND status IN ('new', 'in_progress', 'waiting')), COUNT(*) FILTER (WHERE assignee_id = $AGENT_ID AND status IN ('new', 'in_progress', 'waiting')), COUNT(*) FILTER (WHERE created_at >= '$today'), COUNT(*) FILTER (WHERE resolved_at >= '$today') FROM tickets"
    measure_get "$db" "all tickets (agent)" "/tickets" \
        "SELECT COUNT(*) FROM tickets t; $select ORDER BY t.updated_at DESC, t.id DESC LIMIT 20; $stats;"
    local filter="t.status = 'in_progress' AND t.category_id = $CATEGORY_ID AND t.assignee_id = $AGENT_ID"
    measure_get "$db" "filtered: status+category+assignee" \
        "/tickets?status=in_progress&category=$CATEGORY_ID&assignee=me" \
        "SELECT COUNT(*) FROM tickets t WHERE $filter; $select WHERE $filter ORDER BY t.updated_at DESC, t.id DESC LIMIT 20; $stats;"
    measure_get "$db" "search in tickets" "/tickets?q=%D0%BF%D1%80%D0%B8%D0%BD%D1%82%D0%B5%D1%80" \
        "SELECT COUNT(*) FROM tickets t WHERE t.search_text LIKE '%принтер%'; $select WHERE t.search_text LIKE '%принтер%' ORDER BY t.updated_at DESC, t.id DESC LIMIT 20; $stats;"
    measure_get "$db" "knowledge-base search" "/kb?q=VPN" "$(kb_floor "$db")"
    measure_get "$db" "ticket page" "/tickets/$TICKET_ID" \
        "$select WHERE t.id = $TICKET_ID; SELECT * FROM ticket_comments WHERE ticket_id = $TICKET_ID ORDER BY id; SELECT * FROM history WHERE entity_kind = 'ticket' AND entity_id = $TICKET_ID ORDER BY id; SELECT * FROM attachments WHERE ticket_id = $TICKET_ID;"
    local agent_cookie=$COOKIE agent_token=$TOKEN
    sign_in "$REQUESTER"
    local mine="SELECT COUNT(*) FROM tickets t WHERE t.requester_id = $REQUESTER_ID; $select WHERE t.requester_id = $REQUESTER_ID ORDER BY t.updated_at DESC, t.id DESC LIMIT 20;"
    measure_get "$db" "a requester's list" "/tickets" \
        "$mine ${stats/FROM tickets/FROM tickets WHERE requester_id = $REQUESTER_ID};"
    COOKIE=$agent_cookie TOKEN=$agent_token
    FIRST_CREATED=$(( $(echo "SELECT MAX(id) FROM tickets;" | "${SQL[@]}" 2>/dev/null | head -n 1) + 1 ))
    measure_change "$db" "create a ticket" create
    measure_change "$db" "change a status" status
    stop_server
}

# The knowledge-base search's SQL, per database (full text: FTS5 or tsvector).
kb_floor() {
    if [ "$1" = sqlite ]; then
        echo "SELECT COUNT(*) FROM articles ar JOIN articles_fts ON articles_fts.rowid = ar.id WHERE articles_fts MATCH '\"vpn\"*'; SELECT ar.id, ar.title, ar.body FROM articles ar JOIN articles_fts ON articles_fts.rowid = ar.id WHERE articles_fts MATCH '\"vpn\"*' ORDER BY bm25(articles_fts), ar.id LIMIT 20;"
    else
        echo "SELECT COUNT(*) FROM articles ar WHERE ar.search @@ (websearch_to_tsquery('russian', 'VPN') || websearch_to_tsquery('english', 'VPN')); SELECT ar.id, ar.title, ar.body FROM articles ar WHERE ar.search @@ (websearch_to_tsquery('russian', 'VPN') || websearch_to_tsquery('english', 'VPN')) ORDER BY ts_rank(ar.search, websearch_to_tsquery('russian', 'VPN') || websearch_to_tsquery('english', 'VPN')) DESC, ar.id LIMIT 20;"
    fi
}

report() {
    local out=$ROOT/bench/results/$(date -u +%F).md
    {
        printf '\n## Desk at scale, %s\n\n' "$(date -u)"
        printf 'Machine: %s cores, %s; %s tickets, %s users, %s equipment, %s articles; wrk %s connections, %s s per cell; floor: median of %s runs through sqlite3/psql; ictdesk: %s.\n\n' \
            "$(nproc)" "$(uname -sr)" "$TICKETS" "$USERS" "$EQUIPMENT" "$ARTICLES" \
            "$CONNECTIONS" "$SECONDS_PER_CELL" "$FLOOR_RUNS" "$ICTDESK"
        python3 bench/desk-floor.py --table "$RESULTS"
        printf '\nRaw results:\n\n```\n'
        cat "$RESULTS"
        printf '```\n'
    } | tee -a "$out"
    log "appended to $out"
}

main() {
    prepare
    touch "$RESULTS"
    for db in $DATABASES; do
        run_database "$db"
    done
    report
}

main "$@"
