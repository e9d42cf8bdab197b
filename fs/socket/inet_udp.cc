// SOCK_DGRAM sockets of AF_INET/AF_INET6: a file over a netstack UDP
// endpoint (netstack/udp.h).
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>

#include <cstring>

#include "fs/socket/inet.h"
#include "fs/socket/inet_socket.h"
#include "netstack/udp.h"
#include "sentry/kernel/task.h"

namespace sentry::vfs {
namespace {

using netstack::FullAddress;
using netstack::UdpEndpoint;

constexpr int kMaxBuf = 4 << 20;
constexpr int kMinBuf = 2304;  // SOCK_MIN_RCVBUF

class UdpSocket : public InetSocket {
 public:
  UdpSocket(int family, uint32_t uid, uint32_t gid, std::shared_ptr<UdpEndpoint> ep)
      : InetSocket(family, SOCK_DGRAM, IPPROTO_UDP, uid, gid), ep_(std::move(ep)) {
    Watch(ep_.get());
  }
  ~UdpSocket() override {
    ep_->SetNotify(nullptr);
    ep_->Close();
  }

  Errno Bind(Task* t, const SockAddr& a) override {
    FullAddress addr = TRY_ASSIGN(FromSockAddr(t, a, AddrUse::kBind));
    if (family_ == AF_INET6 && addr.addr.is_v4() && ep_->V6Only()) return EINVAL;
    return ep_->Bind(addr);
  }
  Errno Listen(Task*, int) override { return EOPNOTSUPP; }
  ErrorOr<std::shared_ptr<FileDescription>> Accept(Task*, uint32_t, SockAddr*) override {
    return Err(EOPNOTSUPP);
  }

  Errno Connect(Task* t, const SockAddr& a) override {
    if (a.len >= sizeof(sa_family_t) && a.family() == AF_UNSPEC) return ep_->Connect(nullptr);
    FullAddress addr = TRY_ASSIGN(FromSockAddr(t, a, AddrUse::kConnect));
    if (family_ == AF_INET6 && addr.addr.is_v4() && ep_->V6Only()) return ENETUNREACH;
    addr = AnyToLoopback(addr);
    return ep_->Connect(&addr);
  }

  Errno Shutdown(int how) override { return ep_->Shutdown(how); }

  SysRet SendMsg(Task* t, IOSequence& src, int flags, const SockAddr* to,
                 ControlMessages* ctl) override {
    if (flags & MSG_OOB) return SysRet::Err(EOPNOTSUPP);
    FullAddress dst;
    const FullAddress* dstp = nullptr;
    if (to != nullptr) {
      dst = TRY_ASSIGN(FromSockAddr(t, *to, AddrUse::kSendTo));
      if (family_ == AF_INET6 && dst.addr.is_v4() && ep_->V6Only()) {
        return SysRet::Err(ENETUNREACH);
      }
      dst = AnyToLoopback(dst);
      dstp = &dst;
    }
    int64_t r = ep_->SendTo(dstp, src.remaining(), FillFromIO(src));
    return r < 0 ? SysRet::Err(int(-r)) : SysRet(r);
  }

  SysRet RecvMsg(Task* t, IOSequence& dst, int flags, SockAddr* from, ControlMessages* ctl,
                 int* msg_flags) override {
    if (flags & MSG_OOB) return SysRet::Err(EOPNOTSUPP);
    FullAddress src;
    size_t full = 0;
    int64_t r = ep_->Recv(dst.remaining(), DrainToIO(dst, false), flags & MSG_PEEK, &src, &full);
    if (r < 0) return SysRet::Err(int(-r));
    if (from) *from = ToSockAddr(src);
    if (full > size_t(r) && msg_flags) *msg_flags |= MSG_TRUNC;
    // MSG_TRUNC asks for the datagram's real length (udp_recvmsg).
    return (flags & MSG_TRUNC) ? SysRet(int64_t(full)) : SysRet(r);
  }

  ErrorOr<SockAddr> SockName() override { return ToSockAddr(ep_->LocalAddress()); }
  ErrorOr<SockAddr> PeerName() override {
    FullAddress p;
    if (int e = ep_->RemoteAddress(&p)) return Err(e);
    return ToSockAddr(p);
  }

  uint32_t Readiness(uint32_t mask) override {
    return ep_->Readiness() & (mask | POLLHUP | POLLERR);
  }

  SysRet Ioctl(Task* t, uint32_t cmd, uint64_t arg) override {
    int v;
    switch (cmd) {
      case FIONREAD:  // the size of the next datagram, as udp_ioctl
        v = int(ep_->NextDatagramSize());
        break;
      case TIOCOUTQ:  // datagrams leave at once
        v = 0;
        break;
      default:
        return InetSocket::Ioctl(t, cmd, arg);
    }
    if (t == nullptr) return SysRet::Err(EFAULT);
    TRY(t->CopyOut(UserPtr<int>(arg), v));
    return 0;
  }

  ErrorOr<std::vector<uint8_t>> GetSockOpt(Task* t, int level, int name, uint32_t len) override {
    if (level == SOL_SOCKET) {
      switch (name) {
        case SO_REUSEADDR:
          return IntOpt(ep_->ReuseAddr());
        case SO_REUSEPORT:
          return IntOpt(ep_->ReusePort());
        case SO_RCVBUF:
          return IntOpt(int(ep_->RcvBuf()));
        case SO_SNDBUF:
          return IntOpt(sndbuf_.load());
        case SO_ERROR:
          return IntOpt(ep_->TakeError());
        case SO_ACCEPTCONN:
          return IntOpt(0);
        default:
          return GetStoredOption(name);
      }
    }
    if (level == IPPROTO_UDP) return Err(ENOPROTOOPT);  // UDP_CORK, GSO: not implemented
    return GetIpOption(level, name, ep_->Tos(), ep_->V6Only());
  }

  Errno SetSockOpt(Task* t, int level, int name, const std::vector<uint8_t>& val) override {
    if (level == SOL_SOCKET) {
      switch (name) {
        case SO_REUSEADDR:
          ep_->SetReuseAddr(TRY_ASSIGN(OptionInt(val)) != 0);
          return SetStoredOption(name, val);
        case SO_REUSEPORT:
          ep_->SetReusePort(TRY_ASSIGN(OptionInt(val)) != 0);
          return SetStoredOption(name, val);
        case SO_RCVBUF:
        case SO_SNDBUF: {
          int v = TRY_ASSIGN(OptionInt(val));
          int bytes = std::clamp(v, kMinBuf / 2, kMaxBuf / 2) * 2;  // doubled, as Linux
          if (name == SO_RCVBUF) {
            ep_->SetRcvBuf(size_t(bytes));
          } else {
            sndbuf_ = bytes;  // datagrams are never queued for sending
          }
          return 0;
        }
        default:
          return SetStoredOption(name, val);
      }
    }
    if (level == IPPROTO_UDP) return ENOPROTOOPT;
    return SetIpOption(
        level, name, val, [this](uint8_t tos) { ep_->SetTos(tos); },
        [this](bool on) { return ep_->SetV6Only(on); });
  }

 private:
  const std::shared_ptr<UdpEndpoint> ep_;
  std::atomic<int> sndbuf_{212992};  // net.core.wmem_default
};

}  // namespace

std::shared_ptr<FileDescription> NewUdpSocket(int family, int protocol, uint32_t flags,
                                              uint32_t uid, uint32_t gid) {
  auto ep = SandboxStack().NewUdp(family == AF_INET6);
  auto f = std::make_shared<UdpSocket>(family, uid, gid, std::move(ep));
  f->Init(VirtualDentry(), O_RDWR | (flags & O_NONBLOCK));
  return f;
}

}  // namespace sentry::vfs
