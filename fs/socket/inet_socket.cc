#include "fs/socket/inet_socket.h"

#include <netinet/in.h>
#include <poll.h>
#include <signal.h>

#include <cstring>

#include "fs/socket/inet.h"
#include "netstack/clock.h"
#include "netstack/link.h"
#include "netstack/timer_thread.h"
#include "sentry/kernel/task.h"

namespace sentry::vfs {
namespace {

constexpr int kCapNetBindService = 10;
constexpr int kCapNetRaw = 13;
constexpr int kSockMax = 11;  // SOCK_MAX: types at or above it are EINVAL
constexpr uint32_t kAllEvents = POLLIN | POLLPRI | POLLOUT | POLLERR | POLLHUP | POLLRDNORM |
                                POLLWRNORM | POLLRDBAND | POLLWRBAND | POLLRDHUP;

struct SandboxNet {
  netstack::MonotonicClock clock;
  netstack::LoopbackLink loopback;
  netstack::Stack stack{&clock, /*seed=*/uint64_t(clock.NowNs())};
  std::unique_ptr<netstack::TimerThread> timers;

  SandboxNet() {
    stack.AddNic(&loopback, {{netstack::Address::V4Loopback(), 8},
                             {netstack::Address::V6Loopback(), 128}});
    // The timer thread must never take a host signal meant for a task's
    // thread: it starts with every signal blocked (it inherits the mask).
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    timers = std::make_unique<netstack::TimerThread>(&stack);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }
};

}  // namespace

netstack::Stack& SandboxStack() {
  static SandboxNet* net = new SandboxNet();  // lives as long as the Sentry
  return net->stack;
}

ErrorOr<std::shared_ptr<FileDescription>> NewInetSocket(Task* t, int family, int type,
                                                         int protocol, uint32_t flags) {
  if (family != AF_INET && family != AF_INET6) return Err(EAFNOSUPPORT);
  if (type < 0 || type >= kSockMax) return Err(EINVAL);
  if (protocol < 0 || protocol >= IPPROTO_MAX) return Err(EINVAL);
  Credentials c = t->creds();
  // inet_create's table: which protocols each type carries.
  switch (type) {
    case SOCK_STREAM:
      if (protocol != 0 && protocol != IPPROTO_TCP) return Err(EPROTONOSUPPORT);
      return NewTcpSocket(family, IPPROTO_TCP, flags, c.euid, c.egid);
    case SOCK_DGRAM:
      if (protocol == IPPROTO_ICMP || protocol == IPPROTO_ICMPV6) {
        return Err(EACCES);  // ping sockets: net.ipv4.ping_group_range is "1 0"
      }
      if (protocol != 0 && protocol != IPPROTO_UDP) return Err(EPROTONOSUPPORT);
      return NewUdpSocket(family, IPPROTO_UDP, flags, c.euid, c.egid);
    case SOCK_RAW:
      if (!c.HasCap(kCapNetRaw)) return Err(EPERM);
      return Err(ESOCKTNOSUPPORT);  // raw IP is not implemented
    default:
      return Err(ESOCKTNOSUPPORT);
  }
}

InetSocket::InetSocket(int family, int type, int protocol, uint32_t uid, uint32_t gid)
    : SocketBase(uid, gid), family_(family), type_(type), protocol_(protocol) {}

void InetSocket::Watch(netstack::Endpoint* ep) {
  std::weak_ptr<WaitQueue> wq = wq_;
  ep->SetNotify([wq] {
    if (auto q = wq.lock()) q->Notify(kAllEvents);
  });
}

netstack::FullAddress InetSocket::AnyToLoopback(netstack::FullAddress a) {
  if (a.addr.is_any()) {
    a.addr = a.addr.is_v4() ? netstack::Address::V4Loopback() : netstack::Address::V6Loopback();
  }
  return a;
}

ErrorOr<netstack::FullAddress> InetSocket::FromSockAddr(Task* t, const SockAddr& a,
                                                        AddrUse use) const {
  netstack::FullAddress out;
  if (family_ == AF_INET) {
    if (a.len < sizeof(sockaddr_in)) return Err(EINVAL);
    sockaddr_in sin;
    std::memcpy(&sin, &a.ss, sizeof(sin));
    if (sin.sin_family != AF_INET) {
      // inet_bind and udp_sendmsg take AF_UNSPEC (bind: only with
      // INADDR_ANY) for old programs.
      bool compat = sin.sin_family == AF_UNSPEC &&
                    (use == AddrUse::kSendTo ||
                     (use == AddrUse::kBind && sin.sin_addr.s_addr == htonl(INADDR_ANY)));
      if (!compat) return Err(EAFNOSUPPORT);
    }
    out.addr = netstack::Address::V4(ntohl(sin.sin_addr.s_addr));
    out.port = ntohs(sin.sin_port);
  } else {
    if (a.len < 24) return Err(EINVAL);  // SIN6_LEN_RFC2133: without sin6_scope_id
    sockaddr_in6 sin6{};
    std::memcpy(&sin6, &a.ss, std::min<size_t>(a.len, sizeof(sin6)));
    if (sin6.sin6_family != AF_INET6) return Err(EAFNOSUPPORT);
    out.addr = netstack::Address::V6Bytes(sin6.sin6_addr.s6_addr);
    out.port = ntohs(sin6.sin6_port);
  }
  if (use == AddrUse::kBind && out.port != 0 && out.port < 1024 &&
      !(t != nullptr && t->creds().HasCap(kCapNetBindService))) {
    return Err(EACCES);
  }
  return out;
}

SockAddr InetSocket::ToSockAddr(const netstack::FullAddress& a) const {
  SockAddr s;
  if (family_ == AF_INET) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(a.port);
    sin.sin_addr.s_addr = htonl(a.addr.is_v4() ? a.addr.v4() : 0);
    std::memcpy(&s.ss, &sin, sizeof(sin));
    s.len = sizeof(sin);
  } else {
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(a.port);
    // IPv4 peers of a dual-stack socket show as ::ffff:a.b.c.d, and the
    // IPv4 wildcard as :: (what Linux reports for an unbound socket).
    netstack::Address addr = a.addr == netstack::Address::V4Any() ? netstack::Address() : a.addr;
    std::memcpy(sin6.sin6_addr.s6_addr, addr.bytes(), 16);
    std::memcpy(&s.ss, &sin6, sizeof(sin6));
    s.len = sizeof(sin6);
  }
  return s;
}

std::vector<uint8_t> IntOpt(int v) {
  std::vector<uint8_t> b(sizeof(int));
  std::memcpy(b.data(), &v, sizeof(v));
  return b;
}

ErrorOr<std::vector<uint8_t>> InetSocket::GetIpOption(int level, int name, uint8_t tos,
                                                      bool v6only) {
  if (level == IPPROTO_IP) {
    switch (name) {
      case IP_TOS:
        return IntOpt(tos);
      case IP_TTL:
        return IntOpt(ttl_.load());
      default:
        return Err(ENOPROTOOPT);
    }
  }
  if (level == IPPROTO_IPV6 && family_ == AF_INET6) {
    switch (name) {
      case IPV6_V6ONLY:
        return IntOpt(v6only ? 1 : 0);
      case IPV6_TCLASS:
        return IntOpt(tos);
      case IPV6_UNICAST_HOPS:
        return IntOpt(ttl_.load());
      default:
        return Err(ENOPROTOOPT);
    }
  }
  return Err(ENOPROTOOPT);
}

Errno InetSocket::SetIpOption(int level, int name, const std::vector<uint8_t>& val,
                              const std::function<void(uint8_t)>& set_tos,
                              const std::function<int(bool)>& set_v6only) {
  if (level == IPPROTO_IP) {
    switch (name) {
      case IP_TOS: {
        // Linux takes a byte or an int.
        int v = val.size() >= sizeof(int) ? TRY_ASSIGN(OptionInt(val)) : val.empty() ? -1 : val[0];
        if (v < 0) return EINVAL;
        set_tos(uint8_t(v));
        return 0;
      }
      case IP_TTL: {
        int v = TRY_ASSIGN(OptionInt(val));
        if (v == -1) v = 64;
        if (v < 1 || v > 255) return EINVAL;
        ttl_ = v;
        return 0;
      }
      default:
        return ENOPROTOOPT;
    }
  }
  if (level == IPPROTO_IPV6 && family_ == AF_INET6) {
    switch (name) {
      case IPV6_V6ONLY: {
        int v = TRY_ASSIGN(OptionInt(val));
        return set_v6only(v != 0);
      }
      case IPV6_TCLASS: {
        int v = TRY_ASSIGN(OptionInt(val));
        if (v < -1 || v > 255) return EINVAL;
        set_tos(uint8_t(v < 0 ? 0 : v));
        return 0;
      }
      case IPV6_UNICAST_HOPS: {
        int v = TRY_ASSIGN(OptionInt(val));
        if (v < -1 || v > 255) return EINVAL;
        ttl_ = v == -1 ? 64 : v;
        return 0;
      }
      default:
        return ENOPROTOOPT;
    }
  }
  return ENOPROTOOPT;
}

netstack::FillFn FillFromIO(IOSequence& io) {
  return [&io](uint8_t* dst, size_t n) -> int64_t {
    ErrorOr<size_t> r = io.CopyIn(dst, n);
    return r.ok() ? int64_t(*r) : -int64_t(r.error());
  };
}

netstack::DrainFn DrainToIO(IOSequence& io, bool discard) {
  return [&io, discard](const uint8_t* src, size_t n) -> int64_t {
    if (discard) return int64_t(n);  // MSG_TRUNC on a stream: drop the bytes
    ErrorOr<size_t> r = io.CopyOut(src, n);
    return r.ok() ? int64_t(*r) : -int64_t(r.error());
  };
}

}  // namespace sentry::vfs
