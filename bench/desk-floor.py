"""bench/desk.sh's numbers.

desk-floor.py STATEMENTS < timer output
    The timer lines of sqlite3 (".timer on": "Run Time: real 0.012 …") or psql
    ("\\timing on": "Time: 1.234 ms"), STATEMENTS per run: prints the JSON fields of the
    floor, the median and the smallest of the runs' summed times in ms.
desk-floor.py --table RESULTS.jsonl
    The Markdown table: each cell beside its floor, and how many times the floor it took.
"""

import json
import re
import statistics
import sys


def floor(statements):
    times = []
    for line in sys.stdin:
        sqlite = re.search(r"Run Time: real ([0-9.]+)", line)
        postgres = re.search(r"^Time: ([0-9.]+) ms", line)
        if sqlite:
            times.append(float(sqlite.group(1)) * 1000)
        elif postgres:
            times.append(float(postgres.group(1)))
    runs = [sum(times[i : i + statements]) for i in range(0, len(times), statements)]
    runs = runs or [float("nan")]
    print(
        '"floor_ms_p50":%.3f,"floor_ms_min":%.3f,"runs":%d'
        % (statistics.median(runs), min(runs), len(runs))
    )


def table(path):
    rows = [json.loads(line) for line in open(path)]
    floors = {
        (r["database"], r["cell"][: -len(" (floor)")]): r
        for r in rows
        if r["cell"].endswith(" (floor)")
    }
    print("| database | endpoint | requests/s | p50 ms | p99 ms | not 2xx | floor p50 ms | p50 / floor | load |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if r["cell"].endswith(" (floor)"):
            continue
        if r["cell"] == "seed":
            print(f"| {r['database']} | seed | | | | | | | {r['load']} ({r['seconds']} s) |")
            continue
        f = floors.get((r["database"], r["cell"]))
        floor_ms = f"{f['floor_ms_p50']:.2f}" if f else ""
        ratio = f"{r['p50_ms'] / f['floor_ms_p50']:.1f}×" if f and f["floor_ms_p50"] > 0 else ""
        print(
            f"| {r['database']} | {r['cell']} | {r['per_s']} | {r['p50_ms']} | {r['p99_ms']} "
            f"| {r['not_2xx']} | {floor_ms} | {ratio} | {r['load']} |"
        )


if __name__ == "__main__":
    if sys.argv[1] == "--table":
        table(sys.argv[2])
    else:
        floor(int(sys.argv[1]))
