#!/usr/bin/python3
"""cairnd beside redis-server under redis-benchmark (make bench-redis; QUICK=1 for --quick).

Both servers run on loopback ports picked free, each in a fresh temporary directory:
  redis-server --appendonly yes --appendfsync everysec --save ''
  cairnd --fsync everysec
Each row (SET/GET with 100-byte values over 1 M random keys, INCR, MSET of 10 keys; 50 clients;
pipeline 1 and 16) runs several times as pairs of back-to-back runs, alternating which server
goes first; the medians of ops/s, p50 and p99 are reported (redis-benchmark --csv), and the
ratio is the median of the pairs' ratios: the machine's speed drifts over minutes, and a pair
sees one speed where the medians of separate runs may not. Then SET, GET and INCR with one
client at pipeline 1 give each server's own latency, which 50 clients hide behind their queue.
Then each server, fresh, is loaded with N distinct keys of 100 bytes (5 M, or 500 K with
--quick) and its resident memory (VmRSS) is reported, then again after as many random GETs
(which fill cairnd's block cache).
The last line is exactly `geomean vs Redis: X.XX` (geometric mean of the rows' ratios).
Servers are stopped by PID; their directories are removed."""

import argparse
import csv
import io
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HOST = "127.0.0.1"
VALUE_BYTES = 100
CLIENTS = 50
KEYSPACE = 1000000

# (row name, redis-benchmark test, pipeline)
ROWS = [
    ("SET P1", "set", 1),
    ("SET P16", "set", 16),
    ("GET P1", "get", 1),
    ("GET P16", "get", 16),
    ("INCR P1", "incr", 1),
    ("INCR P16", "incr", 16),
    ("MSET10 P1", "mset", 1),
    ("MSET10 P16", "mset", 16),
]


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_ping(port, proc, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited with code %s" % proc.returncode)
        try:
            with socket.create_connection((HOST, port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("server on port %d did not answer PING" % port)


class Server:
    """One server process in its own temporary directory, stopped by PID."""

    def __init__(self, name, argv_for, workdir):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="%s-" % name, dir=workdir)
        self.port = free_port()
        self.log = open(os.path.join(self.dir, "server.log"), "wb")
        self.proc = subprocess.Popen(argv_for(self.port, self.dir), stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     cwd=self.dir)
        try:
            wait_ping(self.port, self.proc)
        except RuntimeError:
            self.stop()
            raise

    def rss_mib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
        return float("nan")

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def redis_argv(redis_server):
    def argv(port, directory):
        return [redis_server, "--port", str(port), "--bind", HOST, "--dir", directory,
                "--appendonly", "yes", "--appendfsync", "everysec", "--save", ""]
    return argv


def cairnd_argv(cairnd, extra_flags):
    def argv(port, directory):
        return [cairnd, "--port", str(port), "--bind", HOST, "--dir",
                os.path.join(directory, "data"), "--fsync", "everysec", "--log-level",
                "warn"] + extra_flags
    return argv


def run_benchmark(port, test, pipeline, requests, clients=CLIENTS):
    """One redis-benchmark run; returns (ops/s, p50 ms, p99 ms)."""
    argv = ["redis-benchmark", "-h", HOST, "-p", str(port), "-t", test, "-n", str(requests),
            "-r", str(KEYSPACE), "-d", str(VALUE_BYTES), "-c", str(clients), "-P", str(pipeline),
            "--csv"]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError("redis-benchmark failed: %s %s" % (result.stdout, result.stderr))
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    if len(rows) != 1:
        raise RuntimeError("unexpected redis-benchmark output: %r" % result.stdout)
    row = rows[0]
    return float(row["rps"]), float(row["p50_latency_ms"]), float(row["p99_latency_ms"])


def load_keys(port, count):
    """Loads `count` distinct keys (key:000000000000..) of VALUE_BYTES through redis-cli --pipe, in MSETs
    of 100 keys; returns the seconds it took."""
    start = time.monotonic()
    proc = subprocess.Popen(["redis-cli", "-h", HOST, "-p", str(port), "--pipe"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    value = b"v" * VALUE_BYTES
    value_part = b"$%d\r\n%s\r\n" % (len(value), value)
    per_command = 100
    batch = []
    for first in range(0, count, per_command):
        n = min(per_command, count - first)
        parts = [b"*%d\r\n$4\r\nMSET\r\n" % (1 + 2 * n)]
        for i in range(first, first + n):
            key = b"key:%012d" % i  # as redis-benchmark writes key:__rand_int__
            parts.append(b"$%d\r\n%s\r\n" % (len(key), key))
            parts.append(value_part)
        batch.append(b"".join(parts))
        if len(batch) >= 200:
            proc.stdin.write(b"".join(batch))
            batch = []
    proc.stdin.write(b"".join(batch))
    proc.stdin.close()
    output = proc.stdout.read().decode(errors="replace")
    if proc.wait() != 0 or "errors: 0" not in output:
        raise RuntimeError("loading keys failed: %s" % output)
    return time.monotonic() - start


def read_keys(port, count):
    """GETs `count` random keys of the loaded ones (redis-benchmark, pipeline 16), so that the
    memory figure after it includes what reads cache."""
    argv = ["redis-benchmark", "-h", HOST, "-p", str(port), "-n", str(count), "-c", str(CLIENTS),
            "-P", "16", "-r", str(count), "-q", "GET", "key:__rand_int__"]
    subprocess.run(argv, capture_output=True, timeout=600, check=True)


def dbsize(port):
    out = subprocess.run(["redis-cli", "-h", HOST, "-p", str(port), "DBSIZE"],
                         capture_output=True, text=True).stdout.strip()
    return int(out) if out.isdigit() else -1


def measure_rows(servers, args):
    """Runs every row `repeats` times as a pair of back-to-back runs, alternating which server
    goes first; returns {row: {server name: (median ops/s, median p50, median p99),
    "ratio": median over the pairs of cairn/redis ops/s}}."""
    results = {}
    for name, test, pipeline in ROWS:
        requests = args.requests_p1 if pipeline == 1 else args.requests_p16
        if test == "mset":
            requests //= 5  # each request writes 10 keys
        samples = {s.name: [] for s in servers}
        for repeat in range(args.repeats):
            order = servers if repeat % 2 == 0 else list(reversed(servers))
            for server in order:
                samples[server.name].append(run_benchmark(server.port, test, pipeline, requests))
        results[name] = {
            server: tuple(statistics.median(s[i] for s in runs) for i in range(3))
            for server, runs in samples.items()}
        results[name]["ratio"] = statistics.median(
            c[0] / r[0] for r, c in zip(samples["redis"], samples["cairn"]))
        print("  %-11s redis %s   cairn %s ops/s   ratio %.2f" % (
            name, " ".join("%7.0f" % s[0] for s in samples["redis"]),
            " ".join("%7.0f" % s[0] for s in samples["cairn"]), results[name]["ratio"]),
            file=sys.stderr, flush=True)
    return results


def print_table(results):
    print("%-11s %12s %12s %7s %15s %15s" % ("row", "redis ops/s", "cairn ops/s", "ratio",
                                            "redis p50/p99", "cairn p50/p99"))
    ratios = []
    for name, _, _ in ROWS:
        r, c = results[name]["redis"], results[name]["cairn"]
        ratio = results[name]["ratio"]
        ratios.append(ratio)
        print("%-11s %12.0f %12.0f %7.2f %7.3f/%-7.3f %7.3f/%-7.3f" % (
            name, r[0], c[0], ratio, r[1], r[2], c[1], c[2]))
    print("(latencies in ms, medians of the runs; ratio: median of the paired runs' ratios; "
          "%d clients, %d-byte values, %d random keys)" % (CLIENTS, VALUE_BYTES, KEYSPACE))
    return math.exp(sum(math.log(x) for x in ratios) / len(ratios))


def measure_latency(servers, args):
    """One client at pipeline 1: each request waits for no other client's, so p50 and p99 are
    the server's own latency plus the loopback round trip. With 50 clients a request queues
    behind the others' (by Little's law the mean latency is 50 / throughput, over 1 ms below
    50 K ops/s), whatever the server."""
    print()
    print("latency with one client at pipeline 1 (ms, medians of %d runs of %d requests):" % (
        args.repeats, args.requests_latency))
    print("%-6s %15s %15s" % ("test", "redis p50/p99", "cairn p50/p99"))
    for test in ("set", "get", "incr"):
        samples = {s.name: [] for s in servers}
        for repeat in range(args.repeats):
            order = servers if repeat % 2 == 0 else list(reversed(servers))
            for server in order:
                samples[server.name].append(
                    run_benchmark(server.port, test, 1, args.requests_latency, clients=1))
        r, c = ([statistics.median(s[i] for s in samples[n]) for i in (1, 2)]
                for n in ("redis", "cairn"))
        print("%-6s %7.3f/%-7.3f %7.3f/%-7.3f" % (test.upper(), r[0], r[1], c[0], c[1]))


def measure_memory(args, workdir):
    figures = {}
    for name, argv in (("redis", redis_argv(args.redis_server)), ("cairn", cairnd_argv(args.cairnd, args.cairnd_flags))):
        server = Server(name, argv, workdir)
        try:
            rss_empty = server.rss_mib()
            seconds = load_keys(server.port, args.memory_keys)
            time.sleep(2)  # let background work (flushes, AOF) settle
            rss_loaded = server.rss_mib()
            keys = dbsize(server.port)
            read_keys(server.port, args.memory_keys)
            figures[name] = (rss_loaded, rss_empty, keys, seconds, server.rss_mib())
        finally:
            server.stop()
    print()
    print("memory after loading %d keys of %d bytes (VmRSS):" % (args.memory_keys, VALUE_BYTES))
    for name in ("redis", "cairn"):
        rss, empty, keys, seconds, rss_read = figures[name]
        print("  %-5s %8.1f MiB (empty: %.1f MiB; DBSIZE %d; loaded in %.1f s; "
              "%.1f MiB after as many random GETs)" % (name, rss, empty, keys, seconds, rss_read))
    print("  ratio cairn/redis: %.2f (after the GETs, which fill cairn's block cache: %.2f)" % (
        figures["cairn"][0] / figures["redis"][0], figures["cairn"][4] / figures["redis"][4]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cairnd", default="build-bench-redis/cairnd")
    parser.add_argument("--redis-server", default=shutil.which("redis-server") or "redis-server")
    parser.add_argument("--quick", action="store_true", help="a run under 2 minutes")
    parser.add_argument("--cairnd-flags", default="", help="extra cairnd flags, for experiments "
                        "(e.g. \"--threads 2\"); the published figures use the defaults")
    parser.add_argument("--workdir", default=None, help="where the servers' directories go")
    args = parser.parse_args()
    if args.quick:
        args.requests_p1, args.requests_p16, args.repeats, args.memory_keys = 30000, 100000, 2, 500000
        args.requests_latency = 5000
    else:
        args.requests_p1, args.requests_p16, args.repeats, args.memory_keys = 200000, 1000000, 6, 5000000
        args.requests_latency = 20000
    args.cairnd = os.path.abspath(args.cairnd)
    args.cairnd_flags = args.cairnd_flags.split()
    for tool in (args.cairnd, args.redis_server, "redis-benchmark", "redis-cli"):
        if shutil.which(tool) is None:
            sys.exit("redis_bench: %s not found (make bench-redis builds cairnd; "
                     "scripts/install-deps.sh installs redis-server and redis-tools)" % tool)
    workdir = args.workdir or tempfile.gettempdir()

    start = time.monotonic()
    print("redis-server (appendonly yes, appendfsync everysec) vs cairnd (fsync everysec)%s" % (
        " [quick]" if args.quick else ""), flush=True)
    servers = []
    try:
        servers.append(Server("redis", redis_argv(args.redis_server), workdir))
        servers.append(Server("cairn", cairnd_argv(args.cairnd, args.cairnd_flags), workdir))
        results = measure_rows(servers, args)
        geomean = print_table(results)
        measure_latency(servers, args)
    finally:
        for server in servers:
            server.stop()
    measure_memory(args, workdir)
    print("(total %.0f s)" % (time.monotonic() - start))
    print("geomean vs Redis: %.2f" % geomean)


if __name__ == "__main__":
    main()
