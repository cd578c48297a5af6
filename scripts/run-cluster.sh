#!/usr/bin/env bash
# `make run`: a local 3-node Cairn cluster in the foreground on 127.0.0.1:7379-7381 (cluster bus
# on 17379-17381), data under ./data/node-1..3. The first node founds the cluster and the others
# join through it; a node restarted on its directory rejoins as itself. Ctrl-C stops every node
# (by PID) and waits for each to close its data cleanly.
#
#   scripts/run-cluster.sh [CAIRND]     CAIRND: the binary (default build/cairnd)
set -euo pipefail

cairnd="${1:-build/cairnd}"
ports=(7379 7380 7381)
pids=()

stop_all() {
  trap - INT TERM
  echo
  echo "Stopping the cluster..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  exit 0
}
trap stop_all INT TERM

for i in 0 1 2; do
  port="${ports[$i]}"
  dir="./data/node-$((i + 1))"
  mkdir -p "$dir"
  if [ "$i" -eq 0 ]; then
    cluster_flags=(--cluster-enabled)
  else
    cluster_flags=(--seeds "127.0.0.1:${ports[0]}")
  fi
  "$cairnd" --port "$port" --dir "$dir" "${cluster_flags[@]}" &
  pids+=("$!")
done

echo "Cairn cluster of 3 nodes on 127.0.0.1:7379-7381 (data in ./data/node-1..3)."
echo "Connect with: redis-cli -c -p 7379      (Ctrl-C stops every node)"
# Returns when a node exits on its own (or on Ctrl-C, through stop_all).
wait -n "${pids[@]}" || true
echo "A node exited; stopping the others."
stop_all
