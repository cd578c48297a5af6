// cairn-sim: runs the cluster simulation (src/sim/cluster_run.h) over a range of seeds and
// reports each failing seed with the checker that failed, then exactly "K passed, F failed".
// A failing seed replays exactly: `cairn-sim --seed S --count 1 --trace` prints its events.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <string>

#include "sim/cluster_run.h"

int main(int argc, char** argv) {
  CLI::App app{"cairn-sim: the cluster under the deterministic simulator"};
  uint64_t seed = 1;
  uint64_t count = 1;
  size_t nodes = 0;
  uint64_t sim_seconds = 60;
  bool trace = false;
  bool plant_bug = false;
  std::string dump_key;
  app.add_option("--seed", seed, "first seed")->check(CLI::NonNegativeNumber);
  app.add_option("--count", count, "seeds to run: seed .. seed+count-1")
      ->check(CLI::Range(uint64_t{1}, uint64_t{10'000'000}));
  app.add_option("--nodes", nodes, "nodes per cluster (default: 3 to 9, drawn from each seed)")
      ->check(CLI::Range(3, 64));
  app.add_option("--sim-seconds", sim_seconds, "simulated seconds of load per seed")
      ->check(CLI::Range(uint64_t{1}, uint64_t{3600}));
  app.add_flag("--trace", trace, "print the event trace of each seed (use with --count 1)");
  app.add_flag("--plant-early-ack-bug", plant_bug,
               "run with coordinators that acknowledge one ack early, without anti-entropy, joins "
               "or leaves, which could hide it (the checkers must fail)");
  app.add_option("--dump-key", dump_key,
                 "print every operation on this key and its final replicas (use with --count 1)");
  CLI11_PARSE(app, argc, argv);

  uint64_t failed = 0;
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t s = seed; s < seed + count; s++) {
    cairn::sim::ClusterRunOptions options;
    options.seed = s;
    options.node_count = nodes;
    options.load_seconds = sim_seconds;
    if (plant_bug) cairn::sim::plant_early_ack_bug(&options);
    options.dump_key = dump_key;
    if (trace) {
      options.trace = [](std::string_view line) {
        std::fwrite(line.data(), 1, line.size(), stdout);
        std::fputc('\n', stdout);
      };
    }
    const cairn::sim::ClusterRunResult result = cairn::sim::run_cluster(options);
    if (!result.violations.empty()) {
      failed++;
      std::printf("seed %llu failed: %zu violation(s)\n", static_cast<unsigned long long>(s),
                  result.violations.size());
      for (size_t i = 0; i < result.violations.size() && i < 5; i++) {
        std::printf("  %s: %s\n", result.violations[i].checker.c_str(),
                    result.violations[i].detail.c_str());
      }
    }
    if (count == 1) {
      std::fprintf(stderr,
                   "seed %llu: trace hash %016llx, %llu operations (%llu acknowledged), %llu "
                   "messages, %llu faults, %llu concurrent writes, %llu hints delivered, %llu "
                   "read repairs\n",
                   static_cast<unsigned long long>(s),
                   static_cast<unsigned long long>(result.trace_hash),
                   static_cast<unsigned long long>(result.operations),
                   static_cast<unsigned long long>(result.acknowledged),
                   static_cast<unsigned long long>(result.messages_delivered),
                   static_cast<unsigned long long>(result.faults_injected),
                   static_cast<unsigned long long>(result.concurrent_writes),
                   static_cast<unsigned long long>(result.hints_delivered),
                   static_cast<unsigned long long>(result.read_repairs));
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "%.3f s real time per seed\n", seconds / static_cast<double>(count));
  std::printf("%llu passed, %llu failed\n", static_cast<unsigned long long>(count - failed),
              static_cast<unsigned long long>(failed));
  return failed == 0 ? 0 : 1;
}
