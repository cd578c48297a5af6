// cairnctl: the admin command line of a Cairn cluster (docs/cairnctl.md).
//
//   cairnctl [--host H] [--port P] [--nodes H:P,...] [--json] [--timeout-ms N]
//            status | ring | slot KEY | repair [--slot N|FIRST-LAST]
//            | plan add | plan leave NODE | add HOST:PORT | leave NODE | remove NODE
//
// Asks the first node that answers (--host/--port, then --nodes in order) and prints a table, or
// JSON with --json. The work is in src/admin (cluster_reports.h, cluster_repair.h,
// report_format.h); this file parses the flags and picks the report. Exit code 0 on success; 1
// with one line on stderr ("cairnctl: no node answered (tried ...)") when no node answered, a
// flag is wrong, or a repair did not compare every pair of replicas.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "admin/cluster_repair.h"
#include "admin/cluster_reports.h"
#include "admin/report_format.h"
#include "io/terminal.h"

namespace {

int fail(const std::string& message) {
  std::fprintf(stderr, "cairnctl: %s\n", message.c_str());
  return 1;
}

struct Flags {
  std::string host = "127.0.0.1";
  uint16_t port = 7379;
  std::vector<std::string> nodes;
  bool json = false;
  int64_t timeout_ms = 2000;
  std::string key;
  std::string slots = "0-16383";
  std::string node;  // plan leave, leave, remove: an id or HOST:PORT; add: HOST:PORT
  uint64_t wait_s = 3600;
};

// The seeds in the order they are asked. The default --host/--port is left out when --nodes is
// given and neither was: a cluster named by --nodes is not to be mixed up with whatever happens
// to listen on 127.0.0.1:7379.
cairn::Result<std::vector<cairn::HostPort>> seeds_of(const Flags& flags, bool address_given) {
  std::vector<cairn::HostPort> seeds;
  if (address_given || flags.nodes.empty()) seeds.push_back({flags.host, flags.port});
  for (const std::string& text : flags.nodes) {
    CAIRN_ASSIGN_OR_RETURN(cairn::HostPort seed, cairn::parse_host_port(text));
    seeds.push_back(std::move(seed));
  }
  return seeds;
}

template <typename Report>
int print(const cairn::Result<Report>& report, bool json, std::string (*text_of)(const Report&),
          std::string (*json_of)(const Report&)) {
  if (!report.is_ok()) return fail(std::string(report.status().message()));
  const std::string out = json ? json_of(*report) : text_of(*report);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

// Runs the repair, drawing its progress on stderr when that is a terminal; fails when any pair of
// replicas was left uncompared.
int repair(const cairn::ClusterTarget& target, const Flags& flags) {
  cairn::Result<cairn::SlotSpan> slots = cairn::parse_slot_span(flags.slots);
  if (!slots.is_ok()) return fail(std::string(slots.status().message()));
  cairn::RepairOptions options;
  options.slots = *slots;
  const bool draw = cairn::stderr_is_terminal();
  cairn::Result<cairn::RepairReport> report =
      cairn::run_repair(target, options, [draw](const cairn::RepairReport& progress) {
        if (!draw) return;
        std::fprintf(stderr, "\r%s", cairn::repair_progress_text(progress).c_str());
        std::fflush(stderr);
      });
  if (draw) std::fprintf(stderr, "\n");
  const int printed = print(report, flags.json, cairn::repair_text, cairn::repair_json);
  if (printed != 0 || cairn::repair_complete(*report)) return printed;
  const cairn::RepairTotals totals = cairn::repair_totals(*report);
  return fail("repair incomplete (nodes failed: " + std::to_string(totals.nodes_failed) +
              ", exchanges failed: " + std::to_string(totals.exchanges_failed) +
              ", replicas down: " + std::to_string(totals.peers_skipped) + ")");
}

// Shows a ring change on stderr as it goes: a line per step and, on a terminal, a bar of the
// partitions streamed redrawn in place while data moves.
class RingProgressPrinter {
 public:
  RingProgressPrinter() : draw_(cairn::stderr_is_terminal()) {}
  ~RingProgressPrinter() { clear_bar(); }

  void operator()(const cairn::RingProgress& progress) {
    const std::string step = cairn::ring_step_text(progress.status);
    if (step != last_step_) {
      clear_bar();
      std::fprintf(stderr, "%s\n", step.c_str());
      last_step_ = step;
    }
    if (draw_ && progress.stream_partitions > 0) {
      std::fprintf(stderr, "\r%s", cairn::ring_progress_text(progress).c_str());
      bar_shown_ = true;
    }
    std::fflush(stderr);
  }

 private:
  void clear_bar() {
    if (bar_shown_) std::fprintf(stderr, "\r\033[K");
    bar_shown_ = false;
  }

  bool draw_;
  bool bar_shown_ = false;
  std::string last_step_;
};

// Leave (the node streams its share out, then shuts down) or remove (a dead node's replicas are
// rebuilt from the others).
int take_out(const cairn::ClusterTarget& target, const Flags& flags, bool dead_expected) {
  cairn::Result<cairn::LeaveReport> report = [&] {
    RingProgressPrinter printer;
    return cairn::take_out(target, flags.node, dead_expected, flags.wait_s * 1000,
                           std::ref(printer));
  }();
  return print(report, flags.json, cairn::leave_text, cairn::leave_json);
}

// Add the node at HOST:PORT (started with --cluster-enabled, alone and empty): it joins, streams
// its share, and the ring settles with it.
int add(const cairn::ClusterTarget& target, const Flags& flags) {
  cairn::Result<cairn::HostPort> address = cairn::parse_host_port(flags.node);
  if (!address.is_ok()) return fail(std::string(address.status().message()));
  cairn::Result<cairn::AddReport> report = [&] {
    RingProgressPrinter printer;
    return cairn::add_node(target, *address, flags.wait_s * 1000, std::ref(printer));
  }();
  return print(report, flags.json, cairn::add_text, cairn::add_json);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cairnctl: the admin command line of a Cairn cluster"};
  app.require_subcommand(1);
  app.fallthrough();  // the global flags may also follow the command
  Flags flags;
  CLI::Option* host =
      app.add_option("--host", flags.host, "Node to ask first")->capture_default_str();
  CLI::Option* port = app.add_option("--port", flags.port, "Its port")
                          ->check(CLI::Range(1, 65535))
                          ->capture_default_str();
  app.add_option("--nodes", flags.nodes, "More nodes to ask, in order: HOST:PORT,...")
      ->delimiter(',');
  app.add_flag("--json", flags.json, "Print JSON for scripts");
  app.add_option("--timeout-ms", flags.timeout_ms, "Connect and reply time-out per node")
      ->check(CLI::Range(int64_t{1}, int64_t{3'600'000}))
      ->capture_default_str();
  CLI::App* status =
      app.add_subcommand("status", "Every node: state, rack, slots, keys, ops/s, disk");
  CLI::App* ring = app.add_subcommand("ring", "Each slot range and its preference list");
  CLI::App* slot = app.add_subcommand("slot", "The slot of a key and its preference list");
  slot->add_option("KEY", flags.key, "The key")->required();
  CLI::App* repair_command = app.add_subcommand(
      "repair", "Compare every replica of the slots with the others now, and repair them");
  repair_command->add_option("--slot", flags.slots, "The slots: N or FIRST-LAST")
      ->capture_default_str();
  CLI::App* plan = app.add_subcommand("plan", "What a change would move, before anything moves");
  plan->require_subcommand(1);
  CLI::App* plan_add = plan->add_subcommand("add", "Adding a node");
  CLI::App* plan_leave = plan->add_subcommand("leave", "NODE leaving (or being removed)");
  plan_leave->add_option("NODE", flags.node, "Its id or HOST:PORT")->required();
  CLI::App* add_command = app.add_subcommand(
      "add", "Add the node at HOST:PORT (cairnd --cluster-enabled, alone and empty)");
  add_command->add_option("HOST:PORT", flags.node, "Its client address")->required();
  CLI::App* leave = app.add_subcommand(
      "leave", "Take a live NODE out: its share streams to the others, then it shuts down");
  leave->add_option("NODE", flags.node, "Its id or HOST:PORT")->required();
  CLI::App* remove = app.add_subcommand(
      "remove", "Take a dead NODE out: its replicas are rebuilt from the others");
  remove->add_option("NODE", flags.node, "Its id or HOST:PORT")->required();
  for (CLI::App* change : {add_command, leave, remove}) {
    change->add_option("--wait-s", flags.wait_s, "Give up after this long")->capture_default_str();
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForAllHelp& help) {
    return app.exit(help);
  } catch (const CLI::ParseError& error) {
    return fail(error.what());
  }

  cairn::Result<std::vector<cairn::HostPort>> seeds =
      seeds_of(flags, host->count() > 0 || port->count() > 0);
  if (!seeds.is_ok()) return fail(std::string(seeds.status().message()));
  cairn::ClusterTarget target;
  target.seeds = *seeds;
  target.client.connect_timeout_ms = flags.timeout_ms;
  target.client.io_timeout_ms = flags.timeout_ms;

  if (status->parsed()) {
    return print(cairn::gather_status(target), flags.json, cairn::status_text, cairn::status_json);
  }
  if (ring->parsed()) {
    return print(cairn::gather_ring(target), flags.json, cairn::ring_text, cairn::ring_json);
  }
  if (repair_command->parsed()) return repair(target, flags);
  if (plan_add->parsed()) {
    return print(cairn::plan_change(target, ""), flags.json, cairn::plan_text, cairn::plan_json);
  }
  if (plan_leave->parsed()) {
    return print(cairn::plan_change(target, flags.node), flags.json, cairn::plan_text,
                 cairn::plan_json);
  }
  if (add_command->parsed()) return add(target, flags);
  if (leave->parsed()) return take_out(target, flags, /*dead_expected=*/false);
  if (remove->parsed()) return take_out(target, flags, /*dead_expected=*/true);
  CAIRN_ASSERT(slot->parsed());
  return print(cairn::gather_slot(target, flags.key), flags.json, cairn::slot_text,
               cairn::slot_json);
}
