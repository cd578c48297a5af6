// The reports of cluster_reports.h as cairnctl prints them: aligned text tables for people, and
// JSON for scripts (the shapes are documented in docs/cairnctl.md and stay stable: fields are
// added, never renamed or removed). Every function returns the whole output, ending in a newline.
//
// Thread-safety: pure functions over values.
#pragma once

#include <string>

#include "admin/cluster_change.h"
#include "admin/cluster_repair.h"
#include "admin/cluster_reports.h"

namespace cairn {

std::string status_text(const StatusReport& report);
std::string ring_text(const RingReport& report);
std::string slot_text(const SlotReport& report);
std::string repair_text(const RepairReport& report);
std::string plan_text(const PlanReport& report);
std::string leave_text(const LeaveReport& report);
std::string add_text(const AddReport& report);
// One line without a newline, for a terminal to redraw: a bar of the partitions walked, keys
// exchanged, bytes and time so far.
std::string repair_progress_text(const RepairReport& report);
// A ring change's step, without a newline: "ring epoch 7: moving, 3 members".
std::string ring_step_text(const RingStatus& status);
// One line without a newline, for a terminal to redraw: a bar of the partitions streamed so far
// in the transition, and the time.
std::string ring_progress_text(const RingProgress& progress);

std::string status_json(const StatusReport& report);
std::string ring_json(const RingReport& report);
std::string slot_json(const SlotReport& report);
std::string repair_json(const RepairReport& report);
std::string plan_json(const PlanReport& report);
std::string leave_json(const LeaveReport& report);
std::string add_json(const AddReport& report);

}  // namespace cairn
