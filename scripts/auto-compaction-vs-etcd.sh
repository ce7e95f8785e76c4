#!/usr/bin/env bash
# Long run (about 6 minutes): --auto-compaction-mode revision --auto-compaction-retention 100 on a
# real etcd and on etcdts side by side, 1000 puts each, then wait past etcd's 5-minute compactor
# step and compare the compacted revisions (the first revision still readable). No test hook:
# both use the real interval. Usage: scripts/auto-compaction-vs-etcd.sh   (needs etcd, etcdctl)
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build --silent
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$dir"' EXIT
port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
start() { # kind name
  local c p; c=$(port); p=$(port)
  local args=(--name "$2" --data-dir "$dir/$2" --listen-client-urls "http://127.0.0.1:$c" --advertise-client-urls "http://127.0.0.1:$c"
    --listen-peer-urls "http://127.0.0.1:$p" --initial-advertise-peer-urls "http://127.0.0.1:$p" --initial-cluster "$2=http://127.0.0.1:$p"
    --auto-compaction-mode revision --auto-compaction-retention 100 --logger zap)
  if [ "$1" = etcd ]; then etcd "${args[@]}" >"$dir/$2.log" 2>&1 & else node bin/etcdts.js "${args[@]}" >"$dir/$2.log" 2>&1 & fi
  echo "127.0.0.1:$c"
}
E=$(start etcd etcd); T=$(start etcdts ts)
sleep 3
for ep in "$E" "$T"; do
  for i in $(seq 1 1000); do
    curl -s -o /dev/null -X POST "http://$ep/v3/kv/put" -d "{\"key\":\"$(printf k%d $((i % 10)) | base64)\",\"value\":\"$(printf %d "$i" | base64)\"}"
  done
done
echo "1000 puts each; waiting 330 s for the 5-minute compactor step..."
sleep 330
first_readable() { # endpoint
  local rev; rev=$(etcdctl --endpoints="$1" get k1 -w json | sed -E 's/.*"revision":([0-9]+).*/\1/')
  local lo=1
  while [ "$lo" -le "$rev" ]; do
    if etcdctl --endpoints="$1" get k1 --rev="$lo" >/dev/null 2>&1; then echo "current=$rev first-readable=$lo"; return; fi
    lo=$((lo + 1))
  done
}
echo "etcd:   $(first_readable "$E")"; grep -o '"msg":"completed auto revision compaction"[^}]*' "$dir/etcd.log" || true
echo "etcdts: $(first_readable "$T")"; grep -o '"msg":"completed auto revision compaction"[^}]*' "$dir/ts.log" || true
