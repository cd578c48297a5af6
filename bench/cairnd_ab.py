#!/usr/bin/python3
"""Two cairnd builds side by side under redis-benchmark: the CPU each spends per request.

For performance work on a shared machine, where ops/s swing by 2x from run to run and an A/B
of throughput decides nothing, cairnd's own CPU time per request (user + system, all threads,
from /proc/PID/stat) is the steadier figure. Each round starts every binary fresh (alternating
which goes first) in its own temporary directory, loads it with SETs (pipeline 16 over the key
space), runs the test as warm-up, then measures one run of it. Prints, per binary, the median
ops/s and CPU µs per request over the rounds, and the candidate/base ratios.

  /usr/bin/python3 bench/cairnd_ab.py --base OLD/cairnd --candidate NEW/cairnd [--test get]
      [--pipeline 16] [--rounds 3] [--cairnd-flags "..."]

Servers listen on free loopback ports and are stopped by PID; their directories are removed."""

import argparse
import os
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from redis_bench import KEYSPACE, Server, cairnd_argv, run_benchmark  # noqa: E402

CLOCK_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User + system CPU of all the process's threads so far."""
    with open("/proc/%d/stat" % pid) as f:
        # The command name (field 2) may hold spaces: split after its closing parenthesis.
        fields = f.read().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of the whole line
    return (utime + stime) / CLOCK_TICKS_PER_SECOND


def measure(binary, args, workdir):
    """One fresh server: load, warm up, measure; returns (ops/s, CPU µs per request)."""
    server = Server(os.path.basename(binary), cairnd_argv(binary, args.cairnd_flags), workdir)
    try:
        for _ in range(args.load_runs):
            run_benchmark(server.port, "set", 16, KEYSPACE)
        for _ in range(args.warmup_runs):
            run_benchmark(server.port, args.test, args.pipeline, args.requests)
        before = cpu_seconds(server.proc.pid)
        ops, _, _ = run_benchmark(server.port, args.test, args.pipeline, args.requests)
        used = cpu_seconds(server.proc.pid) - before
        return ops, used * 1e6 / args.requests
    finally:
        server.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", required=True, help="the cairnd to compare against")
    parser.add_argument("--candidate", required=True, help="the changed cairnd")
    parser.add_argument("--test", default="get", help="redis-benchmark test: set, get, incr, mset")
    parser.add_argument("--pipeline", type=int, default=16)
    parser.add_argument("--requests", type=int, default=1000000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--load-runs", type=int, default=3, help="SET runs before the test")
    parser.add_argument("--warmup-runs", type=int, default=2)
    parser.add_argument("--cairnd-flags", default="", help="extra flags for both servers")
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()
    args.cairnd_flags = args.cairnd_flags.split()
    workdir = args.workdir or tempfile.gettempdir()
    binaries = [os.path.abspath(args.base), os.path.abspath(args.candidate)]
    samples = {binary: [] for binary in binaries}
    for round_index in range(args.rounds):
        order = binaries if round_index % 2 == 0 else list(reversed(binaries))
        for binary in order:
            ops, cpu_us = measure(binary, args, workdir)
            samples[binary].append((ops, cpu_us))
            print("  round %d %-10s %10.0f ops/s %8.3f CPU us/request" % (
                round_index + 1, "base" if binary == binaries[0] else "candidate", ops, cpu_us),
                file=sys.stderr, flush=True)
    medians = {b: (statistics.median(s[0] for s in runs), statistics.median(s[1] for s in runs))
               for b, runs in samples.items()}
    print("%s P%d, %d requests, %d rounds (medians)" % (
        args.test.upper(), args.pipeline, args.requests, args.rounds))
    print("%-10s %12s %18s" % ("", "ops/s", "CPU us/request"))
    for label, binary in (("base", binaries[0]), ("candidate", binaries[1])):
        print("%-10s %12.0f %18.3f" % (label, medians[binary][0], medians[binary][1]))
    base, candidate = medians[binaries[0]], medians[binaries[1]]
    print("candidate/base: ops/s %.2f, CPU per request %.2f" % (
        candidate[0] / base[0], candidate[1] / base[1]))


if __name__ == "__main__":
    main()
