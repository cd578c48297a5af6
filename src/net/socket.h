// Socket helpers: the listening TCP socket, accepting non-blocking connections, and the
// "ip:port" text of an address. Thin wrappers over the POSIX calls that turn errno into Status.
//
// Thread-safety: free functions over file descriptors; no shared state.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "common/status.h"

namespace cairn {

// A non-blocking listening socket on bind:port (IPv4 or IPv6 literal) with SO_REUSEADDR.
// Busy "address already in use: 127.0.0.1:7379" when taken; InvalidArgument when `bind` is not
// an IP address.
Result<int> listen_tcp(const std::string& bind, uint16_t port, int backlog);

// Starts a non-blocking connection to ip:port (an IPv4 or IPv6 literal) with TCP_NODELAY and
// close-on-exec; the socket becomes writable when the connection is made or has failed, and
// connect_result() then says which. InvalidArgument when `ip` is not an IP address.
Result<int> connect_tcp(const std::string& ip, uint16_t port);
// The outcome of connect_tcp's connection, once its socket is writable.
Status connect_result(int fd);

// Accepts one connection as a non-blocking, close-on-exec socket with TCP_NODELAY. Returns -1
// with errno set when none is waiting (EAGAIN) or on error.
int accept_connection(int listen_fd);

// The port a socket is bound to (0 on error).
uint16_t local_port(int fd);

// "ip:port" of the peer and of the local end ("?:0" when unknown); IPv6 as Redis writes it,
// "::1:port".
std::string peer_address(int fd);
std::string local_address(int fd);

}  // namespace cairn
