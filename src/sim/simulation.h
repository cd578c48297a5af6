// Simulation: the clock and event queue of a deterministic simulated run. Everything a simulated
// cluster does (a message arriving, a node's timer firing, a test's fault) is an event scheduled
// at a virtual time in microseconds; run_until() executes the events in (time, insertion
// sequence) order, so events at equal times run in the order they were scheduled and a run is a
// pure function of what was scheduled: one seed replays the same run exactly.
//
// The trace hash summarizes a run: every executed event and every record() (the network records
// each delivered message) is folded into a chained hash64, so two runs of one seed can be
// compared with one integer. An optional trace sink receives one text line per folded item, for
// debugging a failing seed; formatting happens only while a sink is set.
//
// Simulation also owns the run's Random, seeded once, from which the simulated network and the
// tests draw. Components that need their own streams (each node's state machines) derive seeds
// from it, so that adding draws in one place does not shift every other stream.
//
// Thread-safety: none. A simulation runs on one thread.
// Invariants: now_us() never decreases; an event never runs before its time.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "io/random.h"

namespace cairn::sim {

// Handle of a scheduled event, for cancel().
struct EventId {
  uint64_t value = 0;
};

class Simulation {
 public:
  using TraceSink = std::function<void(std::string_view line)>;

  explicit Simulation(uint64_t seed);
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  uint64_t seed() const { return seed_; }
  uint64_t now_us() const { return now_us_; }
  Random& random() { return random_; }

  // Schedules `action` to run at `time_us`. `label` names the event in the trace; it must outlive
  // the event (a string literal). REQUIRES: time_us >= now_us().
  EventId schedule_at(uint64_t time_us, std::function<void()> action,
                      std::string_view label = "event");
  EventId schedule_after(uint64_t delay_us, std::function<void()> action,
                         std::string_view label = "event") {
    return schedule_at(now_us_ + delay_us, std::move(action), label);
  }
  // The event will not run. Cancelling an event that already ran or was cancelled does nothing.
  // Linear in the pending events: meant for rare faults, not per-message timers.
  void cancel(EventId id);

  // Runs every event due at or before `time_us` (including those the events schedule), then
  // moves the clock to `time_us`. REQUIRES: time_us >= now_us().
  void run_until(uint64_t time_us);
  // Runs the next event, if any; returns false when the queue is empty.
  bool step();
  // Including cancelled events not yet popped.
  size_t pending_events() const { return queue_.size(); }
  uint64_t events_run() const { return events_run_; }

  // Folds an item into the trace hash: what happened (`kind`, a short constant name) and up to
  // three numbers describing it, at now_us().
  void record(std::string_view kind, uint64_t a = 0, uint64_t b = 0, uint64_t c = 0);
  uint64_t trace_hash() const { return trace_hash_; }
  // Receives "<time_us> <kind> <a> <b> <c>" per folded item; an empty function turns it off.
  void set_trace_sink(TraceSink sink) { trace_sink_ = std::move(sink); }

 private:
  struct Event {
    uint64_t time_us;
    uint64_t sequence;
    std::string_view label;
    std::function<void()> action;
  };
  // Orders the heap so that the earliest (time, sequence) is on top.
  struct Later {
    bool operator()(const Event& a, const Event& b) const {
      return a.time_us != b.time_us ? a.time_us > b.time_us : a.sequence > b.sequence;
    }
  };

  Event pop_next();
  // Pops cancelled events off the top, so that the top (if any) is the next to run.
  void drop_cancelled();

  uint64_t seed_;
  Random random_;
  uint64_t now_us_ = 0;
  uint64_t next_sequence_ = 1;
  uint64_t events_run_ = 0;
  // A binary heap under Later. A cancelled event stays in it with an empty action and is skipped.
  std::vector<Event> queue_;
  uint64_t trace_hash_ = 0;
  TraceSink trace_sink_;
};

}  // namespace cairn::sim
