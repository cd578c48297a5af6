// INFO: the text report of the server's state, section by section, in Redis's format
// ("# Section\r\nfield:value\r\n", sections separated by a blank line). Sections: server,
// clients, memory, persistence, stats, replication, cpu, modules, errorstats, cluster,
// keyspace, commandstats; "default", "all" and "everything" as in Redis.
//
// used_memory is the process's resident set size (Cairn's memory is the engine's caches and
// buffers plus the process; there is no allocator accounting to report instead).
//
// Thread-safety: reads the server's thread-safe counters; callable from any loop thread.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace cairn {

class Server;

// The report of the requested sections (no argument: "default"); unknown names are ignored.
std::string build_info(Server& server, std::span<const std::string_view> sections);

}  // namespace cairn
