#!/usr/bin/python3
"""Large collections in cairnd beside redis-server (make bench-collections; QUICK=1 for --quick).

Both servers run on loopback ports picked free, each in a fresh temporary directory, as in
redis_bench.py (redis-server --appendonly yes --appendfsync everysec --save ''; cairnd --fsync
everysec). For each type (--types, default hash,set,list,zset), each server in turn builds one
collection of N elements (1 M; 200 K with --quick) through redis-py pipelines (100 elements per
command, 50 commands per round trip), then:
  build         elements per second of the whole build;
  read p50/p99  latency of 20 K point reads of random present elements from one client, one at a
                time (HGET, SISMEMBER, LINDEX, ZSCORE), over a plain socket so that little client
                time is counted; every reply is checked;
  DEL           the time of one DEL of the whole collection;
and for cairnd the size of its data directory (every file: tables, WAL, blob files, MANIFEST)
before the DEL, after it, and after CAIRN COMPACT, and the time CAIRN COMPACT took.
Each type is measured --repeats times (3; 1 with --quick), alternating which server goes first;
the table shows medians, and the ratio cairn/redis of the medians per row (above 1: cairn's
figure is larger, which is better for a rate and worse for a time). A type a server does not
have (cairnd before sorted sets) is reported as n/a for it. Servers are stopped by PID; their
directories are removed."""

import argparse
import os
import random
import shutil
import socket
import statistics
import sys
import tempfile
import time

import redis

import redis_bench  # the server processes and their command lines, shared
from redis_bench import HOST, cairnd_argv, redis_argv

PER_COMMAND = 100      # elements per write command
PER_ROUND_TRIP = 50    # commands per pipeline execute
VALUE = b"v" * 32      # hash and list values
KEY = "bench:collection"


# ---- servers

class Server(redis_bench.Server):
    """redis_bench's server process, with a client and the data directory cairnd uses."""

    def __init__(self, name, argv_for, workdir):
        super().__init__(name, argv_for, workdir)
        self.data_dir = os.path.join(self.dir, "data")
        self.client = redis.Redis(host=HOST, port=self.port, socket_timeout=600)


def directory_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except FileNotFoundError:  # deleted by the engine meanwhile
                pass
    return total


# ---- the types: how to write a batch of elements, and how to read one back

def hash_write(first, count):
    args = ["HSET", KEY]
    for i in range(first, first + count):
        args += [b"f:%09d" % i, VALUE]
    return args


def set_write(first, count):
    return ["SADD", KEY] + [b"m:%09d" % i for i in range(first, first + count)]


def list_write(first, count):
    return ["RPUSH", KEY] + [VALUE] * count


def zset_write(first, count):
    args = ["ZADD", KEY]
    for i in range(first, first + count):
        args += [i, b"m:%09d" % i]
    return args


# type -> (write, read command for element i, the reply it must get)
TYPES = {
    "hash": (hash_write, lambda i: ("HGET", KEY, b"f:%09d" % i), lambda i: VALUE),
    "set": (set_write, lambda i: ("SISMEMBER", KEY, b"m:%09d" % i), lambda i: 1),
    "list": (list_write, lambda i: ("LINDEX", KEY, i), lambda i: VALUE),
    "zset": (zset_write, lambda i: ("ZSCORE", KEY, b"m:%09d" % i), lambda i: b"%d" % i),
}


def supports(server, type_name):
    """False when the server answers the type's write with an unknown command."""
    write = TYPES[type_name][0]
    try:
        server.client.execute_command(*write(0, 1))
    except redis.ResponseError as error:
        if "unknown command" in str(error):
            return False
        raise
    server.client.delete(KEY)
    return True


# ---- a plain RESP client for the timed reads

def encode(args):
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, int):
            arg = b"%d" % arg
        elif isinstance(arg, str):
            arg = arg.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(out)


class RawClient:
    def __init__(self, port):
        self.sock = socket.create_connection((HOST, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def close(self):
        self.sock.close()

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def call(self, request):
        """Sends an encoded command; returns its reply: bytes, int or None (errors raise)."""
        self.sock.sendall(request)
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b":":
            return int(rest)
        if kind == b"$":
            length = int(rest)
            if length < 0:
                return None
            while len(self.buf) < length + 2:
                self.buf += self.sock.recv(65536)
            data, self.buf = self.buf[:length], self.buf[length + 2:]
            return data
        raise RuntimeError("unexpected reply %r" % line)


# ---- one measurement of one type on one server

def build(server, type_name, elements):
    write = TYPES[type_name][0]
    pipe = server.client.pipeline(transaction=False)
    start = time.perf_counter()
    queued = 0
    for first in range(0, elements, PER_COMMAND):
        pipe.execute_command(*write(first, min(PER_COMMAND, elements - first)))
        queued += 1
        if queued == PER_ROUND_TRIP:
            pipe.execute()
            queued = 0
    pipe.execute()
    return elements / (time.perf_counter() - start)


def read_latencies_us(server, type_name, elements, reads, seed):
    _, read, expected = TYPES[type_name]
    picks = random.Random(seed)
    client = RawClient(server.port)
    latencies = []
    try:
        for _ in range(reads):
            i = picks.randrange(elements)
            request = encode(read(i))
            start = time.perf_counter_ns()
            reply = client.call(request)
            latencies.append((time.perf_counter_ns() - start) / 1000.0)
            if reply != expected(i):
                raise RuntimeError("%s: %r answered %r" % (server.name, read(i), reply))
    finally:
        client.close()
    latencies.sort()
    return latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99)]


def measure(server, type_name, args, seed):
    """One build, read and DEL of a collection; returns {row: value}."""
    row = {"build": build(server, type_name, args.elements)}
    row["p50"], row["p99"] = read_latencies_us(server, type_name, args.elements, args.reads, seed)
    if server.name == "cairn":
        row["dir_before"] = directory_bytes(server.data_dir)
    start = time.perf_counter()
    if server.client.delete(KEY) != 1:
        raise RuntimeError("%s: DEL did not remove the collection" % server.name)
    row["del"] = (time.perf_counter() - start) * 1000
    if server.name == "cairn":
        row["dir_after_del"] = directory_bytes(server.data_dir)
        start = time.perf_counter()
        server.client.execute_command("CAIRN", "COMPACT")
        row["compact"] = time.perf_counter() - start
        row["dir_after_compact"] = directory_bytes(server.data_dir)
    return row


# ---- the table

MIB = float(1 << 20)
ROWS = [  # key, label, unit scale, format
    ("build", "build (elements/s)", 1, "%.0f"),
    ("p50", "%s p50 (us)", 1, "%.1f"),
    ("p99", "%s p99 (us)", 1, "%.1f"),
    ("del", "DEL (ms)", 1, "%.2f"),
    ("dir_before", "data dir before DEL (MiB)", MIB, "%.1f"),
    ("dir_after_del", "data dir after DEL (MiB)", MIB, "%.1f"),
    ("dir_after_compact", "data dir after COMPACT (KiB)", 1024.0, "%.1f"),
    ("compact", "CAIRN COMPACT (s)", 1, "%.2f"),
]


def median_rows(samples):
    keys = set().union(*(s.keys() for s in samples)) if samples else set()
    return {key: statistics.median(s[key] for s in samples) for key in keys}


def print_type(type_name, args, medians):
    read_name = TYPES[type_name][1](0)[0]
    print()
    print("%s, %d elements   %14s %14s %12s" % (type_name, args.elements, "cairn", "redis",
                                                 "cairn/redis"))
    for key, label, scale, fmt in ROWS:
        label = label % read_name if "%s" in label else label
        cells = []
        values = []
        for name in ("cairn", "redis"):
            value = medians.get(name, {}).get(key)
            values.append(value)
            cells.append("n/a" if value is None else fmt % (value / scale))
        if values == [None, None]:
            continue  # a cairnd-only row, cairnd not measured
        ratio = "-" if None in values or values[1] == 0 else "%.2f" % (values[0] / values[1])
        print("  %-30s %14s %14s %12s" % (label, cells[0], cells[1], ratio))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cairnd", default="build-bench-redis/cairnd")
    parser.add_argument("--redis-server", default=shutil.which("redis-server") or "redis-server")
    parser.add_argument("--quick", action="store_true", help="200 K elements, one repeat")
    parser.add_argument("--types", default="hash,set,list,zset")
    parser.add_argument("--servers", default="cairn,redis", help="a subset of cairn,redis")
    parser.add_argument("--elements", type=int, default=None, help="per collection")
    parser.add_argument("--reads", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--cairnd-flags", default="", help="extra cairnd flags, for experiments")
    parser.add_argument("--workdir", default=None, help="where the servers' directories go")
    args = parser.parse_args()
    if args.elements is None:
        args.elements = 200000 if args.quick else 1000000
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    types = args.types.split(",")
    names = args.servers.split(",")
    for type_name in types:
        if type_name not in TYPES:
            sys.exit("collections_bench: unknown type %r (hash, set, list, zset)" % type_name)
    for name in names:
        if name not in ("cairn", "redis"):
            sys.exit("collections_bench: unknown server %r (cairn, redis)" % name)
    args.cairnd = os.path.abspath(args.cairnd)
    needed = ([args.cairnd] if "cairn" in names else []) + (
        [args.redis_server] if "redis" in names else [])
    for tool in needed:
        if shutil.which(tool) is None:
            sys.exit("collections_bench: %s not found (make bench-collections builds cairnd; "
                     "scripts/install-deps.sh installs redis-server)" % tool)
    workdir = args.workdir or tempfile.gettempdir()

    start = time.monotonic()
    print("collections: redis-server (appendonly yes, appendfsync everysec) vs cairnd "
          "(fsync everysec)%s; %d elements per collection, %d point reads, %d repeat(s)" % (
              " [quick]" if args.quick else "", args.elements, args.reads, args.repeats),
          flush=True)
    servers = []
    try:
        if "cairn" in names:
            servers.append(Server("cairn", cairnd_argv(args.cairnd, args.cairnd_flags.split()),
                                  workdir))
        if "redis" in names:
            servers.append(Server("redis", redis_argv(args.redis_server), workdir))
        for type_name in types:
            samples = {s.name: [] for s in servers if supports(s, type_name)}
            for repeat in range(args.repeats):
                order = servers if repeat % 2 == 0 else list(reversed(servers))
                for server in order:
                    if server.name in samples:
                        samples[server.name].append(measure(server, type_name, args, repeat))
                        print("  %s %s run %d: %s" % (type_name, server.name, repeat + 1, {
                            k: round(v, 2) for k, v in samples[server.name][-1].items()}),
                            file=sys.stderr, flush=True)
            print_type(type_name, args, {n: median_rows(s) for n, s in samples.items()})
    finally:
        for server in servers:
            server.stop()
    print()
    print("(medians of %d run(s); us = microseconds; ratio: cairn's median over redis's)" %
          args.repeats)
    print("(total %.0f s)" % (time.monotonic() - start))


if __name__ == "__main__":
    main()
