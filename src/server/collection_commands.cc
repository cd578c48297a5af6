#include "server/collection_commands.h"

#include <utility>

#include "common/assert.h"
#include "server/command_support.h"

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

bool commit_collection(CommandContext& context, KeyspaceWrite& batch, const CollectionWrite& write) {
  CAIRN_ASSERT(write.collection.has_value());
  Status status = write_collection(batch, *write.collection, write.found);
  if (status.is_ok()) status = batch.commit();
  if (!status.is_ok()) reply_status(context.reply, status);
  return status.is_ok();
}

}  // namespace cairn
