#include "server/collection_commands.h"

#include <limits>
#include <string>
#include <unordered_set>
#include <utility>

#include "common/assert.h"
#include "model/sorted_set_score.h"
#include "model/string_number.h"
#include "server/command_support.h"
#include "server/server.h"

namespace cairn {

bool open_collection_for_write(CommandContext& context, std::string_view key, RecordType type,
                               bool create, CollectionWrite* write) {
  Keyspace& keyspace = keyspace_of(context);
  Result<FoundCollection> found = find_collection(keyspace, key, type, true);
  if (!collection_usable(context, found)) return false;
  write->found = std::move(found).value();
  write->collection.reset();
  if (!create && !write->found.collection.has_value()) return true;
  Result<Collection> collection = collection_for_write(keyspace, key, type, write->found);
  if (!collection.is_ok()) {
    reply_status(context.reply, collection.status());
    return false;
  }
  write->collection.emplace(std::move(collection).value());
  return true;
}

Result<bool> element_exists(Keyspace& keyspace, const CollectionWrite& write,
                            std::string_view element) {
  CAIRN_ASSERT(write.collection.has_value());
  if (!write.found.collection.has_value()) return false;  // a new collection is empty
  CAIRN_ASSIGN_OR_RETURN(const std::optional<std::string> value,
                         keyspace.read_element(write.collection->element_key(element), nullptr,
                                               true));
  return value.has_value();
}

void remove_elements(CommandContext& context, RecordType type) {
  const std::string_view key = context.argv[1];
  Keyspace& keyspace = keyspace_of(context);
  KeyLockGuard guard = keyspace.lock_key(key);
  CollectionWrite write;
  if (!open_collection_for_write(context, key, type, false, &write)) return;
  if (!write.collection.has_value()) return context.reply.integer(0);
  KeyspaceWrite batch(keyspace);
  std::unordered_set<std::string_view> removed;  // an element named twice is removed once
  for (size_t i = 2; i < context.argv.size(); i++) {
    const std::string_view element = context.argv[i];
    if (removed.contains(element)) continue;
    Result<bool> exists = element_exists(keyspace, write, element);
    if (!exists.is_ok()) return reply_status(context.reply, exists.status());
    if (!*exists) continue;
    removed.insert(element);
    write.collection->remove_element(batch, element);
  }
  if (removed.empty()) return context.reply.integer(0);
  write.collection->meta().count -= removed.size();
  if (!commit_collection(context, batch, write)) return;
  context.reply.integer(static_cast<int64_t>(removed.size()));
}

void scan_collection(CommandContext& context, RecordType type, ScanValues values) {
  const std::optional<uint64_t> cursor = parse_scan_cursor(context.reply, context.argv[2]);
  if (!cursor.has_value()) return;
  Keyspace& keyspace = keyspace_of(context);
  const KeyspaceSnapshot snapshot(keyspace);
  Result<FoundCollection> found = find_collection_at(keyspace, context.argv[1], type, snapshot);
  if (!collection_usable(context, found)) return;
  ElementScanPage page;
  if (found->collection.has_value()) {
    const std::optional<ScanOptions> options = parse_scan_options(context, 3, false);
    if (!options.has_value()) return;
    Result<ElementScanPage> scanned = scan_elements(keyspace, *found->collection, snapshot,
                                                    *cursor, options->pattern, options->count);
    if (!scanned.is_ok()) return reply_status(context.reply, scanned.status());
    page = std::move(scanned).value();
  }
  context.reply.array_header(2);
  context.reply.bulk_string(std::to_string(page.cursor));
  // A score is decoded (into its reply text, in place) before the reply starts, so that a
  // corrupt one is an error reply, not half of one.
  for (auto& [element, value] : page.elements) {
    if (values != ScanValues::kScore) break;
    double score = 0;
    if (!decode_score(value, &score)) {
      return reply_status(context.reply, Status::corruption("sorted-set score does not decode"));
    }
    value = format_double(score);
  }
  const bool with_values = values != ScanValues::kNone;
  context.reply.array_header(page.elements.size() * (with_values ? 2 : 1));
  for (const auto& [element, value] : page.elements) {
    context.reply.bulk_string(element);
    if (with_values) context.reply.bulk_string(value);
  }
}

std::optional<RandomCount> parse_random_count(CommandContext& context, std::string_view text) {
  const std::optional<int64_t> count = parse_integer_argument(context.reply, text);
  if (!count.has_value()) return std::nullopt;
  constexpr int64_t kLongMax = std::numeric_limits<int64_t>::max();
  if (*count < -kLongMax) {
    context.reply.error("ERR value is out of range, value must between " +
                        std::to_string(-kLongMax) + " and " + std::to_string(kLongMax));
    return std::nullopt;
  }
  RandomCount parsed;
  parsed.distinct = *count >= 0;
  parsed.wanted = static_cast<uint64_t>(parsed.distinct ? *count : -*count);
  if (!parsed.distinct && parsed.wanted > kRandomDrawsMax) {
    context.reply.error("ERR value is out of range");
    return std::nullopt;
  }
  return parsed;
}

void wait_or_reply_null(CommandContext& context, std::span<const std::string_view> keys,
                        const Waiting& waiting, bool null_array) {
  if (!waiting.blocking || !context.may_block) {
    return null_array ? context.reply.null_array() : context.reply.null();
  }
  context.server.blocking().block(context.client, keys);
  context.block.requested = true;
  context.block.timeout_ms = waiting.timeout_ms;
}

bool open_for_pop(CommandContext& context, std::string_view key, RecordType type,
                  CollectionWrite* write) {
  if (!context.retrying_block) return open_collection_for_write(context, key, type, false, write);
  Result<FoundCollection> found = find_collection(keyspace_of(context), key, type, true);
  if (!found.is_ok()) {
    reply_status(context.reply, found.status());
    return false;
  }
  write->found = std::move(found).value();
  write->collection = write->found.collection;
  return true;
}

std::optional<ElementValues> draw_random_elements(CommandContext& context, RecordType type,
                                                  const std::optional<RandomCount>& count,
                                                  bool with_values) {
  Keyspace& keyspace = keyspace_of(context);
  const KeyspaceSnapshot snapshot(keyspace);
  Result<FoundCollection> found = find_collection_at(keyspace, context.argv[1], type, snapshot);
  if (!collection_usable(context, found)) return std::nullopt;
  if (!found->collection.has_value()) {
    if (count.has_value()) {
      context.reply.array_header(0);
    } else {
      context.reply.null();
    }
    return std::nullopt;
  }
  const RandomCount wanted = count.value_or(RandomCount{});
  if (wanted.wanted == 0) {
    context.reply.array_header(0);
    return std::nullopt;
  }
  Result<ElementValues> picked = random_elements(keyspace, *found->collection, snapshot,
                                                 wanted.wanted, wanted.distinct, with_values);
  if (!picked.is_ok()) {
    reply_status(context.reply, picked.status());
    return std::nullopt;
  }
  if (!count.has_value()) {
    CAIRN_ASSERT(picked->size() == 1);
    context.reply.bulk_string(picked->front().first);
    return std::nullopt;
  }
  return std::move(picked).value();
}

std::optional<MultiPopRequest> parse_multi_pop(CommandContext& context, size_t first,
                                               bool blocking,
                                               const std::array<std::string_view, 2>& where) {
  const std::optional<int64_t> numkeys = string_to_int64(context.argv[first]);
  if (!numkeys.has_value() || *numkeys < 1) {
    context.reply.error("ERR numkeys should be greater than 0");
    return std::nullopt;
  }
  // The keys, then <where>: numkeys + 1 arguments after numkeys.
  if (static_cast<uint64_t>(*numkeys) + 1 >= context.argv.size() - first) {
    context.reply.error(kSyntaxError);
    return std::nullopt;
  }
  MultiPopRequest request;
  request.keys = context.argv.subspan(first + 1, static_cast<size_t>(*numkeys));
  const size_t where_index = first + 1 + request.keys.size();
  request.second_where = equals_ignore_case(context.argv[where_index], where[1]);
  if (!request.second_where && !equals_ignore_case(context.argv[where_index], where[0])) {
    context.reply.error(kSyntaxError);
    return std::nullopt;
  }
  bool counted = false;
  for (size_t i = where_index + 1; i < context.argv.size(); i++) {
    if (!counted && equals_ignore_case(context.argv[i], "count") && i + 1 < context.argv.size()) {
      const std::optional<int64_t> count = string_to_int64(context.argv[++i]);
      if (!count.has_value() || *count < 1) {
        context.reply.error("ERR count should be greater than 0");
        return std::nullopt;
      }
      request.count = static_cast<uint64_t>(*count);
      counted = true;
    } else {
      context.reply.error(kSyntaxError);
      return std::nullopt;
    }
  }
  if (blocking) {
    const std::optional<uint64_t> timeout_ms = parse_block_timeout(context, context.argv[1]);
    if (!timeout_ms.has_value()) return std::nullopt;
    request.waiting = Waiting{true, *timeout_ms};
  }
  return request;
}

bool commit_collection(CommandContext& context, KeyspaceWrite& batch, const CollectionWrite& write) {
  CAIRN_ASSERT(write.collection.has_value());
  Status status = write_collection(batch, *write.collection, write.found);
  if (status.is_ok()) status = batch.commit();
  if (!status.is_ok()) reply_status(context.reply, status);
  return status.is_ok();
}

}  // namespace cairn
