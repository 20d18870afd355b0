"""DuckDB side of crates/engine/examples/rate_bench (run by it, in its own process).

usage: rate_bench_duckdb.py SCRIPT.sql THREADS

Runs the statements of SCRIPT.sql (written by the benchmark from the same configuration: macros,
COPY of the rated rows to Parquet, the new lines, then one row of totals) and prints one JSON line:
wall seconds, CPU seconds, peak resident memory (VmHWM) and the totals as exact decimal text.
"""

import json
import resource
import sys
import time

import duckdb


def peak_rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def plain(v):
    """Exact decimal text without exponent or trailing zeros."""
    s = str(v)
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def main():
    script, threads = sys.argv[1], int(sys.argv[2])
    sql = open(script).read()
    t = time.time()
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    con.execute("SET preserve_insertion_order = false")
    statements = [s for s in sql.split(";\n") if s.strip()]
    for s in statements[:-1]:
        con.execute(s)
    rows, new_lines, billed, effective = con.execute(statements[-1]).fetchone()
    out = {
        "engine": "duckdb " + duckdb.__version__,
        "seconds": round(time.time() - t, 3),
        "cpu_seconds": round(cpu_seconds(), 2),
        "peak_rss_kb": peak_rss_kb(),
        "rows": rows,
        "new_lines": new_lines,
        "billed": plain(billed),
        "effective": plain(effective),
    }
    print(json.dumps(out, separators=(",", ":")))


if __name__ == "__main__":
    main()
