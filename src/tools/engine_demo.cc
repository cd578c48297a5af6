// cairn-engine-demo: what `make run` starts until the server exists. Writes keys into a
// database directory, closes it, reopens it (recovery: MANIFEST + WAL) and reads them back.
#include <cstdio>
#include <string>

#include "storage/database.h"

namespace {

int fail(const char* step, const cairn::Status& status) {
  std::fprintf(stderr, "cairn-engine-demo: %s: %s\n", step, status.to_string().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string directory = argc > 1 ? argv[1] : "./data/demo";
  constexpr int kKeyCount = 100000;
  std::printf("Cairn engine demo: database in %s\n", directory.c_str());

  cairn::Options options;
  options.fsync = cairn::FsyncPolicy::kBatch;  // many small writes; durability per second
  {
    auto database = cairn::Database::open(options, directory);
    if (!database.is_ok()) return fail("open", database.status());
    auto runs = (*database)->get({}, "demo:runs");
    if (!runs.is_ok()) return fail("get", runs.status());
    const int previous_runs = runs->has_value() ? std::stoi(**runs) : 0;
    std::printf("  opened: the demo wrote here %d time(s) before\n", previous_runs);
    const std::string generation = "run" + std::to_string(previous_runs + 1) + "-";
    for (int i = 0; i < kKeyCount; i++) {
      const std::string key = "key:" + std::to_string(i);
      const cairn::Status status = (*database)->put(key, generation + std::to_string(i * 7));
      if (!status.is_ok()) return fail("put", status);
    }
    if (auto status = (*database)->remove("key:42"); !status.is_ok()) return fail("remove", status);
    if (auto status = (*database)->put("demo:runs", std::to_string(previous_runs + 1));
        !status.is_ok()) {
      return fail("put", status);
    }
    if (auto status = (*database)->close(); !status.is_ok()) return fail("close", status);
    std::printf("  wrote %d keys (values %s...), removed key:42, closed\n", kKeyCount,
                generation.c_str());
  }

  auto database = cairn::Database::open(options, directory);
  if (!database.is_ok()) return fail("reopen", database.status());
  std::printf("  reopened: %zu level-0 tables, last sequence %llu\n",
              (*database)->level0_table_count(),
              static_cast<unsigned long long>((*database)->last_sequence()));
  for (const char* key : {"demo:runs", "key:0", "key:42", "key:99999"}) {
    auto value = (*database)->get({}, key);
    if (!value.is_ok()) return fail("get", value.status());
    std::printf("  get %-10s -> %s\n", key, value->has_value() ? (*value)->c_str() : "(absent)");
  }
  auto iterator = (*database)->new_iterator({});
  int shown = 0;
  std::printf("  scan from key:99990:\n");
  for (iterator->seek("key:99990"); iterator->valid() && shown < 5; iterator->next(), shown++) {
    std::printf("    %.*s = %.*s\n", static_cast<int>(iterator->key().size()),
                iterator->key().data(), static_cast<int>(iterator->value().size()),
                iterator->value().data());
  }
  if (!iterator->status().is_ok()) return fail("scan", iterator->status());
  std::printf("  engine statistics since the reopen:\n%s",
              cairn::format_stats((*database)->stats()).c_str());
  std::printf("Run it again: it finds this run's data; delete %s to start over.\n",
              directory.c_str());
  return 0;
}
