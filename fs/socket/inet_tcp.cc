// SOCK_STREAM sockets of AF_INET/AF_INET6: a file over a netstack TCP
// endpoint (netstack/tcp.h). The endpoint never blocks; the syscall layer
// waits on readiness (fs/socket/socket.h).
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>

#include <cstring>

#include "fs/socket/inet.h"
#include "fs/socket/inet_socket.h"
#include "netstack/tcp.h"
#include "sentry/kernel/task.h"

namespace sentry::vfs {
namespace {

using netstack::FullAddress;
using netstack::TcpEndpoint;
using netstack::TcpState;

// Largest SO_SNDBUF/SO_RCVBUF (Linux's default wmem_max/rmem_max are
// about 208 KiB; this stack allows more so that loopback runs fast).
constexpr int kMaxBuf = 4 << 20;
constexpr int kMinBuf = 4608;  // SOCK_MIN_RCVBUF, rounded as Linux reports it

class TcpSocket : public InetSocket {
 public:
  TcpSocket(int family, uint32_t uid, uint32_t gid, std::shared_ptr<TcpEndpoint> ep)
      : InetSocket(family, SOCK_STREAM, IPPROTO_TCP, uid, gid), ep_(std::move(ep)) {
    Watch(ep_.get());
  }
  ~TcpSocket() override {
    ep_->SetNotify(nullptr);
    ep_->Close();
  }

  Errno Bind(Task* t, const SockAddr& a) override {
    FullAddress addr = TRY_ASSIGN(FromSockAddr(t, a, AddrUse::kBind));
    if (family_ == AF_INET6 && addr.addr.is_v4() && ep_->V6Only()) return EINVAL;
    return ep_->Bind(addr);
  }

  Errno Listen(Task* t, int backlog) override { return ep_->Listen(backlog); }

  ErrorOr<std::shared_ptr<FileDescription>> Accept(Task* t, uint32_t flags,
                                                   SockAddr* peer) override {
    FullAddress from;
    int err = 0;
    std::shared_ptr<TcpEndpoint> c = ep_->Accept(&from, &err);
    if (c == nullptr) return Err(err);
    if (peer) *peer = ToSockAddr(from);
    Attr me = TRY_ASSIGN(Stat());
    auto f = std::make_shared<TcpSocket>(family_, me.uid, me.gid, std::move(c));
    f->Init(VirtualDentry(), O_RDWR | (flags & O_NONBLOCK));
    return std::shared_ptr<FileDescription>(std::move(f));
  }

  Errno Connect(Task* t, const SockAddr& a) override {
    if (a.len >= sizeof(sa_family_t) && a.family() == AF_UNSPEC) {
      // tcp_disconnect: only an idle socket is simple to "disconnect".
      return ep_->state() == TcpState::kClosed ? 0 : EOPNOTSUPP;
    }
    FullAddress addr = TRY_ASSIGN(FromSockAddr(t, a, AddrUse::kConnect));
    if (family_ == AF_INET6 && addr.addr.is_v4() && ep_->V6Only()) return ENETUNREACH;
    return ep_->Connect(AnyToLoopback(addr));
  }

  Errno FinishConnect() override { return ep_->FinishConnect(); }

  Errno Shutdown(int how) override { return ep_->Shutdown(how); }

  SysRet SendMsg(Task* t, IOSequence& src, int flags, const SockAddr* to,
                 ControlMessages* ctl) override {
    if (flags & MSG_OOB) return SysRet::Err(EOPNOTSUPP);  // urgent data is not implemented
    // A stream socket ignores the address (tcp_sendmsg without Fast Open).
    int64_t r = ep_->Send(src.remaining(), FillFromIO(src), flags & MSG_MORE);
    return r < 0 ? SysRet::Err(int(-r)) : SysRet(r);
  }

  SysRet RecvMsg(Task* t, IOSequence& dst, int flags, SockAddr* from, ControlMessages* ctl,
                 int* msg_flags) override {
    if (flags & MSG_OOB) return SysRet::Err(EINVAL);  // no urgent data is ever queued
    if (from) from->len = 0;  // TCP reports no source address
    if (dst.remaining() == 0) {
      // A zero-length read still reports a pending error or the state.
      int64_t r = ep_->Recv(0, DrainToIO(dst, false), true);
      return r < 0 && r != -EAGAIN ? SysRet::Err(int(-r)) : SysRet(0);
    }
    int64_t r = ep_->Recv(dst.remaining(), DrainToIO(dst, flags & MSG_TRUNC), flags & MSG_PEEK);
    return r < 0 ? SysRet::Err(int(-r)) : SysRet(r);
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
      case FIONREAD:  // SIOCINQ
        if (ep_->state() == TcpState::kListen) return SysRet::Err(EINVAL);
        v = int(ep_->ReadableBytes());
        break;
      case TIOCOUTQ:  // SIOCOUTQ: bytes not yet acknowledged
        if (ep_->state() == TcpState::kListen) return SysRet::Err(EINVAL);
        v = int(ep_->UnsentBytes());
        break;
      case SIOCATMARK:
        v = 0;  // no urgent data, ever
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
        case SO_KEEPALIVE:
          return IntOpt(ep_->Keepalive());
        case SO_RCVBUF:
          return IntOpt(int(ep_->RcvBuf()));
        case SO_SNDBUF:
          return IntOpt(int(ep_->SndBuf()));
        case SO_ERROR:
          return IntOpt(ep_->TakeError());
        case SO_ACCEPTCONN:
          return IntOpt(ep_->state() == TcpState::kListen);
        default:
          return GetStoredOption(name);
      }
    }
    if (level == IPPROTO_TCP) return GetTcpOption(name, len);
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
        case SO_KEEPALIVE:
          ep_->SetKeepalive(TRY_ASSIGN(OptionInt(val)) != 0);
          return SetStoredOption(name, val);
        case SO_RCVBUF:
        case SO_SNDBUF: {
          // Linux doubles the request (room for its bookkeeping) and
          // reports the doubled value.
          int v = TRY_ASSIGN(OptionInt(val));
          size_t bytes = size_t(std::clamp(v, kMinBuf / 2, kMaxBuf / 2)) * 2;
          name == SO_RCVBUF ? ep_->SetRcvBuf(bytes) : ep_->SetSndBuf(bytes);
          return 0;
        }
        case SO_LINGER: {
          struct linger l;
          if (val.size() < sizeof(l)) return EINVAL;
          std::memcpy(&l, val.data(), sizeof(l));
          ep_->SetLinger(l.l_onoff != 0, l.l_linger);
          return SetStoredOption(name, val);
        }
        default:
          return SetStoredOption(name, val);
      }
    }
    if (level == IPPROTO_TCP) return SetTcpOption(name, val);
    return SetIpOption(
        level, name, val, [this](uint8_t tos) { ep_->SetTos(tos); },
        [this](bool on) { return ep_->SetV6Only(on); });
  }

 private:
  ErrorOr<std::vector<uint8_t>> GetTcpOption(int name, uint32_t len) {
    switch (name) {
      case TCP_NODELAY:
        return IntOpt(ep_->NoDelay());
      case TCP_CORK:
        return IntOpt(ep_->Cork());
      case TCP_MAXSEG:
        return IntOpt(ep_->MaxSeg());
      case TCP_KEEPIDLE:
        return IntOpt(keepidle_);
      case TCP_KEEPINTVL:
        return IntOpt(keepintvl_);
      case TCP_KEEPCNT:
        return IntOpt(keepcnt_);
      case TCP_QUICKACK:
        return IntOpt(1);
      case TCP_USER_TIMEOUT:
        return IntOpt(user_timeout_);
      case TCP_DEFER_ACCEPT:
        return IntOpt(defer_accept_);
      case TCP_CONGESTION: {
        std::string name = ep_->Congestion();
        std::vector<uint8_t> b(16, 0);  // TCP_CA_NAME_MAX
        std::memcpy(b.data(), name.data(), name.size());
        return b;
      }
      case TCP_INFO:
        return TcpInfoBytes();
      default:
        return Err(ENOPROTOOPT);
    }
  }

  Errno SetTcpOption(int name, const std::vector<uint8_t>& val) {
    if (name == TCP_CONGESTION) {
      std::string want(val.begin(), val.end());
      want = want.substr(0, want.find('\0'));
      return ep_->SetCongestion(want) ? 0 : ENOENT;  // "reno" (NewReno) or "cubic"
    }
    int v = TRY_ASSIGN(OptionInt(val));
    switch (name) {
      case TCP_NODELAY:
        ep_->SetNoDelay(v != 0);
        return 0;
      case TCP_CORK:
        ep_->SetCork(v != 0);
        return 0;
      case TCP_MAXSEG:
        if (v != 0 && (v < 88 || v > 65535)) return EINVAL;  // TCP_MIN_MSS, MAX_TCP_WINDOW
        ep_->SetMaxSeg(v);
        return 0;
      case TCP_KEEPIDLE:
      case TCP_KEEPINTVL:
        if (v < 1 || v > 32767) return EINVAL;  // MAX_TCP_KEEPIDLE/KEEPINTVL
        (name == TCP_KEEPIDLE ? keepidle_ : keepintvl_).store(v);
        return 0;
      case TCP_KEEPCNT:
        if (v < 1 || v > 127) return EINVAL;  // MAX_TCP_KEEPCNT
        keepcnt_ = v;
        return 0;
      case TCP_QUICKACK:
        return 0;
      case TCP_USER_TIMEOUT:
        if (v < 0) return EINVAL;
        user_timeout_ = v;
        return 0;
      case TCP_DEFER_ACCEPT:
        defer_accept_ = std::max(v, 0);
        return 0;
      default:
        return ENOPROTOOPT;
    }
  }

  std::vector<uint8_t> TcpInfoBytes() {
    netstack::TcpInfoSnapshot s = ep_->Info();
    // netstack's states are in RFC order; Linux numbers them its own way.
    static constexpr uint8_t kLinuxState[] = {
        TCP_CLOSE,     TCP_LISTEN,    TCP_SYN_SENT,   TCP_SYN_RECV,
        TCP_ESTABLISHED, TCP_FIN_WAIT1, TCP_FIN_WAIT2, TCP_CLOSE_WAIT,
        TCP_CLOSING,   TCP_LAST_ACK,  TCP_TIME_WAIT};
    struct tcp_info i{};
    i.tcpi_state = kLinuxState[int(s.state)];
    i.tcpi_retransmits = uint8_t(s.retransmits);
    i.tcpi_snd_wscale = uint8_t(s.snd_wscale);
    i.tcpi_rcv_wscale = uint8_t(s.rcv_wscale);
    i.tcpi_rto = s.rto_us;
    i.tcpi_snd_mss = s.snd_mss;
    i.tcpi_rcv_mss = s.rcv_mss;
    i.tcpi_unacked = s.unacked;
    i.tcpi_rtt = s.rtt_us;
    i.tcpi_rttvar = s.rttvar_us;
    i.tcpi_snd_ssthresh = s.snd_ssthresh;
    i.tcpi_snd_cwnd = s.snd_cwnd;
    i.tcpi_advmss = s.rcv_mss;
    i.tcpi_rcv_space = s.rcv_space;
    i.tcpi_total_retrans = s.total_retrans;
    std::vector<uint8_t> b(sizeof(i));
    std::memcpy(b.data(), &i, sizeof(i));
    return b;
  }

  const std::shared_ptr<TcpEndpoint> ep_;
  // Keepalive probing is not implemented; the settings are kept and
  // reported back as Linux would (its defaults).
  std::atomic<int> keepidle_{7200}, keepintvl_{75}, keepcnt_{9};
  std::atomic<int> user_timeout_{0}, defer_accept_{0};
};

}  // namespace

std::shared_ptr<FileDescription> NewTcpSocket(int family, int protocol, uint32_t flags,
                                              uint32_t uid, uint32_t gid) {
  auto ep = SandboxStack().NewTcp(family == AF_INET6);
  auto f = std::make_shared<TcpSocket>(family, uid, gid, std::move(ep));
  f->Init(VirtualDentry(), O_RDWR | (flags & O_NONBLOCK));
  return f;
}

}  // namespace sentry::vfs
