# The DuckDB side of crates/engine/examples/pivot_bench.rs: the same pivots over the same rated
# Parquet files. Usage: python pivot_bench_duckdb.py RUN_DIR RUNS QUERIES_JSON
# QUERIES_JSON: [{"name": ..., "where": SQL}]. Prints one JSON line: per query the warm median
# seconds, the seconds of every run and the groups (keys, currency, rows, exact sums as text).
import json
import statistics
import sys
import time

import duckdb

run_dir, runs, queries = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
con = duckdb.connect()
files = f"{run_dir}/*.parquet"
# Engine semantics: an empty text groups with the missing ones; sums exact at scale 24.
SUMS = ["ProviderCost", "BilledCost", "EffectiveCost", "Profit"]
out = {"engine": "duckdb", "version": duckdb.__version__, "queries": []}
for q in queries:
    sql = f"""
        SELECT NULLIF(BillingFamilyName, '') AS family,
               NULLIF(SubAccountName, '') AS sub_account,
               NULLIF(ServiceName, '') AS service,
               BillingCurrency AS currency,
               COUNT(*) AS n,
               {", ".join(f"CAST(SUM({c}) AS VARCHAR) AS {c}" for c in SUMS)}
        FROM read_parquet('{files}')
        WHERE {q["where"]}
        GROUP BY ALL
    """
    con.execute(sql).fetchall()  # warm
    times, rows = [], None
    for _ in range(runs):
        t = time.perf_counter()
        rows = con.execute(sql).fetchall()
        times.append(time.perf_counter() - t)
    out["queries"].append(
        {
            "name": q["name"],
            "median": statistics.median(times),
            "times": times,
            "groups": [
                {"keys": list(r[0:3]), "currency": r[3], "rows": r[4], "sums": list(r[5:])}
                for r in rows
            ],
        }
    )
print(json.dumps(out))
