// Report: the results table of the engine benchmark. Rows are declared in print order; each cell
// holds one engine's figure or the error that kept it from one. The first engine is Cairn, the
// others are its peers; the last column is Cairn's figure over the best peer's in that row.
//
// Thread-safety: none; the benchmark fills it from its main thread.
#pragma once

#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cairn::bench {

enum class Better { kHigher, kLower };

struct RowSpec {
  std::string name;
  std::string unit;
  Better better = Better::kHigher;
  // Throughput rows make up the geomean; latency, memory and amplification rows do not.
  bool throughput = false;
  // False for rows that only give context (the disk's own speed beside a phase): no ratio.
  bool compared = true;
};

class Report {
 public:
  // REQUIRES: engines.size() >= 1; engines[0] is Cairn.
  explicit Report(std::vector<std::string> engines);

  // REQUIRES: no row of that name yet.
  void add_row(RowSpec spec);

  // REQUIRES: the row exists and engine < engine count.
  void set(std::string_view row, size_t engine, double value);
  // Records why an engine has no figure for `row`; keeps a figure already set.
  void set_error(std::string_view row, size_t engine, const std::string& message);

  // A remark about an engine's figures, printed under the table (e.g. that the disk's speed moved
  // while they were measured).
  void add_note(size_t engine, const std::string& text);

  std::optional<double> value(std::string_view row, size_t engine) const;
  // Cairn's figure over the best peer's: the higher one, or for Better::kLower rows the lower one.
  std::optional<double> ratio_to_best_peer(std::string_view row) const;
  // The geometric mean of ratio_to_best_peer() over the throughput rows that have one.
  std::optional<double> geomean_of_throughput_ratios() const;

  // How a child process that runs a phase hands its figures to the parent: from the call on,
  // every set(), set_error() and add_note() also passes the cell as one line of text
  // ("row<TAB>V<TAB>figure", "row<TAB>E<TAB>message" or "<TAB>N<TAB>note", ending in a newline)
  // to `listener`, so a child that crashes has sent every figure it had. import_cells() applies
  // such lines to `engine`'s column, skipping lines that name no declared row.
  void send_cells_to(std::function<void(const std::string& line)> listener);
  void import_cells(size_t engine, std::string_view text);

  // The table (row | unit | each engine | cairn/best), then the errors met and the notes, one
  // per line.
  void print(std::FILE* out) const;

 private:
  struct Cell {
    std::optional<double> value;
    std::string error;
  };
  struct Row {
    RowSpec spec;
    std::vector<Cell> cells;  // one per engine
  };
  Row& row(std::string_view name);
  const Row* find_row(std::string_view name) const;

  void notify(const Row& row, size_t engine) const;

  std::vector<std::string> engines_;
  std::vector<Row> rows_;
  std::vector<std::string> notes_;
  std::function<void(const std::string& line)> listener_;
};

// A figure as the table prints it: no decimals from 100 up, one from 10, two below.
std::string format_figure(double value);

}  // namespace cairn::bench
