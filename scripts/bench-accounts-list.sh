#!/bin/sh
# The load figure of BENCHMARKS.md ("GET /api/v1/accounts with 600 accounts"): starts the demo
# of BINARY on PORT, creates 600 accounts, and runs wrk (Debian package `wrk`) for 15 s.
# usage: bench.sh BINARY PORT LABEL
bin=$1; port=$2; label=$3
dir=$(mktemp -d /tmp/bench-XXXX)
$bin demo --port $port --data-dir $dir/data > $dir/out.log 2>&1 &
pid=$!
for i in $(seq 1 60); do grep -q "BILLING_ENGINE_TOKEN=" $dir/out.log 2>/dev/null && break; sleep 1; done
token=$(grep -o "BILLING_ENGINE_TOKEN=[^ ]*" $dir/out.log | cut -d= -f2)
for i in $(seq 1 600); do
  curl -s -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d "{\"name\": \"Load $i\"}" http://127.0.0.1:$port/api/v1/accounts
done
n=$(curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/accounts?limit=500" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["items"]), d.get("next_cursor") is not None)')
bytes=$(curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/accounts" | wc -c)
echo "== $label: first page items/has-more: $n; bytes of GET /api/v1/accounts: $bytes"
wrk -t2 -c8 -d15s --latency -H "Authorization: Bearer $token" http://127.0.0.1:$port/api/v1/accounts | grep -E "Requests/sec|50%|90%|99%|requests in"
kill $pid; wait $pid 2>/dev/null; rm -rf $dir
