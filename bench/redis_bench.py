#!/usr/bin/python3
"""cairnd beside redis-server under redis-benchmark (make bench-redis; QUICK=1 for --quick).

Both servers run on loopback ports picked free, each in a fresh temporary directory:
  redis-server --appendonly yes --appendfsync everysec --save ''
  cairnd --fsync everysec
Each row (SET/GET with 100-byte values over 1 M random keys, INCR, MSET of 10 keys, LPUSH, RPUSH,
LPOP, RPOP, SADD, SPOP, HSET, ZADD, ZPOPMIN, LRANGE_100; 50 clients; pipeline 1 and 16; the
collection a row works on is deleted before each run, and filled first for the pops and LRANGE:
bench/README.md's table) runs several times as pairs of back-to-back runs, alternating which
server goes first; the medians of ops/s, p50 and p99 are reported (redis-benchmark --csv), and the
ratio is the median of the pairs' ratios: the machine's speed drifts over minutes, and a pair
sees one speed where the medians of separate runs may not. Then SET, GET and INCR with one
client at pipeline 1 give each server's own latency, which 50 clients hide behind their queue.
Then each server, fresh, is loaded with N distinct keys of 100 bytes (5 M, or 500 K with
--quick) and its resident memory (VmRSS) is reported, then again after as many random GETs
(which fill cairnd's block cache).
The last line is exactly `geomean vs Redis: X.XX` (geometric mean of the rows' ratios).
--rows runs a subset of the rows, --skip latency,memory leaves those sections out.
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

LRANGE_LIST_LENGTH = 1000  # the list LRANGE_100 reads the head of


class Workload:
    """What a row runs: redis-benchmark's arguments (a -t test or a command of its own), the
    name of the CSV row that measures it (lrange_100 as a -t test would print two: an LPUSH,
    then the LRANGE), the key it works on, how to fill that key before each run (None: the run
    starts from a deleted key, or leaves the key space alone when key is None), and the
    fraction of the requests a run makes (MSET writes 10 keys a request, LRANGE reads 100)."""

    def __init__(self, bench_args, csv_name, key=None, fill=None, requests_divisor=1):
        self.bench_args = bench_args
        self.csv_name = csv_name
        self.key = key
        self.fill = fill
        self.requests_divisor = requests_divisor


def element(i):
    return b"element:%012d" % i  # as redis-benchmark's element:__rand_int__


def fill_list(count):
    value = b"v" * VALUE_BYTES
    return lambda key: (b"RPUSH", key, [value] * count)


def fill_set(count):
    return lambda key: (b"SADD", key, [element(i) for i in range(count)])


def fill_zset(count):
    return lambda key: (b"ZADD", key, [x for i in range(count) for x in (b"%d" % i, element(i))])


def pops(test, key, fill):
    """A pop row: the key is filled with more elements than the run can pop (see margin)."""
    return Workload(["-t", test], test.upper(), key, fill)


WORKLOADS = {
    "set": Workload(["-t", "set"], "SET"),
    "get": Workload(["-t", "get"], "GET"),
    "incr": Workload(["-t", "incr"], "INCR"),
    "mset": Workload(["-t", "mset"], "MSET (10 keys)", requests_divisor=5),
    "lpush": Workload(["-t", "lpush"], "LPUSH", b"mylist"),
    "rpush": Workload(["-t", "rpush"], "RPUSH", b"mylist"),
    "lpop": pops("lpop", b"mylist", fill_list),
    "rpop": pops("rpop", b"mylist", fill_list),
    "sadd": Workload(["-t", "sadd"], "SADD", b"myset"),
    "spop": pops("spop", b"myset", fill_set),
    "hset": Workload(["-t", "hset"], "HSET", b"myhash"),
    "zadd": Workload(["-t", "zadd"], "ZADD", b"myzset"),
    "zpopmin": pops("zpopmin", b"myzset", fill_zset),
    "lrange_100": Workload(["LRANGE", "mylist", "0", "99"], "LRANGE mylist 0 99", b"mylist",
                           lambda count: fill_list(LRANGE_LIST_LENGTH), requests_divisor=5),
}

# (row name, workload, pipeline), in the order they run (SET before GET, which reads its keys).
ROWS = [(name + (" P%d" % pipeline), workload, pipeline)
        for name, workload in (("SET", "set"), ("GET", "get"), ("INCR", "incr"),
                               ("MSET10", "mset"), ("LPUSH", "lpush"), ("RPUSH", "rpush"),
                               ("LPOP", "lpop"), ("RPOP", "rpop"), ("SADD", "sadd"),
                               ("SPOP", "spop"), ("HSET", "hset"), ("ZADD", "zadd"),
                               ("ZPOPMIN", "zpopmin"), ("LRANGE_100", "lrange_100"))
        for pipeline in (1, 16)]


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
                self.proc.wait(timeout=60)  # a cairnd may finish a CAIRN COMPACT first
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


def run_benchmark(port, workload, pipeline, requests, clients=CLIENTS):
    """One redis-benchmark run; returns (ops/s, p50 ms, p99 ms) of the workload's CSV row."""
    argv = ["redis-benchmark", "-h", HOST, "-p", str(port), "-n", str(requests),
            "-r", str(KEYSPACE), "-d", str(VALUE_BYTES), "-c", str(clients), "-P", str(pipeline),
            "--csv"] + workload.bench_args
    result = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError("redis-benchmark failed: %s %s" % (result.stdout, result.stderr))
    rows = [row for row in csv.DictReader(io.StringIO(result.stdout))
            if row["test"] == workload.csv_name]
    if len(rows) != 1:
        raise RuntimeError("no CSV row %r in redis-benchmark's output: %r" % (
            workload.csv_name, result.stdout))
    row = rows[0]
    return float(row["rps"]), float(row["p50_latency_ms"]), float(row["p99_latency_ms"])


def encode(*args):
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def pipe_commands(port, commands):
    """Sends an iterable of encoded commands through redis-cli --pipe; raises unless every reply
    was a success."""
    proc = subprocess.Popen(["redis-cli", "-h", HOST, "-p", str(port), "--pipe"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    batch = []
    for command in commands:
        batch.append(command)
        if len(batch) >= 200:
            proc.stdin.write(b"".join(batch))
            batch = []
    proc.stdin.write(b"".join(batch))
    proc.stdin.close()
    output = proc.stdout.read().decode(errors="replace")
    if proc.wait() != 0 or "errors: 0" not in output:
        raise RuntimeError("redis-cli --pipe failed: %s" % output)


def redis_cli(port, *args):
    out = subprocess.run(["redis-cli", "-h", HOST, "-p", str(port)] + list(args),
                         capture_output=True, text=True, timeout=600)
    return out.stdout.strip()


def prepare(port, workload, requests, pipeline):
    """Deletes the workload's key and fills it for a pop row: with as many elements as the run
    may pop (redis-benchmark can issue up to a pipeline's worth beyond -n) and 1000 more, so
    that the last pop still finds one."""
    if workload.key is None:
        return
    commands = [encode(b"DEL", workload.key)]
    if workload.fill is not None:
        margin = CLIENTS * pipeline + 1000
        command, key, args = workload.fill(requests + margin)(workload.key)
        per_command = 1000 if command != b"ZADD" else 2000
        commands += [encode(command, key, *args[i:i + per_command])
                     for i in range(0, len(args), per_command)]
    pipe_commands(port, commands)


def check_after(port, workload):
    """A pop row's key must still hold elements: the run popped from a full collection."""
    if workload.fill is None:
        return
    size_command = {b"mylist": "LLEN", b"myset": "SCARD", b"myzset": "ZCARD"}[workload.key]
    size = redis_cli(port, size_command, workload.key.decode())
    if not size.isdigit() or int(size) == 0:
        raise RuntimeError("%s %s after the run: %r (the pops ran it empty)" % (
            size_command, workload.key.decode(), size))


def load_keys(port, count):
    """Loads `count` distinct keys (key:000000000000..) of VALUE_BYTES through redis-cli --pipe, in MSETs
    of 100 keys; returns the seconds it took."""
    start = time.monotonic()
    value = b"v" * VALUE_BYTES
    value_part = b"$%d\r\n%s\r\n" % (len(value), value)
    per_command = 100

    def commands():
        for first in range(0, count, per_command):
            n = min(per_command, count - first)
            parts = [b"*%d\r\n$4\r\nMSET\r\n" % (1 + 2 * n)]
            for i in range(first, first + n):
                key = b"key:%012d" % i  # as redis-benchmark writes key:__rand_int__
                parts.append(b"$%d\r\n%s\r\n" % (len(key), key))
                parts.append(value_part)
            yield b"".join(parts)
    pipe_commands(port, commands())
    return time.monotonic() - start


def read_keys(port, count):
    """GETs `count` random keys of the loaded ones (redis-benchmark, pipeline 16), so that the
    memory figure after it includes what reads cache."""
    argv = ["redis-benchmark", "-h", HOST, "-p", str(port), "-n", str(count), "-c", str(CLIENTS),
            "-P", "16", "-r", str(count), "-q", "GET", "key:__rand_int__"]
    subprocess.run(argv, capture_output=True, timeout=600, check=True)


def dbsize(port):
    out = redis_cli(port, "DBSIZE")
    return int(out) if out.isdigit() else -1


def measure_rows(servers, args):
    """Runs every row `repeats` times as a pair of back-to-back runs, alternating which server
    goes first; returns {row: {server name: (median ops/s, median p50, median p99),
    "ratio": median over the pairs of cairn/redis ops/s}}."""
    results = {}
    for name, workload_name, pipeline in args.rows:
        workload = WORKLOADS[workload_name]
        requests = (args.requests_p1 if pipeline == 1 else args.requests_p16) \
            // workload.requests_divisor
        samples = {s.name: [] for s in servers}
        for repeat in range(args.repeats):
            order = servers if repeat % 2 == 0 else list(reversed(servers))
            for server in order:
                prepare(server.port, workload, requests, pipeline)
                samples[server.name].append(
                    run_benchmark(server.port, workload, pipeline, requests))
                check_after(server.port, workload)
        for server in servers:  # the next row starts without this row's collection
            if workload.key is not None:
                redis_cli(server.port, "DEL", workload.key.decode())
        results[name] = {
            server: tuple(statistics.median(s[i] for s in runs) for i in range(3))
            for server, runs in samples.items()}
        results[name]["ratio"] = statistics.median(
            c[0] / r[0] for r, c in zip(samples["redis"], samples["cairn"]))
        print("  %-14s redis %s   cairn %s ops/s   ratio %.2f" % (
            name, " ".join("%7.0f" % s[0] for s in samples["redis"]),
            " ".join("%7.0f" % s[0] for s in samples["cairn"]), results[name]["ratio"]),
            file=sys.stderr, flush=True)
    return results


def print_table(results, rows):
    print("%-14s %12s %12s %7s %15s %15s" % ("row", "redis ops/s", "cairn ops/s", "ratio",
                                            "redis p50/p99", "cairn p50/p99"))
    ratios = []
    for name, _, _ in rows:
        r, c = results[name]["redis"], results[name]["cairn"]
        ratio = results[name]["ratio"]
        ratios.append(ratio)
        print("%-14s %12.0f %12.0f %7.2f %7.3f/%-7.3f %7.3f/%-7.3f" % (
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
                samples[server.name].append(run_benchmark(
                    server.port, WORKLOADS[test], 1, args.requests_latency, clients=1))
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


def select_rows(parser, wanted):
    """The ROWS named by --rows (all of them without it), in ROWS's order."""
    if not wanted:
        return ROWS
    names = [w.strip().upper() for w in wanted.split(",") if w.strip()]
    unknown = [n for n in names if not any(n in (row, row.split()[0]) for row, _, _ in ROWS)]
    if unknown:
        parser.error("unknown rows: %s" % ", ".join(unknown))
    return [row for row in ROWS if row[0] in names or row[0].split()[0] in names]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cairnd", default="build-bench-redis/cairnd")
    parser.add_argument("--redis-server", default=shutil.which("redis-server") or "redis-server")
    parser.add_argument("--quick", action="store_true",
                        help="fewer requests and runs: a few minutes")
    parser.add_argument("--cairnd-flags", default="", help="extra cairnd flags, for experiments "
                        "(e.g. \"--threads 2\"); the published figures use the defaults")
    parser.add_argument("--workdir", default=None, help="where the servers' directories go")
    parser.add_argument("--rows", default=None,
                        help="run only these rows, comma-separated: a row's name (\"LPOP P16\") "
                        "or its command for both pipelines (\"LPOP\"); the geomean then covers "
                        "those rows only. Rows: " + ", ".join(name for name, _, _ in ROWS))
    parser.add_argument("--skip", default="", help="comma-separated sections to leave out: "
                        "latency, memory")
    args = parser.parse_args()
    args.rows = select_rows(parser, args.rows)
    args.skip = set(filter(None, args.skip.split(",")))
    if args.skip - {"latency", "memory"}:
        parser.error("--skip takes latency and/or memory")
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
        geomean = print_table(results, args.rows)
        if "latency" not in args.skip:
            measure_latency(servers, args)
    finally:
        for server in servers:
            server.stop()
    if "memory" not in args.skip:
        measure_memory(args, workdir)
    print("(total %.0f s)" % (time.monotonic() - start))
    print("geomean vs Redis: %.2f" % geomean)


if __name__ == "__main__":
    main()
