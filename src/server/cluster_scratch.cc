#include "server/cluster_scratch.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <shared_mutex>

#include "net/resp_reply_reader.h"
#include "server/client.h"
#include "server/server.h"

namespace cairn {

namespace {

// Reads a reply from bytes in memory.
class StringReplySource final : public ReplyByteSource {
 public:
  explicit StringReplySource(std::string_view bytes) : bytes_(bytes) {}
  Result<size_t> read_some(char* data, size_t capacity) override {
    if (bytes_.empty()) return Status::corruption("scratch: a reply ended early");
    const size_t n = std::min(capacity, bytes_.size());
    std::copy_n(bytes_.data(), n, data);
    bytes_.remove_prefix(n);
    return n;
  }

 private:
  std::string_view bytes_;
};

ServerConfig scratch_config() {
  ServerConfig config;
  config.dir = "/scratch";
  config.fsync = ServerFsync::kNo;
  config.log_level = "off";
  // Small and uncached: keys live here for one command, and only the memtable sees them.
  config.block_cache_bytes = 0;
  config.row_cache_bytes = 0;
  config.write_buffer_bytes = 4u << 20;
  // Values stay inline, so a reply never streams from a blob file removed after the run.
  config.blob_threshold_bytes = 0;  // blobs off
  config.expiry_cycle_interval_ms = 60'000;
  config.expiry_cycle_budget_ms = 1;
  return config;
}

// Scores as the keyspace takes them back exactly.
std::string score_text(double score) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.17g", score);
  return buffer;
}

Status unexpected(std::string_view what, const RespValue& reply) {
  return Status::corruption("scratch: " + std::string(what) + " answered " + reply.to_string());
}

}  // namespace

ClusterScratch::ClusterScratch() : env_(0) {}

ClusterScratch::~ClusterScratch() {
  if (server_ != nullptr) (void)server_->close();
}

Result<std::unique_ptr<ClusterScratch>> ClusterScratch::open() {
  std::unique_ptr<ClusterScratch> scratch(new ClusterScratch());
  KeyspaceOptions options;
  options.env = &scratch->env_;
  CAIRN_ASSIGN_OR_RETURN(scratch->server_, Server::open(scratch_config(), options));
  scratch->client_ = std::make_unique<Client>(
      ConnectionInfo{}, std::make_shared<NullConnectionControl>(), Server::now_ms());
  return scratch;
}

Result<RespValue> ClusterScratch::call(std::vector<std::string> argv) {
  const std::vector<std::string_view> views(argv.begin(), argv.end());
  const CommandEntry* entry = server_->table().find(views[0]);
  CAIRN_ASSERT(entry != nullptr && entry->spec->handler != nullptr);
  std::string out;
  ReplyWriter reply(&out, RespVersion::kResp2);
  CommandContext context{*server_, *client_, views, reply, nullptr,
                         nullptr,  false,    false, false, {}};
  {
    std::shared_lock lock(server_->execution_mutex());
    entry->spec->handler(context);
  }
  StringReplySource source(out);
  RespReplyReader reader;
  return reader.read(source);
}

Status ClusterScratch::load(const std::string& key, const KeyImage& image) {
  std::vector<std::string> argv;
  switch (image.type) {
    case KeyStateType::kNone:
      return Status::ok();
    case KeyStateType::kString:
      argv = {"set", key, image.string_value};
      break;
    case KeyStateType::kHash:
      argv = {"hset", key};
      for (const auto& [field, value] : image.hash_fields) {
        argv.push_back(field);
        argv.push_back(value);
      }
      break;
    case KeyStateType::kSet:
      argv = {"sadd", key};
      argv.insert(argv.end(), image.set_members.begin(), image.set_members.end());
      break;
    case KeyStateType::kSortedSet:
      argv = {"zadd", key};
      for (const auto& [member, score] : image.sorted_set_members) {
        argv.push_back(score_text(score));
        argv.push_back(member);
      }
      break;
    case KeyStateType::kList:
      argv = {"rpush", key};
      argv.insert(argv.end(), image.list_elements.begin(), image.list_elements.end());
      break;
  }
  CAIRN_ASSIGN_OR_RETURN(const RespValue loaded, call(std::move(argv)));
  if (loaded.is_error()) return unexpected("loading " + key, loaded);
  if (image.expires_at_unix_ms != 0) {
    CAIRN_ASSIGN_OR_RETURN(const RespValue expired,
                           call({"pexpireat", key, std::to_string(image.expires_at_unix_ms)}));
    if (expired.is_error()) return unexpected("PEXPIREAT", expired);
  }
  return Status::ok();
}

Result<KeyImage> ClusterScratch::read_back(const std::string& key) {
  KeyImage image;
  CAIRN_ASSIGN_OR_RETURN(const RespValue type, call({"type", key}));
  if (type.text == "none") return image;
  std::vector<std::string> argv;
  if (type.text == "string") {
    image.type = KeyStateType::kString;
    argv = {"get", key};
  } else if (type.text == "hash") {
    image.type = KeyStateType::kHash;
    argv = {"hgetall", key};
  } else if (type.text == "set") {
    image.type = KeyStateType::kSet;
    argv = {"smembers", key};
  } else if (type.text == "zset") {
    image.type = KeyStateType::kSortedSet;
    argv = {"zrange", key, "0", "-1", "withscores"};
  } else if (type.text == "list") {
    image.type = KeyStateType::kList;
    argv = {"lrange", key, "0", "-1"};
  } else {
    return unexpected("TYPE", type);
  }
  CAIRN_ASSIGN_OR_RETURN(const RespValue value, call(std::move(argv)));
  if (value.is_error()) return unexpected("reading " + key, value);
  const std::vector<RespValue>& elements = value.elements;
  switch (image.type) {
    case KeyStateType::kString:
      image.string_value = value.text;
      break;
    case KeyStateType::kHash:
      for (size_t i = 0; i + 1 < elements.size(); i += 2) {
        image.hash_fields.emplace_back(elements[i].text, elements[i + 1].text);
      }
      std::sort(image.hash_fields.begin(), image.hash_fields.end());
      break;
    case KeyStateType::kSet:
      for (const RespValue& member : elements) image.set_members.push_back(member.text);
      std::sort(image.set_members.begin(), image.set_members.end());
      break;
    case KeyStateType::kSortedSet:
      for (size_t i = 0; i + 1 < elements.size(); i += 2) {
        image.sorted_set_members.emplace_back(elements[i].text,
                                              std::strtod(elements[i + 1].text.c_str(), nullptr));
      }
      std::sort(image.sorted_set_members.begin(), image.sorted_set_members.end());
      break;
    case KeyStateType::kList:
      for (const RespValue& element : elements) image.list_elements.push_back(element.text);
      break;
    case KeyStateType::kNone:
      break;
  }
  CAIRN_ASSIGN_OR_RETURN(const RespValue expiry, call({"pexpiretime", key}));
  if (expiry.kind != RespKind::kInteger) return unexpected("PEXPIRETIME", expiry);
  image.expires_at_unix_ms = expiry.integer > 0 ? expiry.integer : 0;
  return image;
}

ClusterScratch::Run::Run(ClusterScratch* scratch) : scratch_(scratch), lock_(scratch->mutex_) {}

ClusterScratch::Run ClusterScratch::begin() { return Run(this); }

ClusterScratch::Run::~Run() {
  if (!lock_.owns_lock() || keys_.empty()) return;  // moved from, or nothing loaded
  // Empty again, whatever happened.
  std::vector<std::string> del = {"del"};
  del.insert(del.end(), keys_.begin(), keys_.end());
  (void)scratch_->call(std::move(del));
}

Status ClusterScratch::Run::load(std::span<const std::string> keys,
                                 std::span<const KeyImage> images) {
  CAIRN_ASSERT(keys.size() == images.size() && keys_.empty());
  keys_.assign(keys.begin(), keys.end());
  for (size_t i = 0; i < keys.size(); i++) {
    CAIRN_RETURN_IF_ERROR(scratch_->load(keys[i], images[i]));
  }
  return Status::ok();
}

void ClusterScratch::Run::execute(const CommandEntry& entry, std::span<const std::string_view> argv,
                                  ReplyWriter& reply) {
  Client& client = *scratch_->client_;
  client.set_resp(reply.version());
  CommandContext context{
      *scratch_->server_, client, argv, reply, nullptr, nullptr, false, false, false, {}};
  {
    std::shared_lock execution(scratch_->server_->execution_mutex());
    entry.spec->handler(context);
  }
  client.set_resp(RespVersion::kResp2);
  // Values stay inline in the scratch (blobs off): no reply streams.
  CAIRN_ASSERT(context.reply_body == nullptr && !context.block.requested);
}

Result<std::vector<KeyImage>> ClusterScratch::Run::read_back() {
  std::vector<KeyImage> images;
  for (const std::string& key : keys_) {
    CAIRN_ASSIGN_OR_RETURN(KeyImage image, scratch_->read_back(key));
    images.push_back(std::move(image));
  }
  return images;
}

}  // namespace cairn
