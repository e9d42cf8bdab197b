// IPv4 and IPv6 sockets (ip(7), ipv6(7), tcp(7), udp(7)) over the
// Sentry's own network stack (netstack/): SOCK_STREAM (TCP) and
// SOCK_DGRAM (UDP). One stack serves the whole sandbox; it has the
// loopback interface only (127.0.0.1/8 and ::1), so everything else is
// unreachable (ENETUNREACH).
#ifndef FS_SOCKET_INET_H_
#define FS_SOCKET_INET_H_

#include <memory>

#include "fs/vfs/file.h"

namespace netstack {
class Stack;
}

namespace sentry::vfs {

// socket(family, type, protocol) for AF_INET/AF_INET6, with Linux's
// errnos: EINVAL (type out of range, negative protocol), ESOCKTNOSUPPORT
// (SOCK_SEQPACKET...), EPROTONOSUPPORT (a protocol the type does not
// carry), EPERM (SOCK_RAW without CAP_NET_RAW), EACCES (ICMP datagram
// "ping" sockets, disabled by Linux's default ping_group_range).
// `type` is the base type (no SOCK_NONBLOCK/SOCK_CLOEXEC); `flags` holds
// O_NONBLOCK.
ErrorOr<std::shared_ptr<FileDescription>> NewInetSocket(Task* t, int family, int type,
                                                         int protocol, uint32_t flags);

// The sandbox's network stack, created (with its timer thread) on first use.
netstack::Stack& SandboxStack();

}  // namespace sentry::vfs

#endif  // FS_SOCKET_INET_H_
