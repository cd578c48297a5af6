#!/usr/bin/python3
"""A 3-node Cairn cluster beside Redis Cluster and etcd (make bench-cluster; QUICK=1 for --quick).

All on loopback (ports picked free, each node's data in a temporary directory removed at the end,
every process stopped by PID):
  Cairn:         3 cairnd nodes, node 1 --cluster-enabled, nodes 2 and 3 --seeds node 1;
                 --replicas 3 --fsync everysec, consistency QUORUM (the default): a write is
                 acknowledged once 2 of its 3 replicas have it.
  Redis Cluster: 3 masters + 3 replicas (appendonly yes, appendfsync everysec, save ''), made by
                 redis-cli --cluster create --cluster-replicas 1: a write is acknowledged by its
                 master before it is replicated (asynchronous replication).
  etcd:          3 members of Debian's etcd 3.4, defaults: a put is acknowledged after Raft commit
                 (a majority has it fsynced in its WAL).
Rows: redis-benchmark --cluster SET and GET, 100-byte values, 50 clients, keys drawn from 1 M
random numbers, at pipeline 1 and 16, Cairn beside Redis Cluster; then Cairn's SET at 50 clients
and pipeline 1 beside etcd puts at 50 clients (bench/etcd_put_load, ours: etcd's benchmark tool is
not packaged). Each row runs as several pairs of back-to-back runs, alternating which system goes
first; the table gives the medians of ops/s, p50 and p99, and the ratio cairn/peer is the median
of the pairs' ratios (the machine's speed drifts over minutes; a pair sees one speed). Then the
targets, and last the line `geomean vs Redis Cluster: X.XX` over the Redis Cluster rows.
--systems leaves systems out (their cells show `-`)."""

import argparse
import csv
import io
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HOST = "127.0.0.1"
VALUE_BYTES = 100
CLIENTS = 50
KEYSPACE = 1000000
SYSTEMS = ("cairn", "redis", "etcd")
START_TIMEOUT_S = 60.0


class Row:
    """One line of the table: a redis-benchmark test at a pipeline depth, Cairn beside `peer`."""

    def __init__(self, name, test, pipeline, peer):
        self.name = name
        self.test = test
        self.pipeline = pipeline
        self.peer = peer


# In the order they run: SET before GET, which reads the keys SET wrote.
ROWS = [
    Row("SET P1 vs Redis", "set", 1, "redis"),
    Row("SET P16 vs Redis", "set", 16, "redis"),
    Row("GET P1 vs Redis", "get", 1, "redis"),
    Row("GET P16 vs Redis", "get", 16, "redis"),
    Row("SET P1 vs etcd put", "set", 1, "etcd"),
]


# ---------------------------------------------------------------------------------------------
# Processes and ports

def free_ports(count):
    """`count` distinct free loopback ports (all held open until all are picked)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind((HOST, 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


class Process:
    """One server process with its log in `directory`; stopped by PID."""

    def __init__(self, name, argv, directory):
        self.name = name
        self.directory = directory
        self.log_path = os.path.join(directory, "server.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=directory)

    def check_running(self):
        if self.proc.poll() is not None:
            raise RuntimeError("%s exited with code %s; the end of its log:\n%s" % (
                self.name, self.proc.returncode, self.log_tail()))

    def log_tail(self, lines=15):
        self.log.flush()
        with open(self.log_path, "rb") as f:
            return b"".join(f.readlines()[-lines:]).decode(errors="replace")

    def terminate(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)

    def wait(self, timeout_s=30):
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.log.close()


class Cluster:
    """The processes of one system under a temporary directory of its own. `ports` are the
    client ports (RESP, or etcd's HTTP); `entry_port` is the node the load is pointed at."""

    def __init__(self, system, workdir):
        self.system = system
        self.root = tempfile.mkdtemp(prefix="cluster-bench-%s-" % system, dir=workdir)
        self.processes = []
        self.ports = []

    @property
    def entry_port(self):
        return self.ports[0]

    def node_directory(self, name):
        """The directory of node `name` (made here), where its log goes and its data may."""
        directory = os.path.join(self.root, name)
        os.makedirs(directory, exist_ok=True)
        return directory

    def start(self, name, argv):
        process = Process("%s %s" % (self.system, name), argv, self.node_directory(name))
        self.processes.append(process)
        return process

    def check_running(self):
        for process in self.processes:
            process.check_running()

    def print_log_tails(self):
        for process in self.processes:
            print("--- the end of %s's log:\n%s" % (process.name, process.log_tail(10)),
                  file=sys.stderr)

    def stop(self):
        for process in self.processes:  # all at once: a member's shutdown may wait for others
            process.terminate()
        for process in self.processes:
            process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def wait_until(cluster, ready, what, state=None, timeout_s=START_TIMEOUT_S):
    """Polls `ready()` until it is true; raises if a process of the cluster exits or time runs
    out, then with what `state()` says of the nodes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        cluster.check_running()
        try:
            if ready():
                return
        except OSError:
            pass  # not listening yet
        time.sleep(0.1)
    try:
        seen = "; last seen: %s" % state() if state else ""
    except OSError as error:
        seen = "; %s" % error
    raise RuntimeError("%s: %s not reached within %.0f s%s" % (cluster.system, what, timeout_s,
                                                               seen))


# ---------------------------------------------------------------------------------------------
# RESP helpers (Cairn and Redis Cluster)

def resp_command(port, *args, timeout_s=5.0):
    """Sends one command and returns its reply decoded as text: a status, an error (starting
    with '-'), or a bulk string. Enough for PING, CLUSTER INFO and INFO."""
    request = b"*%d\r\n" % len(args) + b"".join(
        b"$%d\r\n%s\r\n" % (len(a), a) for a in (x.encode() for x in args))
    with socket.create_connection((HOST, port), timeout=timeout_s) as s:
        s.sendall(request)
        reply = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                raise OSError("connection closed")
            reply += chunk
            if b"\r\n" not in reply:
                continue
            if reply[:1] in (b"+", b"-", b":") and reply.endswith(b"\r\n"):
                return reply[:-2].decode(errors="replace")
            if reply[:1] == b"$":
                header, _, body = reply.partition(b"\r\n")
                if int(header[1:]) < 0:
                    return None
                if len(body) >= int(header[1:]) + 2:
                    return body[:int(header[1:])].decode(errors="replace")


def info_fields(text):
    """`key:value` lines of CLUSTER INFO or INFO as a dict."""
    fields = {}
    for line in (text or "").splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    return fields


def cluster_info_ok(port, nodes_known, size):
    fields = info_fields(resp_command(port, "CLUSTER", "INFO"))
    return (fields.get("cluster_state") == "ok"
            and fields.get("cluster_known_nodes") == str(nodes_known)
            and fields.get("cluster_size") == str(size))


def cluster_info_state(ports):
    """What each node's CLUSTER INFO says of state, size and known nodes (or its error)."""
    states = []
    for port in ports:
        reply = resp_command(port, "CLUSTER", "INFO")
        fields = info_fields(reply)
        states.append("%d: %s" % (port, reply if reply and reply.startswith("-") else "/".join(
            fields.get(f, "?") for f in ("cluster_state", "cluster_size", "cluster_known_nodes"))))
    return "state/size/known nodes " + ", ".join(states)


# ---------------------------------------------------------------------------------------------
# The three systems

def start_cairn(args, workdir):
    """Three cairnd nodes: node 1 starts the cluster, nodes 2 and 3 join through node 1's client
    port. Ready when every node's CLUSTER INFO shows state ok, 3 nodes in the ring and 3 known."""
    cluster = Cluster("cairn", workdir)
    try:
        ports = free_ports(6)
        cluster.ports, bus_ports = ports[:3], ports[3:]
        for i, (port, bus_port) in enumerate(zip(cluster.ports, bus_ports)):
            name = "node%d" % (i + 1)
            join = ["--cluster-enabled"] if i == 0 else ["--seeds", "%s:%d" % (HOST, ports[0])]
            cluster.start(name, [
                args.cairnd, "--port", str(port), "--bus-port", str(bus_port),
                "--dir", os.path.join(cluster.node_directory(name), "data"), *join,
                "--replicas", "3", "--fsync", "everysec", "--bind", HOST, "--log-level", "warn"])
        wait_until(cluster, lambda: all(cluster_info_ok(p, 3, 3) for p in cluster.ports),
                   "cluster_state:ok, cluster_size:3 and cluster_known_nodes:3 on every node",
                   state=lambda: cluster_info_state(cluster.ports))
        return cluster
    except BaseException:
        cluster.stop()
        raise


def start_redis_cluster(args, workdir):
    """Six redis-servers in cluster mode, joined by redis-cli --cluster create into 3 masters with
    one replica each. Ready when every node sees cluster_state:ok over 6 nodes and every replica's
    link to its master is up."""
    cluster = Cluster("redis", workdir)
    try:
        ports = free_ports(12)
        cluster.ports, bus_ports = ports[:6], ports[6:]
        for i, (port, bus_port) in enumerate(zip(cluster.ports, bus_ports)):
            name = "node%d" % (i + 1)
            cluster.start(name, [
                args.redis_server, "--port", str(port), "--cluster-port", str(bus_port),
                "--bind", HOST, "--dir", cluster.node_directory(name), "--cluster-enabled", "yes",
                "--cluster-config-file", "nodes.conf", "--appendonly", "yes",
                "--appendfsync", "everysec", "--save", ""])
        wait_until(cluster, lambda: all(resp_command(p, "PING") == "+PONG" for p in cluster.ports),
                   "PONG from every node")
        create = subprocess.run(
            ["redis-cli", "--cluster", "create"] + ["%s:%d" % (HOST, p) for p in cluster.ports]
            + ["--cluster-replicas", "1", "--cluster-yes"],
            capture_output=True, text=True, timeout=120)
        if create.returncode != 0:
            raise RuntimeError("redis-cli --cluster create failed:\n%s%s" % (
                create.stdout, create.stderr))

        def replicas_linked():
            roles = [info_fields(resp_command(p, "INFO", "replication")) for p in cluster.ports]
            return (sum(r.get("role") == "slave" and r.get("master_link_status") == "up"
                        for r in roles) == 3)
        wait_until(cluster, lambda: all(cluster_info_ok(p, 6, 3) for p in cluster.ports)
                   and replicas_linked(),
                   "cluster_state:ok over 6 nodes with 3 replicas linked",
                   state=lambda: cluster_info_state(cluster.ports))
        return cluster
    except BaseException:
        cluster.stop()
        raise


def etcd_healthy(port):
    with urllib.request.urlopen("http://%s:%d/health" % (HOST, port), timeout=2) as response:
        return json.load(response).get("health") == "true"


def start_etcd(args, workdir):
    """Three etcd members with a static initial cluster. Ready when every member's /health
    answers true (which needs a leader)."""
    cluster = Cluster("etcd", workdir)
    try:
        ports = free_ports(6)
        cluster.ports, peer_ports = ports[:3], ports[3:]
        names = ["m%d" % (i + 1) for i in range(3)]
        initial = ",".join("%s=http://%s:%d" % (n, HOST, p) for n, p in zip(names, peer_ports))
        for name, port, peer_port in zip(names, cluster.ports, peer_ports):
            cluster.start(name, [
                args.etcd, "--name", name,
                "--data-dir", os.path.join(cluster.node_directory(name), "data"),
                "--listen-client-urls", "http://%s:%d" % (HOST, port),
                "--advertise-client-urls", "http://%s:%d" % (HOST, port),
                "--listen-peer-urls", "http://%s:%d" % (HOST, peer_port),
                "--initial-advertise-peer-urls", "http://%s:%d" % (HOST, peer_port),
                "--initial-cluster", initial, "--initial-cluster-state", "new",
                "--initial-cluster-token", "cluster-bench-%d" % os.getpid(),
                "--logger", "zap", "--log-level", "warn"])
        wait_until(cluster, lambda: all(etcd_healthy(p) for p in cluster.ports),
                   "/health true on every member")
        return cluster
    except BaseException:
        cluster.stop()
        raise


STARTERS = {"cairn": start_cairn, "redis": start_redis_cluster, "etcd": start_etcd}


# ---------------------------------------------------------------------------------------------
# Load

def parse_benchmark_csv(output, test_title):
    """(ops/s, p50 ms, p99 ms) from redis-benchmark's --csv output, which in cluster mode is
    preceded by the list of masters."""
    lines = output.splitlines()
    header = next((i for i, line in enumerate(lines) if line.startswith('"test"')), None)
    if header is None:
        raise RuntimeError("no CSV header in the output:\n%s" % output)
    rows = [r for r in csv.DictReader(io.StringIO("\n".join(lines[header:])))
            if r["test"] == test_title]
    if len(rows) != 1:
        raise RuntimeError("no CSV row %r in the output:\n%s" % (test_title, output))
    return float(rows[0]["rps"]), float(rows[0]["p50_latency_ms"]), float(rows[0]["p99_latency_ms"])


def run_checked(argv, what):
    result = subprocess.run(argv, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        raise RuntimeError("%s failed (exit %d):\n%s%s" % (
            what, result.returncode, result.stdout[-2000:], result.stderr[-2000:]))
    return result.stdout


def command_counts(ports, command):
    """(calls, failed + rejected calls) of `command` in INFO commandstats, summed over the
    nodes. In Redis Cluster a replica counts the calls its master replicates to it too."""
    calls = errors = 0
    for port in ports:
        stat = info_fields(resp_command(port, "INFO", "commandstats")).get("cmdstat_" + command)
        counters = dict(item.split("=", 1) for item in stat.split(",")) if stat else {}
        calls += int(counters.get("calls", 0))
        errors += int(counters.get("failed_calls", 0)) + int(counters.get("rejected_calls", 0))
    return calls, errors


def redis_benchmark(cluster, row, requests):
    """One redis-benchmark --cluster run of the row's test, pointed at the cluster's first node.
    It spreads its clients over the masters it parsed from CLUSTER NODES; a node it skipped (a
    malformed line, one without slots) would leave the load on fewer nodes, so anything but 3
    fails. In cluster mode redis-benchmark 7.0 counts an error reply other than MOVED, ASK and
    CLUSTERDOWN as a request done, so the nodes' own counters must show no error and at least
    `requests` calls."""
    argv = ["redis-benchmark", "-h", HOST, "-p", str(cluster.entry_port), "--cluster",
            "-t", row.test, "-n", str(requests), "-r", str(KEYSPACE), "-d", str(VALUE_BYTES),
            "-c", str(CLIENTS), "-P", str(row.pipeline), "--csv"]
    calls_before, errors_before = command_counts(cluster.ports, row.test)
    output = run_checked(argv, "redis-benchmark")
    calls, errors = (after - before for after, before in zip(
        command_counts(cluster.ports, row.test), (calls_before, errors_before)))
    masters = re.search(r"^Cluster has (\d+) master nodes", output, re.MULTILINE)
    if masters is None or int(masters.group(1)) != 3:
        raise RuntimeError("redis-benchmark did not find 3 masters:\n%s" % output)
    if errors > 0 or calls < requests:
        raise RuntimeError("%s: %d error replies and %d calls to %s for %d requests (INFO "
                           "commandstats over the nodes)" % (cluster.system, errors, calls,
                                                             row.test.upper(), requests))
    return parse_benchmark_csv(output, row.test.upper())


def etcd_puts(tool, ports, requests, seed):
    """One run of etcd_put_load: `requests` puts from 50 clients spread over the members."""
    argv = [tool, "--endpoints", ",".join("%s:%d" % (HOST, p) for p in ports),
            "--clients", str(CLIENTS), "--requests", str(requests),
            "--value-bytes", str(VALUE_BYTES), "--keyspace", str(KEYSPACE), "--seed", str(seed)]
    return parse_benchmark_csv(run_checked(argv, "etcd_put_load"), "PUT")


def measure_once(system, cluster, row, args, repeat):
    if system == "etcd":
        return etcd_puts(args.etcd_load, cluster.ports, args.requests_etcd, seed=repeat + 1)
    requests = args.requests_p1 if row.pipeline == 1 else args.requests_p16
    return redis_benchmark(cluster, row, requests)


def measure_rows(clusters, args):
    """Runs every row whose systems are up as `repeats` pairs of back-to-back runs, alternating
    which system goes first. Returns {row name: {"cairn": (ops/s, p50, p99) medians or None,
    "peer": the same, "ratio": median of the pairs' cairn/peer ops/s or None}}."""
    results = {}
    for row in ROWS:
        systems = [s for s in ("cairn", row.peer) if s in clusters]
        if not systems:
            continue
        samples = {s: [] for s in systems}
        for repeat in range(args.repeats):
            for system in (systems if repeat % 2 == 0 else list(reversed(systems))):
                samples[system].append(measure_once(system, clusters[system], row, args, repeat))
        medians = {s: tuple(statistics.median(run[i] for run in runs) for i in range(3))
                   for s, runs in samples.items()}
        ratio = None
        if len(systems) == 2:
            ratio = statistics.median(c[0] / p[0] for c, p in zip(samples["cairn"],
                                                                  samples[row.peer]))
        results[row.name] = {"cairn": medians.get("cairn"), "peer": medians.get(row.peer),
                             "ratio": ratio}
        print("  %-20s %s%s" % (row.name, "   ".join(
            "%s %s ops/s" % (s, " ".join("%.0f" % run[0] for run in samples[s]))
            for s in systems), "   ratio %.2f" % ratio if ratio is not None else ""),
            file=sys.stderr, flush=True)
    return results


# ---------------------------------------------------------------------------------------------
# Report

def command_version(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout.split("\n")[0]
    except OSError:
        return "?"


def machine_line():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    return "%s, %d cores, %.0f GiB, Linux %s" % (model, os.cpu_count(), mem_kib / 2**20,
                                                 platform.release())


def print_header(args, clusters):
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    commit = command_version(["git", "-C", repo, "describe", "--always", "--dirty"])
    print("3-node clusters on 127.0.0.1: Cairn beside Redis Cluster and etcd%s" % (
        " [quick]" if args.quick else ""))
    print("machine:  %s (shared: compare ratios within one run)" % machine_line())
    versions = ["redis-benchmark %s" % command_version(["redis-benchmark", "--version"]).split()[-1]]
    if "cairn" in clusters:
        cairn_version = info_fields(resp_command(clusters["cairn"].entry_port, "INFO", "server"))
        versions.insert(0, "cairnd %s (this checkout: %s)" % (
            cairn_version.get("cairn_version", "?"), commit))
    if "redis" in clusters:  # "Redis server v=7.0.15 sha=..."
        versions.append("redis-server %s" % command_version(
            [args.redis_server, "--version"]).split("v=")[-1].split()[0])
    if "etcd" in clusters:  # "etcd Version: 3.4.23"
        versions.append("etcd %s" % command_version([args.etcd, "--version"]).split()[-1])
    print("versions: %s" % "; ".join(versions))
    print("acknowledges a write:")
    print("  cairn  3 nodes, --replicas 3, consistency QUORUM (default), --fsync everysec: after a "
          "quorum (2) of its 3 replicas has it")
    print("  redis  Redis Cluster, 3 masters + 3 replicas, appendonly yes, appendfsync everysec: "
          "on its master, before replicating (asynchronous replication)")
    print("  etcd   3 members, defaults: after Raft commit (a majority has it fsynced in its WAL)")
    print("load:     redis-benchmark --cluster (its clients spread over the masters), %d clients, "
          "%d-byte values, keys from %d random numbers; etcd: bench/etcd_put_load over the v3 JSON "
          "gateway, %d keep-alive HTTP/1.1 clients spread over the members" % (
              CLIENTS, VALUE_BYTES, KEYSPACE, CLIENTS))
    print("runs:     %d pairs per row; requests per run: %d at P1, %d at P16, %d etcd puts" % (
        args.repeats, args.requests_p1, args.requests_p16, args.requests_etcd))
    print(flush=True)


def cell(value, text_format):
    return text_format % value if value is not None else "-"


def print_table(results):
    print("%-20s %12s %12s %9s %9s %9s %9s %7s" % (
        "row", "cairn ops/s", "peer ops/s", "cairn p50", "peer p50", "cairn p99", "peer p99",
        "ratio"))
    for row in ROWS:
        if row.name not in results:
            continue
        result = results[row.name]
        cairn, peer = result["cairn"] or (None,) * 3, result["peer"] or (None,) * 3
        print("%-20s %12s %12s %9s %9s %9s %9s %7s" % (
            row.name, cell(cairn[0], "%.0f"), cell(peer[0], "%.0f"), cell(cairn[1], "%.3f"),
            cell(peer[1], "%.3f"), cell(cairn[2], "%.3f"), cell(peer[2], "%.3f"),
            cell(result["ratio"], "%.2f")))
    print("(latencies in ms, medians of the runs; ratio: median of the pairs' cairn/peer ops/s; "
          "peer: Redis Cluster, or etcd in the last row)")


def print_targets(results):
    """The targets, each met / not met, or not measured when a system was left out."""
    print()
    print("targets:")
    redis_ratios = [(row.name, results[row.name]["ratio"]) for row in ROWS
                    if row.peer == "redis" and row.name in results]
    measured = [(name, ratio) for name, ratio in redis_ratios if ratio is not None]
    if not measured or len(measured) < len(redis_ratios):
        verdict = "not measured (needs cairn and redis)"
    else:
        below = ["%s %.2f" % (name, ratio) for name, ratio in measured if ratio < 1.0]
        verdict = "met" if not below else "not met (%s)" % ", ".join(below)
    print("  Cairn >= 1.0x Redis Cluster in every row: %s" % verdict)

    etcd = results.get(ROWS[-1].name)
    if etcd is None or etcd["ratio"] is None:
        verdict = "not measured (needs cairn and etcd)"
    else:
        met = etcd["ratio"] >= 10.0 and etcd["cairn"][2] < etcd["peer"][2]
        verdict = "%s (%.1fx; p99 %.3f vs %.3f ms)" % (
            "met" if met else "not met", etcd["ratio"], etcd["cairn"][2], etcd["peer"][2])
    print("  Cairn QUORUM writes >= 10x etcd puts at lower p99: %s" % verdict)
    ratios = [ratio for _, ratio in measured]
    return math.exp(sum(math.log(r) for r in ratios) / len(ratios)) if ratios else None


# ---------------------------------------------------------------------------------------------

def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer requests and runs: under 3 minutes with the set-up")
    parser.add_argument("--systems", default=",".join(SYSTEMS),
                        help="comma-separated subset of cairn,redis,etcd (default: all)")
    parser.add_argument("--cairnd", default="build-bench-redis/cairnd")
    parser.add_argument("--etcd-load", default="build-bench-redis/etcd_put_load",
                        help="the etcd load generator (make bench-cluster builds it)")
    parser.add_argument("--redis-server", default=shutil.which("redis-server") or "redis-server")
    parser.add_argument("--etcd", default=shutil.which("etcd") or "etcd")
    parser.add_argument("--repeats", type=int, default=None,
                        help="pairs of runs per row (default 6, or 2 with --quick)")
    parser.add_argument("--workdir", default=None, help="where the nodes' directories go")
    args = parser.parse_args()
    args.systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = set(args.systems) - set(SYSTEMS)
    if unknown or not args.systems:
        parser.error("--systems takes a subset of %s" % ",".join(SYSTEMS))
    if args.quick:
        args.requests_p1, args.requests_p16, args.requests_etcd = 200000, 1000000, 15000
    else:
        args.requests_p1, args.requests_p16, args.requests_etcd = 500000, 2000000, 50000
    args.repeats = args.repeats or (2 if args.quick else 6)
    args.cairnd = os.path.abspath(args.cairnd)
    args.etcd_load = os.path.abspath(args.etcd_load)
    needed = {"cairn": [args.cairnd, "redis-benchmark"],
              "redis": [args.redis_server, "redis-cli", "redis-benchmark"],
              "etcd": [args.etcd, args.etcd_load]}
    for tool in sorted({t for s in args.systems for t in needed[s]}):
        if shutil.which(tool) is None:
            sys.exit("cluster_bench: %s not found (make bench-cluster builds cairnd and "
                     "etcd_put_load; scripts/install-deps.sh bench installs redis and etcd)" % tool)
    return args


def main():
    args = parse_args()
    workdir = args.workdir or tempfile.gettempdir()
    start = time.monotonic()
    clusters = {}
    try:
        for system in SYSTEMS:
            if system in args.systems:
                clusters[system] = STARTERS[system](args, workdir)
                print("  %s up after %.1f s" % (system, time.monotonic() - start),
                      file=sys.stderr, flush=True)
        print_header(args, clusters)
        results = measure_rows(clusters, args)
    except Exception:
        for cluster in clusters.values():  # before stop() removes the logs
            cluster.print_log_tails()
        raise
    finally:
        for cluster in clusters.values():
            cluster.stop()
    print_table(results)
    geomean = print_targets(results)
    print("(total %.0f s, set-up and stop included)" % (time.monotonic() - start))
    print("geomean vs Redis Cluster: %s" % ("%.2f" % geomean if geomean is not None else "n/a"))


if __name__ == "__main__":
    try:
        main()
    except RuntimeError as error:  # a system that failed to start or a run that failed
        sys.exit("cluster_bench: %s" % error)
