#!/usr/bin/python3
"""Two cairnd builds side by side under redis-benchmark: the CPU each spends per request.

For performance work on a shared machine, where ops/s swing by 2x from run to run and an A/B
of throughput decides nothing, cairnd's own CPU time per request (user + system, all threads,
from /proc/PID/stat) is the steadier figure. Each round starts every binary fresh (alternating
which goes first) in its own temporary directory, loads it with SETs (pipeline 16 over the key
space), runs the test as warm-up, then measures one run of it. Prints, per binary, the median
ops/s and CPU µs per request over the rounds, and the candidate/base ratios.

  /usr/bin/python3 bench/cairnd_ab.py --base OLD/cairnd --candidate NEW/cairnd [--test get]
      [--pipeline 16] [--rounds 3] [--cairnd-flags "..."] [--cycles]
(--test takes any workload of redis_bench.py: set, get, incr, mset, lpush, spop, zpopmin, ...)

Servers listen on free loopback ports and are stopped by PID; their directories are removed."""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from redis_bench import (KEYSPACE, WORKLOADS, Server, cairnd_argv, prepare,  # noqa: E402
                         run_benchmark)

CLOCK_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User + system CPU of all the process's threads so far."""
    with open("/proc/%d/stat" % pid) as f:
        # The command name (field 2) may hold spaces: split after its closing parenthesis.
        fields = f.read().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of the whole line
    return (utime + stime) / CLOCK_TICKS_PER_SECOND


class CycleCounter:
    """perf stat on one thread: its CPU cycles and instructions. Given cairnd's PID, the main
    thread, which runs the event loop (with one loop, the default): the thread that bounds
    throughput, without the background threads' flushes and compactions, whose share of a run
    varies with where it starts."""

    def __init__(self, tid):
        self.proc = subprocess.Popen(
            ["perf", "stat", "-x", ",", "-e", "cycles,instructions", "-t", str(tid)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def stop(self):
        """(cycles, instructions) counted since the start."""
        self.proc.send_signal(signal.SIGINT)
        _, err = self.proc.communicate(timeout=30)
        counts = {}
        for line in err.splitlines():
            fields = line.split(",")
            if len(fields) > 2 and fields[0].isdigit():
                counts[fields[2].split(":")[0]] = int(fields[0])
        if "cycles" not in counts or "instructions" not in counts:
            raise RuntimeError("perf stat counted nothing: %s" % err.strip())
        return counts["cycles"], counts["instructions"]


def measure(binary, args, workdir):
    """One fresh server: load, warm up, measure; returns (ops/s, CPU µs, cycles and
    instructions per request; the last two 0 without --cycles)."""
    server = Server(os.path.basename(binary), cairnd_argv(binary, args.cairnd_flags), workdir)
    workload = WORKLOADS[args.test]
    try:
        for _ in range(args.load_runs):
            run_benchmark(server.port, WORKLOADS["set"], 16, KEYSPACE)
        for _ in range(args.warmup_runs):
            prepare(server.port, workload, args.requests, args.pipeline)
            run_benchmark(server.port, workload, args.pipeline, args.requests)
        prepare(server.port, workload, args.requests, args.pipeline)  # outside the measurement
        counter = CycleCounter(server.proc.pid) if args.cycles else None
        before = cpu_seconds(server.proc.pid)
        ops, _, _ = run_benchmark(server.port, workload, args.pipeline, args.requests)
        used = cpu_seconds(server.proc.pid) - before
        cycles, instructions = counter.stop() if counter else (0, 0)
        return (ops, used * 1e6 / args.requests, cycles / args.requests,
                instructions / args.requests)
    finally:
        server.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", required=True, help="the cairnd to compare against")
    parser.add_argument("--candidate", required=True, help="the changed cairnd")
    parser.add_argument("--test", default="get", choices=sorted(WORKLOADS),
                        help="a workload of redis_bench.py (its collection is deleted, and filled "
                        "for the pops, before each run)")
    parser.add_argument("--pipeline", type=int, default=16)
    parser.add_argument("--requests", type=int, default=1000000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--load-runs", type=int, default=3, help="SET runs before the test")
    parser.add_argument("--warmup-runs", type=int, default=2)
    parser.add_argument("--cairnd-flags", default="", help="extra flags for both servers")
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--cycles", action="store_true",
                        help="also count the event loop thread's CPU cycles and instructions "
                             "per request (perf stat), which a noisy machine disturbs less than "
                             "CPU time")
    args = parser.parse_args()
    args.cairnd_flags = args.cairnd_flags.split()
    workdir = args.workdir or tempfile.gettempdir()
    binaries = [os.path.abspath(args.base), os.path.abspath(args.candidate)]
    samples = {binary: [] for binary in binaries}
    for round_index in range(args.rounds):
        order = binaries if round_index % 2 == 0 else list(reversed(binaries))
        for binary in order:
            sample = measure(binary, args, workdir)
            samples[binary].append(sample)
            print("  round %d %-10s %10.0f ops/s %8.3f CPU us %8.0f cycles %8.0f instructions "
                  "per request" % ((round_index + 1,
                                    "base" if binary == binaries[0] else "candidate") + sample),
                  file=sys.stderr, flush=True)
    medians = {b: [statistics.median(s[i] for s in runs) for i in range(4)]
               for b, runs in samples.items()}
    print("%s P%d, %d requests, %d rounds (medians)" % (
        args.test.upper(), args.pipeline, args.requests, args.rounds))
    print("%-10s %12s %14s %10s %14s" % ("", "ops/s", "CPU us/req", "cycles/req",
                                          "instr./req"))
    for label, binary in (("base", binaries[0]), ("candidate", binaries[1])):
        print("%-10s %12.0f %14.3f %10.0f %14.0f" % ((label,) + tuple(medians[binary])))
    base, candidate = medians[binaries[0]], medians[binaries[1]]
    ratios = "candidate/base: ops/s %.2f, CPU per request %.2f" % (
        candidate[0] / base[0], candidate[1] / base[1])
    if args.cycles:
        ratios += ", cycles %.2f, instructions %.2f" % (
            candidate[2] / base[2], candidate[3] / base[3])
    print(ratios)


if __name__ == "__main__":
    main()
