#!/usr/bin/python3
"""Anti-entropy on demand: how long `cairnctl repair` takes, and how many bytes it costs, to find
and fix 1% divergent keys among 1 M in a 3-node Cairn cluster, without and with a bandwidth limit
(make bench-repair; QUICK=1 for --quick, 200 K keys).

All on loopback (ports picked free, each node's data in a temporary directory removed at the end,
every process stopped by PID). The nodes run with --repair-interval-ms 0 (repair only on
demand) and --hint-window-ms 1 (hints dropped, not delivered), so the writes a node misses stay
missing until the repair. Steps:
  1. load: 1 M keys (100-byte values) through node 1 at QUORUM (redis-cli --pipe);
  2. per run: node 3 is cut off the bus (CAIRN FAULT PARTITION), 1% of the keys get new values
     through node 1, the hints for node 3 expire, the bus heals; then `cairnctl --json repair`
     over every slot, timed; then node 3's copies of a sample of the changed keys are read at ONE
     (its own replica answers) and must hold the new values;
  3. the nodes restart with --repair-bytes-per-second LIMIT, and step 2 runs again on other keys.
There is no peer to run beside: Redis Cluster has no anti-entropy, and Cassandra's nodetool
repair is not packaged for Debian. The table gives the measured figures, and the busiest node's
repair bytes per second of the run against the limit."""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster_bench import (HOST, Process, free_ports, info_fields, machine_line,  # noqa: E402
                           resp_command)

VALUE_BYTES = 100
START_TIMEOUT_S = 60.0
SAMPLE_KEYS = 2000
PIPE_KEYS = 5000


def wait_for(ready, what, timeout_s=START_TIMEOUT_S, processes=()):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for process in processes:
            process.check_running()
        try:
            if ready():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("%s not reached within %.0f s" % (what, timeout_s))


class RepairCluster:
    """Three cairnd nodes whose data directories outlive restarts (node 1 founds the cluster)."""

    def __init__(self, args, root):
        self.args = args
        self.root = root
        ports = free_ports(6)
        self.ports, self.bus_ports = ports[:3], ports[3:]
        self.processes = []
        self.ids = []

    def start(self, limit_bytes_per_second):
        for i, (port, bus_port) in enumerate(zip(self.ports, self.bus_ports)):
            directory = os.path.join(self.root, "node%d" % (i + 1))
            os.makedirs(directory, exist_ok=True)
            join = ["--cluster-enabled"] if i == 0 else ["--seeds", "%s:%d" % (HOST,
                                                                             self.ports[0])]
            self.processes.append(Process("cairn node%d" % (i + 1), [
                self.args.cairnd, "--port", str(port), "--bus-port", str(bus_port),
                "--dir", os.path.join(directory, "data"), *join, "--bind", HOST,
                "--log-level", "warn", "--enable-fault-commands", "--repair-interval-ms", "0",
                "--hint-window-ms", "1", "--repair-bytes-per-second",
                str(limit_bytes_per_second)], directory))
        wait_for(lambda: all(self.formed(port) for port in self.ports),
                 "cluster_state:ok with 3 nodes on every node", processes=self.processes)
        self.ids = [resp_command(port, "CLUSTER", "MYID") for port in self.ports]

    def formed(self, port):
        fields = info_fields(resp_command(port, "CLUSTER", "INFO"))
        return (fields.get("cluster_state") == "ok" and fields.get("cluster_size") == "3"
                and fields.get("cluster_known_nodes") == "3")

    def stop(self):
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait()
        self.processes = []

    def all_alive(self):
        """No node's CLUSTER NODES flags any member as failed or suspected."""
        for port in self.ports:
            if "fail" in resp_command(port, "CLUSTER", "NODES"):
                return False
        return True


def resp_request(*args):
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def key_of(i):
    return b"key:%07d" % i


def pipe_sets(port, keys, tag):
    """SETs each key to a 100-byte value naming `tag` through redis-cli --pipe, PIPE_KEYS at a
    time (a node answers BUSY past its requests in flight); all must succeed."""
    keys = list(keys)
    for start in range(0, len(keys), PIPE_KEYS):
        payload = b"".join(resp_request(b"SET", key_of(i), value_of(i, tag))
                           for i in keys[start:start + PIPE_KEYS])
        result = subprocess.run(["redis-cli", "-h", HOST, "-p", str(port), "--pipe"],
                                input=payload, capture_output=True, timeout=600)
        if result.returncode != 0 or b"errors: 0," not in result.stdout:
            raise RuntimeError("redis-cli --pipe failed: %s %s" % (result.stdout[-500:],
                                                                   result.stderr[-500:]))


def value_of(i, tag):
    text = b"%s:%d:" % (tag, i)
    return text + b"v" * (VALUE_BYTES - len(text))


def read_at_one(port, keys):
    """GETs `keys` through the node at `port` at consistency ONE: its own replica answers."""
    with socket.create_connection((HOST, port), timeout=30) as s:
        s.sendall(resp_request(b"CAIRN", b"CONSISTENCY", b"ONE") +
                  b"".join(resp_request(b"GET", key_of(i)) for i in keys))
        reader = s.makefile("rb")
        if reader.readline() != b"+OK\r\n":
            raise RuntimeError("CAIRN CONSISTENCY ONE refused")
        values = []
        for _ in keys:
            header = reader.readline()
            length = int(header[1:])
            values.append(None if length < 0 else reader.read(length + 2)[:-2])
        return values


def hints_field(port, field):
    return int(info_fields(resp_command(port, "INFO", "cluster")).get(field, "0"))


def diverge(cluster, keys, tag):
    """Node 3 misses new values of `keys`: cut off, written through node 1, hints expired,
    healed."""
    stored_before = hints_field(cluster.ports[0], "cairn_hints_stored")
    resp_command(cluster.ports[2], "CAIRN", "FAULT", "PARTITION", cluster.ids[0], cluster.ids[1])
    for port in cluster.ports[:2]:
        resp_command(port, "CAIRN", "FAULT", "PARTITION", cluster.ids[2])
    try:
        pipe_sets(cluster.ports[0], keys, tag)
        wait_for(lambda: hints_field(cluster.ports[0], "cairn_hints_stored") - stored_before >=
                 len(keys) and hints_field(cluster.ports[0], "cairn_hints_pending") == 0,
                 "the hints for node 3 to expire", processes=cluster.processes)
    finally:
        for port in cluster.ports:
            resp_command(port, "CAIRN", "FAULT", "HEAL")
    wait_for(cluster.all_alive, "every node alive again", processes=cluster.processes)


def repair(args, cluster):
    result = subprocess.run([args.cairnctl, "--port", str(cluster.ports[0]), "--json", "repair"],
                            capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        raise RuntimeError("cairnctl repair failed: %s %s" % (result.stdout, result.stderr))
    return json.loads(result.stdout)


def run(args, cluster, name, limit, keys, tag):
    diverge(cluster, keys, tag)
    sample = keys[::max(1, len(keys) // SAMPLE_KEYS)]
    stale = sum(v != value_of(i, tag) for i, v in zip(sample, read_at_one(cluster.ports[2],
                                                                           sample)))
    report = repair(args, cluster)
    wrong = sum(v != value_of(i, tag) for i, v in zip(sample, read_at_one(cluster.ports[2],
                                                                           sample)))
    busiest = max(node["bytes"] * 1000 / max(node["elapsed_ms"], 1) for node in report["nodes"])
    return {
        "name": name,
        "limit": limit,
        "divergent": len(keys),
        "stale_before": "%d/%d" % (stale, len(sample)),
        "wrong_after": "%d/%d" % (wrong, len(sample)),
        "seconds": report["elapsed_ms"] / 1000,
        "bytes": report["bytes"],
        "exchanged": report["keys_fetched"] + report["keys_pushed"],
        "slots": report["slots_differing"],
        "busiest": busiest,
        "complete": report["complete"],
    }


def mib(value):
    return "%.1f MiB" % (value / 2**20)


def print_table(results):
    header = ("run", "divergent", "stale before", "wrong after", "time (s)", "repair bytes",
              "keys exchanged", "slots differing", "busiest node/s", "limit/s", "within")
    rows = []
    for r in results:
        within = "-" if r["limit"] == 0 else ("yes" if r["busiest"] <= r["limit"] * 1.05 else "NO")
        rows.append((r["name"], str(r["divergent"]), r["stale_before"], r["wrong_after"],
                     "%.1f" % r["seconds"], mib(r["bytes"]), str(r["exchanged"]), str(r["slots"]),
                     mib(r["busiest"]), "none" if r["limit"] == 0 else mib(r["limit"]), within))
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cairnd", required=True)
    parser.add_argument("--cairnctl", required=True)
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--limit", type=int, default=8 << 20,
                        help="--repair-bytes-per-second of the limited run")
    parser.add_argument("--quick", action="store_true", help="200 K keys")
    parser.add_argument("--workdir", default=None)
    return parser.parse_args()


def main():
    args = parse_args()
    args.cairnd = os.path.abspath(args.cairnd)  # the nodes run in their own directories
    args.cairnctl = os.path.abspath(args.cairnctl)
    if args.quick:
        args.keys = 200_000
    root = tempfile.mkdtemp(prefix="repair-bench-", dir=args.workdir)
    cluster = RepairCluster(args, root)
    results = []
    try:
        print("anti-entropy on demand in a 3-node Cairn cluster on 127.0.0.1%s" % (
            " [quick]" if args.quick else ""))
        print("machine:  %s (shared: one run's figures)" % machine_line())
        cluster.start(0)
        started = time.monotonic()
        pipe_sets(cluster.ports[0], range(args.keys), b"load")
        print("loaded:   %d keys of %d bytes at QUORUM in %.1f s" % (
            args.keys, VALUE_BYTES, time.monotonic() - started))
        divergent = args.keys // 100
        results.append(run(args, cluster, "no limit", 0,
                           list(range(0, args.keys, 100))[:divergent], b"one"))
        cluster.stop()
        cluster.start(args.limit)
        results.append(run(args, cluster, "limited", args.limit,
                           list(range(1, args.keys, 100))[:divergent], b"two"))
        print()
        print_table(results)
        print()
        print("stale before: of a sample of the divergent keys, those node 3 held old (the "
              "divergence was real); wrong after: those it still did not hold new after the "
              "repair (must be 0). repair bytes: digest bytes read plus bus bytes, all nodes. "
              "busiest node/s: the most bytes one node used per second of its pass.")
        if any(not r["complete"] or not r["wrong_after"].startswith("0/") for r in results):
            print("FAILED: a repair was incomplete or left a key wrong")
            return 1
        return 0
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
