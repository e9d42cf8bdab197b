// The TCP operations sockets call (see tcp.h).
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "netstack/tcp.h"

namespace netstack {

const char* TcpStateName(TcpState s) {
  static const char* const kNames[] = {"CLOSED",     "LISTEN",     "SYN_SENT",   "SYN_RCVD",
                                       "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT",
                                       "CLOSING",    "LAST_ACK",   "TIME_WAIT"};
  return kNames[int(s)];
}

TcpEndpoint::TcpEndpoint(Stack* s, bool v6) : Endpoint(s, v6) {}

TcpEndpoint::~TcpEndpoint() {
  // Children die after mu_ is released: their destructors take it.
  std::deque<std::shared_ptr<TcpEndpoint>> queued;
  std::vector<std::shared_ptr<TcpEndpoint>> embryos;
  {
    absl::MutexLock l(&stack_->mu_);
    stack_->tcp_all_.erase(this);
    RemoveConnLocked();
    stack_->FreePortLocked(this);
    queued.swap(accept_queue_);
    embryos.swap(embryos_);
    for (auto& c : queued) c->listener_ = nullptr;
    for (auto& c : embryos) c->listener_ = nullptr;
  }
}

void TcpEndpoint::StopListeningLocked() {
  // Connections nobody accepted are reset, as on Linux.
  for (auto& c : accept_queue_) c->AbortLocked();
  for (auto& c : embryos_) c->listener_ = nullptr;
  for (auto& c : embryos_) c->AbortLocked();
  for (auto& c : accept_queue_) stack_->ReleaseLocked(std::move(c));
  for (auto& c : embryos_) stack_->ReleaseLocked(std::move(c));
  accept_queue_.clear();
  embryos_.clear();
  state_ = TcpState::kClosed;
  stack_->QueueNotifyLocked(this);
}

bool TcpEndpoint::AllowsShare(const Endpoint& other) const {
  // Linux's inet_csk_bind_conflict: SO_REUSEADDR on both sides, and the
  // one already there not listening.
  return reuse_addr_ && other.reuse_addr_ && state_ != TcpState::kListen;
}

void TcpEndpoint::AddConnLocked() {
  if (in_conns_) return;
  stack_->tcp_conns_[Stack::ConnKey{local_, remote_}] = this;
  in_conns_ = true;
}

void TcpEndpoint::RemoveConnLocked() {
  if (!in_conns_) return;
  stack_->tcp_conns_.erase(Stack::ConnKey{local_, remote_});
  in_conns_ = false;
}

bool TcpEndpoint::ConnectedLocked() const {
  switch (state_) {
    case TcpState::kEstablished:
    case TcpState::kFinWait1:
    case TcpState::kFinWait2:
    case TcpState::kCloseWait:
    case TcpState::kClosing:
    case TcpState::kLastAck:
    case TcpState::kTimeWait:
      return true;
    default:
      return false;
  }
}

void TcpEndpoint::InitSendLocked(uint32_t mtu) {
  uint32_t hdrs = uint32_t(IpHeaderLen(remote_.addr) + kTcpHeaderLen);
  mtu = std::min<uint32_t>(mtu, 65535);  // the IPv4 length field's limit (lo's MTU is 65536)
  rcv_mss_ = mtu > hdrs + 64 ? mtu - hdrs : 64;
  if (user_mss_ > 0) rcv_mss_ = std::min<uint32_t>(rcv_mss_, uint32_t(user_mss_));
  mss_ = rcv_mss_;
  rcv_wscale_ = 0;
  while (rcv_wscale_ < 14 && (size_t(65535) << rcv_wscale_) < RcvBufLocked()) rcv_wscale_++;
  iss_ = uint32_t(stack_->rng_());
  snd_una_ = iss_;
  snd_nxt_ = iss_ + 1;
  snd_max_ = iss_ + 1;
  recover_ = iss_;
  rto_ns_ = stack_->options().initial_rto_ns;
  stack_->tcp_all_.insert(this);
}

int TcpEndpoint::Bind(FullAddress addr) {
  Stack::Guard g(stack_);
  if (bound_ || state_ != TcpState::kClosed) return EINVAL;
  if (!addr.addr.is_any() && !stack_->IsLocalLocked(addr.addr)) return EADDRNOTAVAIL;
  int err = stack_->ReservePortLocked(this, addr);
  if (err == 0) user_bound_ = true;
  return err;
}

int TcpEndpoint::Listen(int backlog) {
  Stack::Guard g(stack_);
  // Linux clamps to net.core.somaxconn (4096); negative values become it too.
  if (backlog < 0 || backlog > 4096) backlog = 4096;
  if (state_ == TcpState::kListen) {
    backlog_ = backlog;
    return 0;
  }
  if (state_ != TcpState::kClosed || was_connected_ || connecting_) return EINVAL;
  if (!bound_) {
    if (stack_->ReservePortLocked(this, FullAddress{v6_ ? Address::V6Any() : Address::V4Any(), 0})) {
      return EADDRINUSE;
    }
  }
  state_ = TcpState::kListen;
  if (stack_->PortConflictLocked(this)) {
    state_ = TcpState::kClosed;
    return EADDRINUSE;
  }
  backlog_ = backlog;
  stack_->tcp_all_.insert(this);
  return 0;
}

int TcpEndpoint::Connect(FullAddress peer) {
  Stack::Guard g(stack_);
  if (connecting_) {
    // A connect() whose outcome the caller has not seen (non-blocking):
    // as Linux's inet_stream_connect, report it once, then EISCONN.
    if (state_ == TcpState::kSynSent || state_ == TcpState::kSynRcvd) return EALREADY;
    connecting_ = false;
    if (state_ != TcpState::kClosed) return 0;
    int e = std::exchange(error_, 0);
    return e ? e : ECONNABORTED;
  }
  if (state_ != TcpState::kClosed || was_connected_) return EISCONN;
  Address src;
  uint32_t mtu;
  if (!stack_->RouteLocked(peer.addr, &src, &mtu)) return ENETUNREACH;
  if (!bound_) {
    // When the ephemeral range is used up, a port may serve several
    // outgoing connections to different peers (Linux's connect-time hash).
    auto shareable = [&peer](const std::vector<Endpoint*>& holders) {
      for (const Endpoint* e : holders) {
        const auto* t = static_cast<const TcpEndpoint*>(e);
        if (!t->in_conns_ || t->listener_ != nullptr || t->user_bound_ ||
            (t->remote_ == peer && t->state_ != TcpState::kTimeWait)) {
          return false;
        }
      }
      return true;
    };
    if (stack_->ReservePortLocked(this, FullAddress{v6_ ? Address::V6Any() : Address::V4Any(), 0},
                                  shareable)) {
      return EADDRNOTAVAIL;
    }
  }
  if (local_.addr.is_any()) local_.addr = src;
  remote_ = peer;
  if (auto it = stack_->tcp_conns_.find(Stack::ConnKey{local_, remote_});
      it != stack_->tcp_conns_.end()) {
    // Linux reuses a TIME_WAIT pair for loopback connections
    // (net.ipv4.tcp_tw_reuse=2); anything else holding it is a conflict.
    if (it->second->state_ != TcpState::kTimeWait) return EADDRNOTAVAIL;
    it->second->EnterClosedLocked();
  }
  error_ = 0;
  InitSendLocked(mtu);
  state_ = TcpState::kSynSent;
  connecting_ = true;
  AddConnLocked();
  stack_->stats_.tcp_active_opens++;
  SendSynLocked();
  return EINPROGRESS;
}

std::shared_ptr<TcpEndpoint> TcpEndpoint::Accept(FullAddress* peer, int* err) {
  Stack::Guard g(stack_);
  if (state_ != TcpState::kListen) {
    *err = EINVAL;
    return nullptr;
  }
  if (accept_queue_.empty()) {
    *err = EAGAIN;
    return nullptr;
  }
  std::shared_ptr<TcpEndpoint> c = std::move(accept_queue_.front());
  accept_queue_.pop_front();
  c->listener_ = nullptr;
  if (peer) *peer = c->remote_;
  *err = 0;
  return c;
}

int64_t TcpEndpoint::Send(size_t n, const FillFn& fill, bool more) {
  Stack::Guard g(stack_);
  if (state_ == TcpState::kSynSent || state_ == TcpState::kSynRcvd) return -EAGAIN;
  if (error_ != 0) return -std::exchange(error_, 0);
  if (shut_wr_ || (state_ != TcpState::kEstablished && state_ != TcpState::kCloseWait)) {
    return -EPIPE;
  }
  size_t limit = SndBufLocked();
  if (snd_buf_.size() >= limit) return -EAGAIN;
  if (n == 0) return 0;
  int64_t got = snd_buf_.Append(std::min(n, limit - snd_buf_.size()), fill);
  if (got <= 0) return got;
  more_ = more;
  OutputLocked();
  return got;
}

int64_t TcpEndpoint::Recv(size_t n, const DrainFn& drain, bool peek) {
  Stack::Guard g(stack_);
  if (state_ == TcpState::kListen) return -ENOTCONN;
  if (rcv_queued_ > 0) {
    int64_t total = 0;
    for (size_t i = 0; i < rcv_queue_.size() && size_t(total) < n; i++) {
      const View& v = rcv_queue_[i];
      size_t k = std::min(v.size(), n - size_t(total));
      int64_t got = drain(v.data(), k);
      if (got < 0) {
        if (total == 0) return got;
        break;
      }
      total += got;
      if (size_t(got) < k) break;
    }
    if (!peek) {
      size_t left = size_t(total);
      rcv_queued_ -= left;
      while (left > 0) {
        View& v = rcv_queue_.front();
        if (v.size() > left) {
          v.TrimFront(left);
          break;
        }
        left -= v.size();
        rcv_queue_.pop_front();
      }
      MaybeWindowUpdateLocked();
    }
    return total;
  }
  if (error_ != 0) return -std::exchange(error_, 0);
  if (shut_rd_ || fin_received_) return 0;
  if (state_ == TcpState::kClosed) return was_connected_ ? 0 : -ENOTCONN;
  return -EAGAIN;
}

void TcpEndpoint::QueueFinLocked() {
  if (fin_queued_) return;
  switch (state_) {
    case TcpState::kEstablished:
    case TcpState::kSynRcvd:
      state_ = TcpState::kFinWait1;
      break;
    case TcpState::kCloseWait:
      state_ = TcpState::kLastAck;
      break;
    default:
      return;
  }
  fin_queued_ = true;
  more_ = false;
  OutputLocked();
}

int TcpEndpoint::Shutdown(int how) {
  Stack::Guard g(stack_);
  bool rd = how == SHUT_RD || how == SHUT_RDWR;
  bool wr = how == SHUT_WR || how == SHUT_RDWR;
  switch (state_) {
    case TcpState::kClosed:
      return ENOTCONN;
    case TcpState::kListen:
      if (!rd) return ENOTCONN;
      StopListeningLocked();  // as Linux does
      return 0;
    case TcpState::kSynSent:
      EnterClosedLocked();
      return 0;
    default:
      break;
  }
  if (rd) shut_rd_ = true;
  if (wr && !shut_wr_) {
    shut_wr_ = true;
    QueueFinLocked();
  }
  stack_->QueueNotifyLocked(this);
  return 0;
}

void TcpEndpoint::AbortLocked() {
  if (state_ != TcpState::kClosed && state_ != TcpState::kListen && state_ != TcpState::kSynSent &&
      state_ != TcpState::kTimeWait) {
    SendRstLocked();
  }
  EnterClosedLocked();
}

void TcpEndpoint::Close() {
  Stack::Guard g(stack_);
  if (user_closed_) return;
  user_closed_ = true;
  notify_ = nullptr;
  user_bound_ = false;  // the port goes with the connection now
  switch (state_) {
    case TcpState::kClosed:
      EnterClosedLocked();
      return;
    case TcpState::kListen:
      StopListeningLocked();
      EnterClosedLocked();
      return;
    case TcpState::kSynSent:
      EnterClosedLocked();
      return;
    default:
      break;
  }
  if (rcv_queued_ > 0 || (linger_ && linger_secs_ == 0)) {
    // RFC 2525 2.17: unread data means the peer's data was lost; say so.
    AbortLocked();
    return;
  }
  QueueFinLocked();
  if (state_ == TcpState::kFinWait2 && close_at_ == INT64_MAX) {
    close_at_ = stack_->clock()->NowNs() + stack_->options().fin_wait2_ns;
    stack_->TimerArmedLocked(close_at_);
  }
  if (state_ != TcpState::kClosed) {
    stack_->AdoptLocked(std::static_pointer_cast<TcpEndpoint>(shared_from_this()));
  }
}

void TcpEndpoint::EnterClosedLocked() {
  bool was_embryo = listener_ != nullptr && state_ == TcpState::kSynRcvd;
  state_ = TcpState::kClosed;
  rto_at_ = delack_at_ = close_at_ = INT64_MAX;
  RemoveConnLocked();
  if (!user_bound_) stack_->FreePortLocked(this);
  snd_buf_.Clear();
  ooo_.clear();
  ooo_bytes_ = 0;
  stack_->QueueNotifyLocked(this);
  if (was_embryo) {
    auto& v = listener_->embryos_;
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (it->get() != this) continue;
      std::shared_ptr<TcpEndpoint> me = std::move(*it);
      v.erase(it);
      listener_ = nullptr;
      stack_->ReleaseLocked(std::move(me));
      break;
    }
  }
  if (user_closed_) stack_->DisownLocked(this);
}

void TcpEndpoint::ResetLocked(int err) {
  if (err != 0) error_ = err;
  shut_rd_ = shut_wr_ = true;
  EnterClosedLocked();
}

void TcpEndpoint::EnterTimeWaitLocked() {
  state_ = TcpState::kTimeWait;
  rto_at_ = INT64_MAX;
  snd_buf_.Clear();
  close_at_ = stack_->clock()->NowNs() + stack_->options().time_wait_ns;
  stack_->TimerArmedLocked(close_at_);
  stack_->QueueNotifyLocked(this);
}

uint32_t TcpEndpoint::ReadinessLocked() const {
  if (state_ == TcpState::kListen) return accept_queue_.empty() ? 0 : POLLIN | POLLRDNORM;
  // The shape of Linux's tcp_poll.
  uint32_t m = 0;
  // A FIN received counts as RCV_SHUTDOWN, as in Linux's sk_shutdown.
  if (((shut_rd_ || fin_received_) && shut_wr_) || state_ == TcpState::kClosed) m |= POLLHUP;
  if (shut_rd_ || fin_received_) m |= POLLIN | POLLRDNORM | POLLRDHUP;
  if (state_ != TcpState::kSynSent && state_ != TcpState::kSynRcvd) {
    if (rcv_queued_ > 0) m |= POLLIN | POLLRDNORM;
    size_t used = snd_buf_.size();
    if (shut_wr_ || used * 3 <= SndBufLocked() * 2) m |= POLLOUT | POLLWRNORM;
  }
  if (error_ != 0) m |= POLLERR;
  return m;
}

uint32_t TcpEndpoint::Readiness() {
  Stack::Guard g(stack_);
  return ReadinessLocked();
}

int TcpEndpoint::TakeError() {
  Stack::Guard g(stack_);
  return std::exchange(error_, 0);
}

int TcpEndpoint::FinishConnect() {
  Stack::Guard g(stack_);
  connecting_ = false;
  return std::exchange(error_, 0);
}

FullAddress TcpEndpoint::LocalAddress() {
  Stack::Guard g(stack_);
  if (!bound_ && state_ == TcpState::kClosed && !was_connected_) {
    return FullAddress{v6_ ? Address::V6Any() : Address::V4Any(), 0};
  }
  return local_;
}

int TcpEndpoint::RemoteAddress(FullAddress* out) {
  Stack::Guard g(stack_);
  if (!ConnectedLocked() && !(state_ == TcpState::kSynRcvd)) return ENOTCONN;
  *out = remote_;
  return 0;
}

TcpState TcpEndpoint::state() {
  Stack::Guard g(stack_);
  return state_;
}

size_t TcpEndpoint::ReadableBytes() {
  Stack::Guard g(stack_);
  return rcv_queued_;
}

size_t TcpEndpoint::UnsentBytes() {
  Stack::Guard g(stack_);
  return snd_buf_.size();
}

TcpInfoSnapshot TcpEndpoint::Info() {
  Stack::Guard g(stack_);
  TcpInfoSnapshot i{};
  i.state = state_;
  i.rto_us = uint32_t(rto_ns_ / 1000);
  i.rtt_us = uint32_t(srtt_ns_ / 1000);
  i.rttvar_us = uint32_t(rttvar_ns_ / 1000);
  i.snd_mss = mss_;
  i.rcv_mss = rcv_mss_;
  i.snd_cwnd = mss_ ? cwnd_ / mss_ : 0;
  i.snd_ssthresh = mss_ ? std::min<uint32_t>(ssthresh_ / mss_, 0xffff) : 0;
  i.unacked = mss_ ? (snd_max_ - snd_una_ + mss_ - 1) / mss_ : 0;
  i.retransmits = uint32_t(backoff_);
  i.total_retrans = total_retrans_;
  i.snd_wscale = uint32_t(snd_wscale_);
  i.rcv_wscale = uint32_t(rcv_wscale_);
  i.rcv_space = RcvWindowLocked();
  return i;
}

size_t TcpEndpoint::SndBufLocked() const { return sndbuf_ ? sndbuf_ : stack_->options().tcp_sndbuf; }
size_t TcpEndpoint::RcvBufLocked() const { return rcvbuf_ ? rcvbuf_ : stack_->options().tcp_rcvbuf; }

// ---- options ----

#define NETSTACK_TCP_FLAG(Name, field)      \
  void TcpEndpoint::Set##Name(bool on) {    \
    Stack::Guard g(stack_);                 \
    field = on;                             \
    OutputLocked();                         \
  }                                         \
  bool TcpEndpoint::Name() {                \
    Stack::Guard g(stack_);                 \
    return field;                           \
  }
NETSTACK_TCP_FLAG(NoDelay, nodelay_)
NETSTACK_TCP_FLAG(Cork, cork_)
NETSTACK_TCP_FLAG(Keepalive, keepalive_)
NETSTACK_TCP_FLAG(ReuseAddr, reuse_addr_)
NETSTACK_TCP_FLAG(ReusePort, reuse_port_)
#undef NETSTACK_TCP_FLAG

void TcpEndpoint::SetLinger(bool on, int seconds) {
  Stack::Guard g(stack_);
  linger_ = on;
  linger_secs_ = seconds;
}

int TcpEndpoint::SetV6Only(bool on) {
  Stack::Guard g(stack_);
  if (bound_) return EINVAL;
  v6only_ = on;
  return 0;
}
bool TcpEndpoint::V6Only() {
  Stack::Guard g(stack_);
  return v6only_;
}

void TcpEndpoint::SetRcvBuf(size_t bytes) {
  Stack::Guard g(stack_);
  rcvbuf_ = bytes;
  MaybeWindowUpdateLocked();
}
size_t TcpEndpoint::RcvBuf() {
  Stack::Guard g(stack_);
  return RcvBufLocked();
}
void TcpEndpoint::SetSndBuf(size_t bytes) {
  Stack::Guard g(stack_);
  sndbuf_ = bytes;
  stack_->QueueNotifyLocked(this);
}
size_t TcpEndpoint::SndBuf() {
  Stack::Guard g(stack_);
  return SndBufLocked();
}
void TcpEndpoint::SetTos(uint8_t tos) {
  Stack::Guard g(stack_);
  tos_ = tos;
}
uint8_t TcpEndpoint::Tos() {
  Stack::Guard g(stack_);
  return tos_;
}
void TcpEndpoint::SetMaxSeg(int mss) {
  Stack::Guard g(stack_);
  user_mss_ = mss;
}
bool TcpEndpoint::SetCongestion(const std::string& name) {
  Stack::Guard g(stack_);
  if (name != "reno" && name != "cubic") return false;
  cubic_ = name == "cubic";
  cubic_wmax_ = 0;
  cubic_epoch_ns_ = 0;
  return true;
}

std::string TcpEndpoint::Congestion() {
  Stack::Guard g(stack_);
  return cubic_ ? "cubic" : "reno";
}

int TcpEndpoint::MaxSeg() {
  Stack::Guard g(stack_);
  return ConnectedLocked() ? int(mss_) : (user_mss_ ? user_mss_ : 536);
}

}  // namespace netstack
