#!/usr/bin/python3
"""Ring transitions under data: how fast a joining node streams its share of 1 GiB in a 3-node
Cairn cluster, how long the whole join and a leave take, without and with the default bandwidth
limit (make bench-stream; QUICK=1 for --quick, 100 MiB).

All on loopback (ports picked free, each node's data in a temporary directory removed at the end,
every process stopped by PID). The three nodes run with --repair-interval-ms 0 (no background
repair: only the ring transitions' streams move data) and --ring-settle-ms 1000. Steps:
  1. load: 1 GiB of values (2^20 keys of 1 KiB; --quick 102,400 keys) through node 1 at QUORUM
     with redis-cli --pipe; its rate (MiB/s of keys and values) is the reference figure;
  2. per run: a 4th node starts with a fresh data directory and --seeds node 1; every ~100 ms the
     script polls the joiner's CAIRN RING STATUS and INFO cluster and every node's ring. It times
     the whole join (start to every node showing transition none with 4 members) and the stream:
     from the first poll that shows the joiner received repair bytes to the first that shows it
     has streamed every partition it gains (stream_partitions_done = stream_partitions, or the
     ring past "moving"). Then a sample of the keys whose preference lists hold the joiner (CRC16
     slots against CLUSTER SLOTS) is read at ONE through it (its own replica answers): every value
     must be right. Then `cairnctl leave` takes the joiner out again, timed the same way with the
     three others as the gainers, and the same sample is read at ONE through each of them;
  3. the three nodes restart with the next run's --repair-bytes-per-second, keeping their data
     directories (the joiner and the leaver get the same limit), and step 2 runs again with a new
     joiner (a departed node cannot rejoin with its data directory).
Runs: the default limit (16 MiB/s), then none (0). The table gives the measured figures; the load
rate is the reference the streaming rate is set against. No peer runs beside it: Redis Cluster
moves slots only when told (redis-cli --cluster rebalance) and is a different operation."""

import argparse
import array
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster_bench import (HOST, Process, free_ports, info_fields, machine_line,  # noqa: E402
                           resp_command)

VALUE_BYTES = 1024
KEYS_FULL = 1 << 20       # 1 GiB of values
KEYS_QUICK = 102_400      # 100 MiB of values
DEFAULT_LIMIT = 16 << 20  # cairnd's --repair-bytes-per-second default
RING_SETTLE_MS = 1000
PIPE_KEYS = 2000          # per redis-cli --pipe: a node answers BUSY past its requests in flight
PIPE_ATTEMPTS = 20
BUSY_PAUSE_S = 0.5
SAMPLE_KEYS = 4000
POLL_S = 0.1
START_TIMEOUT_S = 60.0
VALUE_POOL = random.Random(20251124).randbytes(1 << 20)


# ---------------------------------------------------------------------------------------------
# Keys, values, slots

def key_of(i):
    return b"key:%08d" % i


def value_of(i):
    """VALUE_BYTES bytes naming `i`, then a window of a fixed random pool: incompressible within a
    value, and checkable without keeping what was written."""
    head = b"%d:" % i
    offset = (i * 7919) % (len(VALUE_POOL) - VALUE_BYTES)
    return head + VALUE_POOL[offset:offset + VALUE_BYTES - len(head)]


def crc16_table():
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
        table.append(crc & 0xFFFF)
    return table


CRC16_TABLE = crc16_table()


def key_slot(key):
    """Redis Cluster's slot: CRC16 (XMODEM) of the key, or of its {hash tag}, mod 16384."""
    start = key.find(b"{")
    if start >= 0:
        end = key.find(b"}", start + 1)
        if end > start + 1:
            key = key[start + 1:end]
    crc = 0
    for byte in key:
        crc = ((crc << 8) & 0xFFFF) ^ CRC16_TABLE[((crc >> 8) ^ byte) & 0xFF]
    return crc & 0x3FFF


# ---------------------------------------------------------------------------------------------
# RESP

class ReplyError(OSError):
    """An error reply (an OSError, so a poll that meets one while a node starts is retried)."""


def resp_request(*args):
    args = [a if isinstance(a, bytes) else str(a).encode() for a in args]
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def read_reply(reader):
    """One RESP2/RESP3 reply: arrays and maps as lists (a map flattened), bulk strings as bytes."""
    line = reader.readline()
    if not line.endswith(b"\r\n"):
        raise OSError("connection closed")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise ReplyError(rest.decode(errors="replace"))
    if kind == b":":
        return int(rest)
    if kind == b"_":
        return None
    if kind == b"$":
        length = int(rest)
        return None if length < 0 else reader.read(length + 2)[:-2]
    if kind in (b"*", b"%"):
        count = int(rest) * (2 if kind == b"%" else 1)
        return None if count < 0 else [read_reply(reader) for _ in range(count)]
    raise OSError("unexpected reply %r" % line[:40])


def command(port, *args, timeout_s=10.0):
    with socket.create_connection((HOST, port), timeout=timeout_s) as s:
        s.sendall(resp_request(*args))
        return read_reply(s.makefile("rb"))


def ring_status(port):
    """CAIRN RING STATUS as a dict of text keys."""
    reply = command(port, "CAIRN", "RING", "STATUS")
    return {k.decode(): (v.decode() if isinstance(v, bytes) else v)
            for k, v in zip(reply[::2], reply[1::2])}


def replica_slots(port, node_id):
    """The slots whose preference list (CLUSTER SLOTS) holds `node_id`."""
    slots = set()
    for entry in command(port, "CLUSTER", "SLOTS"):
        start, end, replicas = entry[0], entry[1], entry[2:]
        if any(len(r) > 2 and r[2].decode() == node_id for r in replicas):
            slots.update(range(start, end + 1))
    return slots


def read_at_one(port, keys):
    """GETs `keys` through the node at `port` at consistency ONE: its own replica answers."""
    with socket.create_connection((HOST, port), timeout=60) as s:
        s.sendall(resp_request("CAIRN", "CONSISTENCY", "ONE") +
                  b"".join(resp_request(b"GET", key_of(i)) for i in keys))
        reader = s.makefile("rb")
        if read_reply(reader) != "OK":
            raise RuntimeError("CAIRN CONSISTENCY ONE refused")
        return [read_reply(reader) for _ in keys]


def wrong_values(port, keys):
    return sum(value != value_of(i) for i, value in zip(keys, read_at_one(port, keys)))


# ---------------------------------------------------------------------------------------------
# The cluster

class Node:
    def __init__(self, name, directory, port, bus_port):
        self.name = name
        self.directory = directory
        self.port = port
        self.bus_port = bus_port
        self.process = None
        self.id = None


class StreamCluster:
    """Three cairnd nodes whose data directories outlive restarts (node 1 founds the cluster),
    and the joiners, each with a fresh directory."""

    def __init__(self, args, root):
        self.args = args
        self.root = root
        ports = free_ports(6)
        self.nodes = [Node("node%d" % (i + 1), os.path.join(root, "node%d" % (i + 1)),
                           ports[i], ports[3 + i]) for i in range(3)]
        self.joiners = 0

    def argv(self, node, limit, seed):
        join = ["--seeds", "%s:%d" % (HOST, seed)] if seed else ["--cluster-enabled"]
        return [self.args.cairnd, "--port", str(node.port), "--bus-port", str(node.bus_port),
                "--dir", os.path.join(node.directory, "data"), *join, "--bind", HOST,
                "--log-level", "warn", "--repair-interval-ms", "0",
                "--ring-settle-ms", str(RING_SETTLE_MS),
                "--repair-bytes-per-second", str(limit)]

    def launch(self, node, limit, seed):
        os.makedirs(node.directory, exist_ok=True)
        node.process = Process("cairn " + node.name, self.argv(node, limit, seed), node.directory)

    def start(self, limit):
        for i, node in enumerate(self.nodes):
            self.launch(node, limit, self.nodes[0].port if i else None)
        self.wait(lambda: all(self.settled(n.port, 3) for n in self.nodes) and
                  all(self.info_ok(n.port) for n in self.nodes),
                  "every node: cluster_state ok, 3 members, transition none", START_TIMEOUT_S)
        for node in self.nodes:
            node.id = command(node.port, "CLUSTER", "MYID").decode()

    def add_joiner(self, limit):
        self.joiners += 1
        ports = free_ports(2)
        node = Node("joiner%d" % self.joiners, os.path.join(self.root, "joiner%d" % self.joiners),
                    ports[0], ports[1])
        self.launch(node, limit, self.nodes[0].port)
        return node

    def info_ok(self, port):
        fields = info_fields(resp_command(port, "CLUSTER", "INFO"))
        return fields.get("cluster_state") == "ok"

    def settled(self, port, members):
        status = ring_status(port)
        return status["transition"] == "none" and status["members"] == members

    def running(self):
        return [n for n in self.nodes if n.process is not None]

    def check_running(self, extra=()):
        for node in self.running() + list(extra):
            node.process.check_running()

    def wait(self, ready, what, timeout_s, extra=()):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.check_running(extra)
            try:
                if ready():
                    return
            except OSError:
                pass
            time.sleep(POLL_S)
        raise RuntimeError("%s not reached within %.0f s; %s" % (
            what, timeout_s, self.describe(list(extra))))

    def describe(self, extra=()):
        states = []
        for node in self.running() + list(extra):
            try:
                states.append("%s %s" % (node.name, ring_status(node.port)))
            except OSError as error:
                states.append("%s: %s" % (node.name, error))
        return "; ".join(states)

    def stop(self, nodes=None):
        nodes = self.running() if nodes is None else nodes
        for node in nodes:
            node.process.terminate()
        for node in nodes:
            node.process.wait()
            node.process = None

    def print_log_tails(self):
        for node in self.running():
            print("--- the end of %s's log:\n%s" % (node.name, node.process.log_tail(20)),
                  file=sys.stderr)


# ---------------------------------------------------------------------------------------------
# Load

def load(port, keys):
    """SETs every key through redis-cli --pipe, PIPE_KEYS at a time. A coordinator keeps a write
    in flight until every replica has acknowledged it and answers BUSY past its bound; a batch
    with BUSY replies is sent again whole (a SET of the same value is idempotent) after a pause.
    Any other error fails. Returns (seconds, batches resent); the seconds count redis-cli's runs
    and the pauses, not building the batches."""
    seconds = 0.0
    resent = 0
    for start in range(0, keys, PIPE_KEYS):
        payload = b"".join(resp_request(b"SET", key_of(i), value_of(i))
                           for i in range(start, min(keys, start + PIPE_KEYS)))
        for attempt in range(PIPE_ATTEMPTS):
            began = time.monotonic()
            result = subprocess.run(["redis-cli", "-h", HOST, "-p", str(port), "--pipe"],
                                    input=payload, capture_output=True, timeout=600)
            seconds += time.monotonic() - began
            if result.returncode == 0 and b"errors: 0," in result.stdout:
                break
            errors = [line for line in result.stderr.splitlines() if line.strip()]
            if result.returncode == 0 and errors and all(e.startswith(b"BUSY") for e in errors):
                resent += 1
                time.sleep(BUSY_PAUSE_S)
                seconds += BUSY_PAUSE_S
                continue
            raise RuntimeError("redis-cli --pipe failed: %s %s" % (result.stdout[-500:],
                                                                   result.stderr[-500:]))
        else:
            raise RuntimeError("redis-cli --pipe: BUSY after %d attempts" % PIPE_ATTEMPTS)
    return seconds, resent


# ---------------------------------------------------------------------------------------------
# One transition, watched

class Watch:
    """Polls a transition every POLL_S until every node in `nodes` shows transition none with
    `members` members. The gainers' stream: from the first poll where they had received repair
    bytes to the first where each has streamed every partition it gains, or shows the ring
    flipped or settled (the claimant flips only once every gainer has streamed)."""

    def __init__(self, cluster, nodes, gainers, members, started, extra=()):
        self.cluster = cluster
        self.nodes = nodes
        self.gainers = gainers
        self.members = members
        self.started = started
        self.extra = list(extra)
        self.base = {n.name: self.counters(n) for n in gainers}
        self.events = {}
        self.gaining = {n.name: 0 for n in gainers}
        self.streamed = set()
        self.at_streamed = None

    @staticmethod
    def counters(node):
        try:
            fields = info_fields(resp_command(node.port, "INFO", "cluster"))
        except OSError:
            return (0, 0)  # a joiner not listening yet has received nothing
        return (int(fields.get("cairn_repair_bytes_received", "0")),
                int(fields.get("cairn_repair_keys_fetched", "0")))

    def totals(self):
        now = {n.name: self.counters(n) for n in self.gainers}
        return tuple(sum(now[k][j] - self.base[k][j] for k in now) for j in range(2))

    def mark(self, event):
        self.events.setdefault(event, time.monotonic() - self.started)

    def poll(self):
        for node in self.gainers:
            try:
                status = ring_status(node.port)
            except OSError:
                continue
            if status["transition"] == "moving":
                self.mark("moving")
            if status["stream_partitions"] > 0:
                self.gaining[node.name] = max(self.gaining[node.name], status["stream_partitions"])
            # A ring flipped or settled on the target means this gainer is done, even if no
            # poll caught its count complete.
            if ((self.gaining[node.name] and
                 status["stream_partitions_done"] == status["stream_partitions"]) or
                    status["transition"] == "flipped" or
                    (status["transition"] == "none" and status["members"] == self.members)):
                self.streamed.add(node.name)
        received = self.totals()
        if received[0] > 0:
            self.mark("first bytes")
        if len(self.streamed) == len(self.gainers) and self.at_streamed is None:
            self.mark("streamed")
            self.at_streamed = received
        states = []
        for node in self.nodes:
            status = ring_status(node.port)
            states.append((status["transition"], status["members"]))
        if any(t == "flipped" for t, _ in states):
            self.mark("flipped")
        return all(s == ("none", self.members) for s in states)

    def run(self, what, timeout_s):
        self.cluster.wait(self.poll, what, timeout_s, extra=self.extra)
        self.mark("settled")
        if self.at_streamed is None:
            raise RuntimeError("%s: the ring settled but the gainers' stream was never seen "
                               "complete (gaining %s)" % (what, self.gaining))
        received = self.totals()
        seconds = self.events["streamed"] - self.events.get("first bytes",
                                                             self.events["streamed"])
        return {"seconds": seconds, "bytes": received[0], "keys": received[1],
                "bytes_streamed": self.at_streamed[0], "total": self.events["settled"],
                "events": dict(self.events), "partitions": sum(self.gaining.values())}


def timeline(events):
    return ", ".join("%s %.1f s" % (k, v) for k, v in sorted(events.items(), key=lambda e: e[1]))


def run(args, cluster, name, limit, slots):
    """One join and one leave at `limit`; the cluster's three nodes are up and settled."""
    timeout_s = 120 + 8 * args.keys * VALUE_BYTES / (limit or (64 << 20))
    disk = [node_disk_bytes(n.port) for n in cluster.nodes]
    started = time.monotonic()
    joiner = cluster.add_joiner(limit)
    try:
        watch = Watch(cluster, cluster.nodes + [joiner], [joiner], 4, started, extra=[joiner])
        joined = watch.run("%s: the join settled on every node with 4 members" % name, timeout_s)
        joiner.id = command(joiner.port, "CLUSTER", "MYID").decode()
        print("  %s join: %s; %d partitions gained, %.1f MiB received" % (
            name, timeline(joined["events"]), joined["partitions"], joined["bytes"] / 2**20),
            file=sys.stderr, flush=True)

        owned = replica_slots(cluster.nodes[0].port, joiner.id)
        share = [i for i in range(args.keys) if slots[i] in owned]
        sample = share[::max(1, len(share) // SAMPLE_KEYS)]
        wrong_join = wrong_values(joiner.port, sample)
        joiner_keys = int(info_fields(resp_command(joiner.port, "INFO", "keyspace")).get(
            "db0", "keys=0").split(",")[0].split("=")[1])

        started = time.monotonic()
        leave = subprocess.Popen([args.cairnctl, "--port", str(cluster.nodes[0].port), "leave",
                                  joiner.id], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
        try:
            watch = Watch(cluster, cluster.nodes, cluster.nodes, 3, started)
            left = watch.run("%s: the leave settled on the 3 others" % name, timeout_s)
            out, err = leave.communicate(timeout=120)
        finally:
            if leave.poll() is None:
                os.kill(leave.pid, signal.SIGTERM)
                leave.wait()
        if leave.returncode != 0:
            raise RuntimeError("cairnctl leave failed (%d): %s %s" % (leave.returncode, out, err))
        print("  %s leave: %s; %d partitions gained, %.1f MiB received" % (
            name, timeline(left["events"]), left["partitions"], left["bytes"] / 2**20),
            file=sys.stderr, flush=True)
        joiner.process.wait(60)  # cairnctl sent it SHUTDOWN
        joiner.process = None
        wrong_leave = sum(wrong_values(n.port, sample) for n in cluster.nodes)
    except BaseException:
        if joiner.process is not None:  # main() shows the other nodes' logs
            print("--- the end of %s's log:\n%s" % (joiner.name, joiner.process.log_tail(20)),
                  file=sys.stderr)
            cluster.stop([joiner])
        raise
    return {
        "name": name, "limit": limit, "disk": sum(disk) / len(disk),
        "share_keys": len(share), "joiner_keys": joiner_keys,
        "join": joined, "leave": left,
        "wrong_join": "%d/%d" % (wrong_join, len(sample)),
        "wrong_leave": "%d/%d" % (wrong_leave, 3 * len(sample)),
    }


def node_disk_bytes(port):
    return int(info_fields(resp_command(port, "INFO")).get("cairn_disk_bytes", "0"))


# ---------------------------------------------------------------------------------------------
# Report

def mib(value):
    return "%.1f" % (value / 2**20)


def print_table(results, load_rate):
    header = ("run", "data/node (MiB)", "share (MiB)", "received (MiB)", "keys fetched",
              "streaming (s)", "MiB/s", "x load", "add (s)", "leave (s)", "leave received (MiB)",
              "wrong after add", "wrong after leave")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for r in results:
        join, left = r["join"], r["leave"]
        rate = join["bytes_streamed"] / max(join["seconds"], 1e-9)
        logical = r["share_keys"] * (len(key_of(0)) + VALUE_BYTES)
        print("| " + " | ".join((
            r["name"], mib(r["disk"]), mib(logical), mib(join["bytes"]), str(join["keys"]),
            "%.1f" % join["seconds"], mib(rate), "%.2f" % (rate / load_rate),
            "%.1f" % join["total"], "%.1f" % left["total"], mib(left["bytes"]),
            r["wrong_join"], r["wrong_leave"])) + " |")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cairnd", required=True)
    parser.add_argument("--cairnctl", required=True)
    parser.add_argument("--keys", type=int, default=None,
                        help="keys of %d bytes (default %d, --quick %d)" % (
                            VALUE_BYTES, KEYS_FULL, KEYS_QUICK))
    parser.add_argument("--limits", default="%d,0" % DEFAULT_LIMIT,
                        help="--repair-bytes-per-second of each run, in order (0: no limit)")
    parser.add_argument("--quick", action="store_true", help="100 MiB of values")
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--keep", action="store_true",
                        help="keep the nodes' directories (data and logs) at the end")
    args = parser.parse_args()
    args.keys = args.keys or (KEYS_QUICK if args.quick else KEYS_FULL)
    args.limits = [int(limit) for limit in args.limits.split(",")]
    args.cairnd = os.path.abspath(args.cairnd)  # the nodes run in their own directories
    args.cairnctl = os.path.abspath(args.cairnctl)
    return args


def main():
    args = parse_args()
    root = tempfile.mkdtemp(prefix="stream-bench-", dir=args.workdir)
    cluster = StreamCluster(args, root)
    runs = [("no limit" if limit == 0 else "limited", limit) for limit in args.limits]
    results = []
    try:
        print("ring transitions in a Cairn cluster of 3 (+1 joining) on 127.0.0.1%s" % (
            " [quick]" if args.quick else ""))
        print("machine:  %s (shared: one run's figures)" % machine_line())
        cluster.start(runs[0][1])
        slots = array.array("H", (key_slot(key_of(i)) for i in range(args.keys)))
        logical = args.keys * (len(key_of(0)) + VALUE_BYTES)
        seconds, resent = load(cluster.nodes[0].port, args.keys)
        load_rate = logical / seconds
        print("loaded:   %d keys of %d bytes (%.1f MiB of keys and values) through node 1 at "
              "QUORUM in %.1f s: %.1f MiB/s (redis-cli --pipe, %d keys a batch; %d batches sent "
              "again after BUSY)" % (args.keys, VALUE_BYTES, logical / 2**20, seconds,
                                     load_rate / 2**20, PIPE_KEYS, resent), flush=True)
        for i, (name, limit) in enumerate(runs):
            if i > 0:
                cluster.stop()
                cluster.start(limit)
            results.append(run(args, cluster, name, limit, slots))
        print()
        print_table(results, load_rate)
        print()
        print("limited: --repair-bytes-per-second %d (%.0f MiB/s, the default) on every node; no "
              "limit: 0. data/node: a node's data directory (cairn_disk_bytes, mean of the 3) "
              "before the join. share: the keys and values of the keys whose preference lists "
              "hold the joiner. received: repair bus bytes the joiner received over the join "
              "(cairn_repair_bytes_received); keys fetched: cairn_repair_keys_fetched. streaming: "
              "from the joiner's first repair bytes to its stream_partitions_done reaching "
              "stream_partitions (polled every %.1f s); MiB/s: bytes received in that time over "
              "it; x load: that over the load rate. add: the joiner's start to every node "
              "showing transition none with 4 members (settle waits of %d ms included); leave: "
              "cairnctl leave to the 3 others settled with 3 members; leave received: repair "
              "bytes the 3 received. wrong: of a sample of the joiner's share, values read at "
              "ONE through the joiner after the add (and through each of the 3 after the leave) "
              "that were not the value written: must be 0." % (
                  DEFAULT_LIMIT, DEFAULT_LIMIT / 2**20, POLL_S, RING_SETTLE_MS))
        for r in results:
            print("%s: the joiner holds %d keys (INFO keyspace); %d keys are in its share" % (
                r["name"], r["joiner_keys"], r["share_keys"]))
        if any(not r[k].startswith("0/") for r in results for k in ("wrong_join", "wrong_leave")):
            print("FAILED: a value read back was wrong")
            return 1
        return 0
    except Exception:
        cluster.print_log_tails()
        raise
    finally:
        cluster.stop()
        if args.keep:
            print("kept: %s" % root, file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
