// The results table of the engine benchmark (report.h).
#include "report.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "common/assert.h"

namespace cairn::bench {

Report::Report(std::vector<std::string> engines) : engines_(std::move(engines)) {
  CAIRN_ASSERT(!engines_.empty());
}

void Report::add_row(RowSpec spec) {
  CAIRN_ASSERT(find_row(spec.name) == nullptr);
  rows_.push_back(Row{std::move(spec), std::vector<Cell>(engines_.size())});
}

void Report::set(std::string_view name, size_t engine, double value) {
  CAIRN_ASSERT(engine < engines_.size());
  Row& found = row(name);
  found.cells[engine].value = value;
  found.cells[engine].error.clear();
  notify(found, engine);
}

void Report::set_error(std::string_view name, size_t engine, const std::string& message) {
  CAIRN_ASSERT(engine < engines_.size());
  Row& found = row(name);
  Cell& cell = found.cells[engine];
  if (!cell.value.has_value() && cell.error.empty()) {
    cell.error = message;
    notify(found, engine);
  }
}

void Report::add_note(size_t engine, const std::string& text) {
  CAIRN_ASSERT(engine < engines_.size());
  std::string line = text;
  std::replace(line.begin(), line.end(), '\n', ' ');
  notes_.push_back(engines_[engine] + ": " + line);
  if (listener_) listener_("\tN\t" + line + "\n");
}

std::optional<double> Report::value(std::string_view name, size_t engine) const {
  const Row* found = find_row(name);
  CAIRN_ASSERT(found != nullptr && engine < engines_.size());
  return found->cells[engine].value;
}

std::optional<double> Report::ratio_to_best_peer(std::string_view name) const {
  const Row* found = find_row(name);
  CAIRN_ASSERT(found != nullptr);
  if (!found->spec.compared) return std::nullopt;
  const std::optional<double> cairn = found->cells[0].value;
  std::optional<double> best;
  for (size_t peer = 1; peer < engines_.size(); peer++) {
    const std::optional<double> figure = found->cells[peer].value;
    if (!figure.has_value()) continue;
    const bool better = !best.has_value() ||
                        (found->spec.better == Better::kHigher ? *figure > *best : *figure < *best);
    if (better) best = figure;
  }
  if (!cairn.has_value() || !best.has_value() || *best <= 0) return std::nullopt;
  return *cairn / *best;
}

std::optional<double> Report::geomean_of_throughput_ratios() const {
  double log_sum = 0;
  int count = 0;
  for (const Row& each : rows_) {
    if (!each.spec.throughput) continue;
    const std::optional<double> ratio = ratio_to_best_peer(each.spec.name);
    if (!ratio.has_value() || *ratio <= 0) continue;
    log_sum += std::log(*ratio);
    count++;
  }
  if (count == 0) return std::nullopt;
  return std::exp(log_sum / count);
}

void Report::print(std::FILE* out) const {
  size_t name_width = 3;
  size_t unit_width = 4;
  for (const Row& each : rows_) {
    name_width = std::max(name_width, each.spec.name.size());
    unit_width = std::max(unit_width, each.spec.unit.size());
  }
  constexpr int kFigureWidth = 11;
  std::fprintf(out, "%-*s | %-*s", static_cast<int>(name_width), "row",
               static_cast<int>(unit_width), "unit");
  for (const std::string& engine : engines_) {
    std::fprintf(out, " | %*s", kFigureWidth, engine.c_str());
  }
  std::fprintf(out, " | %10s\n", "cairn/best");
  const size_t rule_width = name_width + unit_width + 3 + engines_.size() * (kFigureWidth + 3) + 13;
  std::fprintf(out, "%s\n", std::string(rule_width, '-').c_str());

  std::vector<std::string> errors;
  for (const Row& each : rows_) {
    std::fprintf(out, "%-*s | %-*s", static_cast<int>(name_width), each.spec.name.c_str(),
                 static_cast<int>(unit_width), each.spec.unit.c_str());
    for (size_t engine = 0; engine < engines_.size(); engine++) {
      const Cell& cell = each.cells[engine];
      const std::string shown = cell.value.has_value() ? format_figure(*cell.value)
                                                       : (cell.error.empty() ? "-" : "error");
      std::fprintf(out, " | %*s", kFigureWidth, shown.c_str());
      if (!cell.error.empty()) {
        errors.push_back(engines_[engine] + " / " + each.spec.name + ": " + cell.error);
      }
    }
    const std::optional<double> ratio = ratio_to_best_peer(each.spec.name);
    std::fprintf(out, " | %10s\n", ratio.has_value() ? format_figure(*ratio).c_str() : "-");
  }
  for (const std::string& error : errors) std::fprintf(out, "error: %s\n", error.c_str());
  for (const std::string& note : notes_) std::fprintf(out, "note: %s\n", note.c_str());
}

void Report::send_cells_to(std::function<void(const std::string& line)> listener) {
  listener_ = std::move(listener);
}

void Report::notify(const Row& row, size_t engine) const {
  if (!listener_) return;
  const Cell& cell = row.cells[engine];
  if (cell.value.has_value()) {
    char figure[32];
    std::snprintf(figure, sizeof(figure), "%.17g", *cell.value);
    listener_(row.spec.name + "\tV\t" + figure + "\n");
  } else if (!cell.error.empty()) {
    std::string message = cell.error;
    std::replace(message.begin(), message.end(), '\n', ' ');
    listener_(row.spec.name + "\tE\t" + message + "\n");
  }
}

void Report::import_cells(size_t engine, std::string_view text) {
  CAIRN_ASSERT(engine < engines_.size());
  while (!text.empty()) {
    const size_t end = std::min(text.find('\n'), text.size());
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    const size_t first_tab = line.find('\t');
    if (first_tab == std::string_view::npos || first_tab + 3 > line.size()) continue;
    const std::string_view name = line.substr(0, first_tab);
    const char kind = line[first_tab + 1];
    const std::string payload(line.substr(first_tab + 3));
    if (kind == 'N') add_note(engine, payload);
    if (find_row(name) == nullptr) continue;
    if (kind == 'V') set(name, engine, std::strtod(payload.c_str(), nullptr));
    if (kind == 'E') set_error(name, engine, payload);
  }
}

Report::Row& Report::row(std::string_view name) {
  for (Row& each : rows_) {
    if (each.spec.name == name) return each;
  }
  CAIRN_ASSERT(false && "row not declared");
  __builtin_unreachable();
}

const Report::Row* Report::find_row(std::string_view name) const {
  for (const Row& each : rows_) {
    if (each.spec.name == name) return &each;
  }
  return nullptr;
}

std::string format_figure(double value) {
  char text[32];
  const double magnitude = std::fabs(value);
  const int decimals = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : 2;
  std::snprintf(text, sizeof(text), "%.*f", decimals, value);
  return text;
}

}  // namespace cairn::bench
