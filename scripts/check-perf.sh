#!/usr/bin/env bash
# The full `check perf --load ${LOAD:-s}` (60 s each) against a fresh etcdts member: the real
# etcdctl's run, then ctl's. Usage: scripts/check-perf.sh   (needs etcdctl)
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build --silent
dir=$(mktemp -d)
port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
c=$(port); p=$(port)
node bin/etcdts.js --name perf --data-dir "$dir/perf" --listen-client-urls "http://127.0.0.1:$c" --advertise-client-urls "http://127.0.0.1:$c" \
  --listen-peer-urls "http://127.0.0.1:$p" --initial-advertise-peer-urls "http://127.0.0.1:$p" --initial-cluster "perf=http://127.0.0.1:$p" >"$dir/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
sleep 3
echo "== etcdctl check perf --load ${LOAD:-s}"
etcdctl --endpoints="127.0.0.1:$c" check perf --load "${LOAD:-s}" | tr '\r' '\n' | grep -v ' / 60 ' || true
echo "== ctl check perf --load ${LOAD:-s}"
node bin/ctl.js --endpoints="127.0.0.1:$c" check perf --load "${LOAD:-s}"
