#include "net/socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cairn {

namespace {

std::string format_address(const sockaddr_storage& address) {
  char text[INET6_ADDRSTRLEN] = "?";
  uint16_t port = 0;
  if (address.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&address);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
    port = ntohs(in->sin_port);
  } else if (address.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&address);
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
    port = ntohs(in6->sin6_port);
  }
  return std::string(text) + ":" + std::to_string(port);
}

// Fills *address with an IPv4 or IPv6 literal and a port; the address length, or 0 when `ip` is
// not an IP address.
socklen_t ip_address(const std::string& ip, uint16_t port, sockaddr_storage* address) {
  *address = sockaddr_storage{};
  auto* in = reinterpret_cast<sockaddr_in*>(address);
  auto* in6 = reinterpret_cast<sockaddr_in6*>(address);
  if (inet_pton(AF_INET, ip.c_str(), &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    return sizeof(sockaddr_in);
  }
  if (inet_pton(AF_INET6, ip.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    return sizeof(sockaddr_in6);
  }
  return 0;
}

}  // namespace

Result<int> listen_tcp(const std::string& bind, uint16_t port, int backlog) {
  sockaddr_storage address;
  const socklen_t length = ip_address(bind, port, &address);
  if (length == 0) {
    return Status::invalid_argument("bad bind address: '" + bind + "' is not an IP address");
  }
  const std::string where = bind + ":" + std::to_string(port);
  const int fd = ::socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::io_error("socket for " + where + ": " + std::strerror(errno));
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0) {
    const int error = errno;
    ::close(fd);
    if (error == EADDRINUSE) return Status::busy("address already in use: " + where);
    if (error == EADDRNOTAVAIL) {
      return Status::invalid_argument("address not available: " + where);
    }
    return Status::io_error("bind " + where + ": " + std::strerror(error));
  }
  if (::listen(fd, backlog) != 0) {
    const int error = errno;
    ::close(fd);
    if (error == EADDRINUSE) return Status::busy("address already in use: " + where);
    return Status::io_error("listen " + where + ": " + std::strerror(error));
  }
  return fd;
}

Result<int> connect_tcp(const std::string& ip, uint16_t port) {
  sockaddr_storage address;
  const socklen_t length = ip_address(ip, port, &address);
  if (length == 0) return Status::invalid_argument("'" + ip + "' is not an IP address");
  const std::string where = ip + ":" + std::to_string(port);
  const int fd = ::socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::io_error("socket for " + where + ": " + std::strerror(errno));
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), length) != 0 && errno != EINPROGRESS) {
    const int error = errno;
    ::close(fd);
    return Status::io_error("connect " + where + ": " + std::strerror(error));
  }
  return fd;
}

Status connect_result(int fd) {
  int error = 0;
  socklen_t length = sizeof(error);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
  if (error == 0) return Status::ok();
  return Status::io_error(std::string("connect: ") + std::strerror(error));
}

int accept_connection(int listen_fd) {
  const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) return -1;
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

uint16_t local_port(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return 0;
  if (address.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
  }
  if (address.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
  }
  return 0;
}

std::string peer_address(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return "?:0";
  return format_address(address);
}

std::string local_address(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return "?:0";
  return format_address(address);
}

}  // namespace cairn
