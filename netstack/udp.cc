#include "netstack/udp.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "netstack/checksum.h"
#include "netstack/icmp.h"

namespace netstack {
namespace {

// Largest payload of one datagram: what fits the 16-bit IP length.
size_t MaxPayload(const Address& dst) {
  return dst.is_v4() ? 65535 - kIpv4HeaderLen - kUdpHeaderLen : 65535 - kUdpHeaderLen;
}

}  // namespace

UdpEndpoint::~UdpEndpoint() {
  absl::MutexLock l(&stack_->mu_);
  stack_->FreePortLocked(this);
}

int UdpEndpoint::AutoBindLocked() {
  if (bound_) return 0;
  int err = stack_->ReservePortLocked(this, FullAddress{v6_ ? Address::V6Any() : Address::V4Any(), 0});
  if (err == 0) port_from_connect_ = true;
  return err == EADDRINUSE ? EAGAIN : err;  // Linux: EAGAIN when ephemeral ports run out
}

int UdpEndpoint::Bind(FullAddress addr) {
  Stack::Guard g(stack_);
  if (bound_) return EINVAL;  // also when sendto/connect bound it
  if (!addr.addr.is_any() && !addr.addr.is_multicast() && !stack_->IsLocalLocked(addr.addr)) {
    return EADDRNOTAVAIL;
  }
  return stack_->ReservePortLocked(this, addr);
}

int UdpEndpoint::Connect(const FullAddress* peer) {
  Stack::Guard g(stack_);
  if (peer == nullptr) {
    connected_ = false;
    remote_ = {};
    // Linux drops what connect() chose and keeps what bind() chose.
    if (addr_from_connect_) local_.addr = v6_ ? Address::V6Any() : Address::V4Any();
    addr_from_connect_ = false;
    if (port_from_connect_) stack_->FreePortLocked(this);
    port_from_connect_ = false;
    stack_->QueueNotifyLocked(this);
    return 0;
  }
  Address src;
  if (!stack_->RouteLocked(peer->addr, &src, nullptr)) return ENETUNREACH;
  if (int err = AutoBindLocked()) return err;
  if (local_.addr.is_any()) {
    local_.addr = src;
    addr_from_connect_ = true;
  }
  connected_ = true;
  remote_ = *peer;
  return 0;
}

int64_t UdpEndpoint::SendTo(const FullAddress* to, size_t n, const FillFn& fill) {
  Stack::Guard g(stack_);
  if (shut_wr_) return -EPIPE;
  if (error_ != 0) return -std::exchange(error_, 0);
  FullAddress dst;
  if (to != nullptr) {
    dst = *to;
  } else if (connected_) {
    dst = remote_;
  } else {
    return -EDESTADDRREQ;
  }
  if (dst.port == 0) return -EINVAL;
  if (n > MaxPayload(dst.addr)) return -EMSGSIZE;
  IpInfo ip;
  ip.dst = dst.addr;
  ip.proto = IPPROTO_UDP;
  ip.ttl = kDefaultTtl;
  ip.tos = tos_;
  if (!stack_->RouteLocked(dst.addr, &ip.src, nullptr)) return -ENETUNREACH;
  if (!local_.addr.is_any() && local_.addr.is_v4() == dst.addr.is_v4()) ip.src = local_.addr;
  if (int err = AutoBindLocked()) return -err;
  int err = UdpSendLocked(stack_, ip, local_.port, dst.port, n, fill);
  return err != 0 ? -int64_t{err} : int64_t(n);
}

int UdpSendLocked(Stack* s, const IpInfo& ip, uint16_t sport, uint16_t dport, size_t n,
                  const FillFn& fill) {
  PacketBuilder b(kUdpHeaderLen + n);
  if (n > 0) {
    int64_t got = fill(b.payload() + kUdpHeaderLen, n);
    if (got < 0) return int(-got);
    if (size_t(got) != n) return EFAULT;
  }
  uint8_t* h = b.front();
  Store16(h, sport);
  Store16(h + 2, dport);
  Store16(h + 4, uint16_t(kUdpHeaderLen + n));
  Store16(h + 6, 0);
  uint32_t sum = PseudoHeaderSum(ip.src, ip.dst, IPPROTO_UDP, uint32_t(kUdpHeaderLen + n));
  uint16_t c = ChecksumFinish(ChecksumAdd(sum, h, kUdpHeaderLen + n));
  Store16(h + 6, c == 0 ? 0xffff : c);  // 0 means "no checksum" on the wire
  s->stats_.udp_sent++;
  return s->SendIpLocked(std::move(b), ip);
}

int64_t UdpEndpoint::Recv(size_t n, const DrainFn& drain, bool peek, FullAddress* from,
                          size_t* full_len) {
  Stack::Guard g(stack_);
  if (queue_.empty()) {
    if (error_ != 0) return -std::exchange(error_, 0);
    if (shut_rd_) return 0;
    return -EAGAIN;
  }
  Datagram& d = queue_.front();
  size_t k = std::min(n, d.payload.size());
  int64_t got = k > 0 ? drain(d.payload.data(), k) : 0;
  if (got < 0) return got;
  if (from) *from = d.from;
  if (full_len) *full_len = d.payload.size();
  if (!peek) {
    queued_ -= d.payload.size();
    queue_.pop_front();
  }
  return got;
}

int UdpEndpoint::Shutdown(int how) {
  Stack::Guard g(stack_);
  if (how == SHUT_RD || how == SHUT_RDWR) shut_rd_ = true;
  if (how == SHUT_WR || how == SHUT_RDWR) shut_wr_ = true;
  stack_->QueueNotifyLocked(this);
  // Linux records the shutdown even then, so that poll reports it.
  return connected_ ? 0 : ENOTCONN;
}

void UdpEndpoint::Close() {
  Stack::Guard g(stack_);
  queue_.clear();
  queued_ = 0;
  stack_->FreePortLocked(this);
}

uint32_t UdpEndpoint::Readiness() {
  Stack::Guard g(stack_);
  uint32_t m = 0;
  if (!queue_.empty()) m |= POLLIN | POLLRDNORM;
  if (shut_rd_) m |= POLLIN | POLLRDNORM | POLLRDHUP;
  if (shut_rd_ && shut_wr_) m |= POLLHUP;
  if (error_ != 0) m |= POLLERR;
  m |= POLLOUT | POLLWRNORM | POLLWRBAND;  // datagrams go out at once
  return m;
}

int UdpEndpoint::TakeError() {
  Stack::Guard g(stack_);
  return std::exchange(error_, 0);
}

FullAddress UdpEndpoint::LocalAddress() {
  Stack::Guard g(stack_);
  if (!bound_) return FullAddress{v6_ ? Address::V6Any() : Address::V4Any(), 0};
  return local_;
}

int UdpEndpoint::RemoteAddress(FullAddress* out) {
  Stack::Guard g(stack_);
  if (!connected_) return ENOTCONN;
  *out = remote_;
  return 0;
}

size_t UdpEndpoint::NextDatagramSize() {
  Stack::Guard g(stack_);
  return queue_.empty() ? 0 : queue_.front().payload.size();
}

int UdpEndpoint::SetV6Only(bool on) {
  Stack::Guard g(stack_);
  if (bound_) return EINVAL;
  v6only_ = on;
  return 0;
}
bool UdpEndpoint::V6Only() {
  Stack::Guard g(stack_);
  return v6only_;
}
void UdpEndpoint::SetReuseAddr(bool on) {
  Stack::Guard g(stack_);
  reuse_addr_ = on;
}
void UdpEndpoint::SetReusePort(bool on) {
  Stack::Guard g(stack_);
  reuse_port_ = on;
}
bool UdpEndpoint::ReuseAddr() {
  Stack::Guard g(stack_);
  return reuse_addr_;
}
bool UdpEndpoint::ReusePort() {
  Stack::Guard g(stack_);
  return reuse_port_;
}
void UdpEndpoint::SetRcvBuf(size_t bytes) {
  Stack::Guard g(stack_);
  rcvbuf_ = bytes;
}
size_t UdpEndpoint::RcvBuf() {
  Stack::Guard g(stack_);
  return rcvbuf_ ? rcvbuf_ : stack_->options().udp_rcvbuf;
}
void UdpEndpoint::SetTos(uint8_t tos) {
  Stack::Guard g(stack_);
  tos_ = tos;
}
uint8_t UdpEndpoint::Tos() {
  Stack::Guard g(stack_);
  return tos_;
}

bool UdpEndpoint::MatchesLocked(const IpInfo& ip, uint16_t sport, int* score) {
  const Address& la = local_.addr;
  if (la.is_any()) {
    if (ip.dst.is_v4() ? (!la.is_v4() && v6only_) : la.is_v4()) return false;
    *score = 0;
  } else {
    if (la != ip.dst) return false;
    *score = 2;
  }
  if (connected_) {
    if (remote_.addr != ip.src || remote_.port != sport) return false;
    *score += 4;
  }
  return true;
}

void UdpEndpoint::DeliverLocked(const IpInfo& ip, uint16_t sport, View payload) {
  size_t limit = rcvbuf_ ? rcvbuf_ : stack_->options().udp_rcvbuf;
  if (shut_rd_ || queued_ + payload.size() > limit) {
    stack_->stats_.udp_receive_buffer_errors++;
    return;
  }
  queued_ += payload.size();
  queue_.push_back(Datagram{std::move(payload), FullAddress{ip.src, sport}});
  stack_->QueueNotifyLocked(this);
}

void UdpEndpoint::IcmpErrorLocked(int err) {
  if (!connected_) return;  // Linux reports these only to connected sockets
  error_ = err;
  stack_->QueueNotifyLocked(this);
}

void UdpInputLocked(Stack* s, const IpInfo& ip, View pkt) {
  s->stats_.udp_received++;
  if (pkt.size() < kUdpHeaderLen) {
    s->stats_.udp_malformed++;
    return;
  }
  const uint8_t* h = pkt.data();
  size_t len = Load16(h + 4);
  if (len < kUdpHeaderLen || len > pkt.size()) {
    s->stats_.udp_malformed++;
    return;
  }
  pkt.Truncate(len);
  uint16_t csum = Load16(h + 6);
  if (csum != 0 || !ip.src.is_v4()) {  // IPv6 requires it (RFC 8200 8.1)
    uint32_t sum = PseudoHeaderSum(ip.src, ip.dst, IPPROTO_UDP, uint32_t(len));
    if (csum == 0 || ChecksumFinish(ChecksumAdd(sum, pkt.data(), len)) != 0) {
      s->stats_.udp_bad_checksum++;
      return;
    }
  }
  uint16_t sport = Load16(h), dport = Load16(h + 2);
  UdpEndpoint* best = nullptr;
  int best_score = -1, ties = 0;
  if (const auto* users = s->PortUsersLocked(IPPROTO_UDP, dport)) {
    for (Endpoint* e : *users) {
      auto* u = static_cast<UdpEndpoint*>(e);
      int score;
      if (!u->MatchesLocked(ip, sport, &score)) continue;
      if (score > best_score) {
        best = u;
        best_score = score;
        ties = 1;
      } else if (score == best_score && u->reuse_port_) {
        // SO_REUSEPORT groups spread by source, the same source always to
        // the same member.
        if (uint32_t(sport * 2654435761u) % ++ties == 0) best = u;
      }
    }
  }
  if (best == nullptr) {
    s->stats_.udp_no_port++;
    if (!ip.dst.is_multicast() && !ip.dst.is_broadcast()) {
      SendPortUnreachableLocked(s, ip, pkt);
    }
    return;
  }
  pkt.TrimFront(kUdpHeaderLen);
  best->DeliverLocked(ip, sport, std::move(pkt));
}

}  // namespace netstack
