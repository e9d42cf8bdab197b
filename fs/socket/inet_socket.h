// What TCP and UDP socket files share (fs/socket/inet_tcp.cc,
// fs/socket/inet_udp.cc): sockaddr_in/sockaddr_in6 conversion with
// Linux's checks, readiness through the endpoint's notification, and the
// options of the IP levels. Internal to fs/socket.
//
// Lock order: netstack's Stack::mu_ (inside every endpoint call) >
// the task's memory manager (copies run under it) ; the WaitQueue is
// notified after the stack released its lock.
#ifndef FS_SOCKET_INET_SOCKET_H_
#define FS_SOCKET_INET_SOCKET_H_

#include <atomic>
#include <functional>
#include <memory>

#include "fs/socket/socket.h"
#include "netstack/address.h"
#include "netstack/byte_queue.h"
#include "netstack/stack.h"

namespace sentry::vfs {

class InetSocket : public SocketBase {
 public:
  int Family() const override { return family_; }
  int Type() const override { return type_; }
  int Protocol() const override { return protocol_; }

  void EventRegister(Waiter* w, uint32_t mask) override { wq_->Register(w, mask); }
  void EventUnregister(Waiter* w) override { wq_->Unregister(w); }

 protected:
  InetSocket(int family, int type, int protocol, uint32_t uid, uint32_t gid);

  // Subclasses call this once their endpoint exists.
  void Watch(netstack::Endpoint* ep);

  // A sockaddr from the program as a netstack address. `op` decides the
  // errors: bind refuses a family mismatch with EAFNOSUPPORT except
  // AF_UNSPEC with INADDR_ANY on AF_INET (Linux's compatibility rule).
  enum class AddrUse { kBind, kConnect, kSendTo };
  ErrorOr<netstack::FullAddress> FromSockAddr(Task* t, const SockAddr& a, AddrUse use) const;
  SockAddr ToSockAddr(const netstack::FullAddress& a) const;
  // Connecting to the wildcard means this host (Linux: the loopback).
  static netstack::FullAddress AnyToLoopback(netstack::FullAddress a);

  // IPPROTO_IP / IPPROTO_IPV6 options; ENOPROTOOPT for others.
  ErrorOr<std::vector<uint8_t>> GetIpOption(int level, int name, uint8_t tos, bool v6only);
  // Sets IP options; `set_tos`/`set_v6only` apply them to the endpoint.
  Errno SetIpOption(int level, int name, const std::vector<uint8_t>& val,
                    const std::function<void(uint8_t)>& set_tos,
                    const std::function<int(bool)>& set_v6only);

  const int family_, type_, protocol_;
  // The WaitQueue outlives the file for notifications already on their way.
  std::shared_ptr<WaitQueue> wq_ = std::make_shared<WaitQueue>();

 private:
  std::atomic<int> ttl_{64};  // IP_TTL / IPV6_UNICAST_HOPS, reported back
};

// Copy functions between an IOSequence and the stack (under its lock).
netstack::FillFn FillFromIO(IOSequence& io);
netstack::DrainFn DrainToIO(IOSequence& io, bool discard);

// An int option value as bytes.
std::vector<uint8_t> IntOpt(int v);

// The TCP and UDP socket files.
std::shared_ptr<FileDescription> NewTcpSocket(int family, int protocol, uint32_t flags,
                                              uint32_t uid, uint32_t gid);
std::shared_ptr<FileDescription> NewUdpSocket(int family, int protocol, uint32_t flags,
                                              uint32_t uid, uint32_t gid);

}  // namespace sentry::vfs

#endif  // FS_SOCKET_INET_SOCKET_H_
