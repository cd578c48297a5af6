#include "cluster/cluster_request.h"

namespace cairn {

const char* request_kind_name(RequestKind kind) {
  switch (kind) {
    case RequestKind::kGet:
      return "GET";
    case RequestKind::kSet:
      return "SET";
    case RequestKind::kDelete:
      return "DEL";
    case RequestKind::kIncrBy:
      return "INCRBY";
    case RequestKind::kSetAdd:
      return "SADD";
    case RequestKind::kSetRemove:
      return "SREM";
    case RequestKind::kSetMembers:
      return "SMEMBERS";
    case RequestKind::kHashSet:
      return "HSET";
    case RequestKind::kHashDelete:
      return "HDEL";
    case RequestKind::kHashGetAll:
      return "HGETALL";
    case RequestKind::kExpireAt:
      return "PEXPIREAT";
    case RequestKind::kReadState:
      return "read";
    case RequestKind::kWriteState:
      return "write";
    case RequestKind::kCountKeys:
      return "DBSIZE";
    case RequestKind::kListKeys:
      return "KEYS";
    case RequestKind::kScanKeys:
      return "SCAN";
    case RequestKind::kRandomKey:
      return "RANDOMKEY";
    case RequestKind::kFlushAll:
      return "FLUSHALL";
  }
  return "?";
}

bool is_write(RequestKind kind) {
  switch (kind) {
    case RequestKind::kGet:
    case RequestKind::kSetMembers:
    case RequestKind::kHashGetAll:
    case RequestKind::kReadState:
    case RequestKind::kCountKeys:
    case RequestKind::kListKeys:
    case RequestKind::kScanKeys:
    case RequestKind::kRandomKey:
      return false;
    default:
      return true;
  }
}

bool is_keyspace_wide(RequestKind kind) {
  switch (kind) {
    case RequestKind::kCountKeys:
    case RequestKind::kListKeys:
    case RequestKind::kScanKeys:
    case RequestKind::kRandomKey:
    case RequestKind::kFlushAll:
      return true;
    default:
      return false;
  }
}

}  // namespace cairn
