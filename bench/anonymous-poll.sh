#!/usr/bin/env bash
# Anonymous polls over a long log (issue 9.6): `GET /messages?since=0&limit=1` without
# credentials, against a hub whose log holds N events an anonymous viewer may not see
# (0.7 KB each, for agents). Before the fix such a poll read the whole log (the review:
# 0.7–0.9 s of CPU for 42 800 events); now a page looks at 1 000 events at most and
# answers has_more. The hub's own CPU per request (from /proc, over RUNS requests)
# and the wall time, timed with hyperfine (Debian's `hyperfine` package) against
# GET /test on the same server (the floor: one HTTP round trip through curl), for
# N = 4 300 and N = 43 000: the poll's cost must not grow with the log.
#
#   bench/anonymous-poll.sh                        # target/release/ictdesk
#   ICTDESK=/path/to/ictdesk RUNS=50 bench/anonymous-poll.sh
#
# Every wait is bounded; the hub is stopped by PID.
set -euo pipefail
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }

cd "$(dirname "$0")/.."
ICTDESK=${ICTDESK:-${CARGO_TARGET_DIR:-target}/release/ictdesk}
RUNS=${RUNS:-200}
WORK=$(mktemp -d /tmp/ictdesk-anonymous-poll.XXXXXX)
PID=
ADDR=

cleanup() {
    if [ -n "$PID" ]; then
        kill "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

start() {
    rm -f "$WORK/addr"
    "$ICTDESK" hub --database "sqlite://$1" --port 0 --addr-file "$WORK/addr" \
        >>"$WORK/hub.log" 2>&1 &
    PID=$!
    for _ in $(seq 300); do
        [ -s "$WORK/addr" ] && break
        sleep 0.1
    done
    [ -s "$WORK/addr" ] || { cat "$WORK/hub.log"; exit 1; }
    ADDR=$(cat "$WORK/addr")
}

# The hub's user + system CPU time so far, in milliseconds (clock ticks of /proc).
server_cpu_ms() {
    local ticks
    ticks=$(awk '{print $14 + $15}' "/proc/$PID/stat")
    echo $(( ticks * 1000 / $(getconf CLK_TCK) ))
}

stop() {
    kill "$PID"
    wait "$PID" 2>/dev/null || true
    PID=
}

for events in 4300 43000; do
    database=$WORK/log-$events.db
    start "$database" # creates the schema
    stop
    python3 - "$database" "$events" <<'PY'
import datetime, json, sqlite3, sys

path, count = sys.argv[1], int(sys.argv[2])
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
data = json.dumps({"ticket": {"id": 1, "title": "x" * 650}})
row = ("ticket_created", now, data, '{"roles":["agent"]}')
with sqlite3.connect(path) as db:
    db.executemany(
        "INSERT INTO events (type, created_at, data, audience) VALUES (?, ?, ?, ?)",
        [row] * count,
    )
PY
    start "$database"
    echo "== $events events an anonymous viewer may not see"
    curl -sf "http://$ADDR/messages?since=0&limit=1"
    echo
    for url in "messages?since=0&limit=1" test; do
        before=$(server_cpu_ms)
        for _ in $(seq "$RUNS"); do curl -sf "http://$ADDR/$url" >/dev/null; done
        echo "server CPU per GET /$url: $(( ($(server_cpu_ms) - before) * 1000 / RUNS )) µs"
    done
    hyperfine --shell=none --runs "$RUNS" --warmup 2 --export-json "$WORK/times.json" \
        "curl -sf http://$ADDR/messages?since=0&limit=1" "curl -sf http://$ADDR/test" >/dev/null
    python3 - "$WORK/times.json" <<'PY'
import json, sys

poll, floor = json.load(open(sys.argv[1]))["results"]
ms = lambda result: result["median"] * 1000
print(f"wall: poll median {ms(poll):.1f} ms, /test floor median {ms(floor):.1f} ms")
PY
    stop
done
