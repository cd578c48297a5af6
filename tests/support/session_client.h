// Drives a Server's sessions as a connection would, for tests of the command side: a session
// opened with a control that does nothing, commands run one at a time into a reply buffer.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/server.h"

namespace cairn::test {

using Command = std::vector<std::string>;

using NullControl = NullConnectionControl;

inline std::unique_ptr<Session> connect(Server& server, uint64_t id) {
  ConnectionInfo info;
  info.id = id;
  info.peer = "127.0.0.1:" + std::to_string(40000 + id);
  info.local = "127.0.0.1:7379";
  return server.open_session(info, std::make_shared<NullControl>());
}

// Runs `command`, appending its reply to `out`; returns the reply.
inline std::string execute(Session& session, const Command& command, std::string& out) {
  const std::vector<std::string_view> argv(command.begin(), command.end());
  const size_t start = out.size();
  Session::Outcome outcome = session.execute(argv, out);
  EXPECT_EQ(outcome.body, nullptr);
  return out.substr(start);
}

inline std::string execute(Session& session, const Command& command) {
  std::string out;
  return execute(session, command, out);
}

}  // namespace cairn::test
