// A TCP segment arrives (RFC 9293 3.10.7): demultiplexing, the listen
// and SYN-SENT cases, then the sequence checks, RST, ACK, data and FIN
// processing of a synchronized connection.
#include <netinet/in.h>

#include "netstack/tcp.h"

namespace netstack {
namespace {

// The answer to a segment for no connection (RFC 9293 3.10.7.1).
void SendRstReplyLocked(Stack* s, const IpInfo& in, const TcpSegment& seg) {
  if (seg.flags & kRst) return;
  IpInfo ip;
  ip.src = in.dst;
  ip.dst = in.src;
  ip.proto = IPPROTO_TCP;
  ip.ttl = kDefaultTtl;
  TcpSegment r;
  r.sport = seg.dport;
  r.dport = seg.sport;
  if (seg.flags & kAck) {
    r.seq = seg.ack;
    r.flags = kRst;
  } else {
    r.seq = 0;
    r.ack = seg.seq + seg.SeqLen();
    r.flags = kRst | kAck;
  }
  PacketBuilder b(0);
  PrependTcpHeader(&b, ip, r);
  s->stats_.tcp_resets_sent++;
  s->stats_.tcp_sent++;
  s->SendIpLocked(std::move(b), ip);
}

TcpEndpoint* FindListenerLocked(Stack* s, const IpInfo& ip, uint16_t port, uint16_t sport) {
  const auto* users = s->PortUsersLocked(IPPROTO_TCP, port);
  if (users == nullptr) return nullptr;
  TcpEndpoint* best = nullptr;
  int best_score = -1, ties = 0;
  for (Endpoint* e : *users) {
    auto* t = static_cast<TcpEndpoint*>(e);
    if (!t->listening()) continue;
    const Address& la = t->local_.addr;
    int score;
    if (la == ip.dst) {
      score = 2;
    } else if (la.is_any() && (ip.dst.is_v4() ? (la.is_v4() || !t->v6only_) : !la.is_v4())) {
      score = 1;
    } else {
      continue;
    }
    if (score > best_score) {
      best = t;
      best_score = score;
      ties = 1;
    } else if (score == best_score && uint32_t(sport * 2654435761u) % ++ties == 0) {
      best = t;  // SO_REUSEPORT group: spread by the peer's port
    }
  }
  return best;
}

}  // namespace

void TcpInputLocked(Stack* s, const IpInfo& ip, View pkt) {
  s->stats_.tcp_received++;
  TcpSegment seg;
  bool bad_sum;
  if (!ParseTcp(ip, std::move(pkt), &seg, &bad_sum)) {
    (bad_sum ? s->stats_.tcp_bad_checksum : s->stats_.tcp_malformed)++;
    return;
  }
  // (Port 0 is no reason to drop: Linux answers a SYN to it with a RST.)
  if (ip.dst.is_multicast() || ip.dst.is_broadcast()) {
    s->stats_.tcp_malformed++;
    return;
  }
  FullAddress local{ip.dst, seg.dport}, remote{ip.src, seg.sport};
  TcpEndpoint* ep = nullptr;
  if (auto it = s->tcp_conns_.find(Stack::ConnKey{local, remote}); it != s->tcp_conns_.end()) {
    ep = it->second;
  } else {
    ep = FindListenerLocked(s, ip, seg.dport, seg.sport);
  }
  // An endpoint whose last reference is being dropped waits for mu_ in its
  // destructor; it is as good as gone.
  std::shared_ptr<Endpoint> keep = ep ? ep->weak_from_this().lock() : nullptr;
  if (keep == nullptr) {
    SendRstReplyLocked(s, ip, seg);
    return;
  }
  ep->SegmentLocked(ip, seg);
}

void TcpEndpoint::ListenInputLocked(const IpInfo& ip, TcpSegment& seg) {
  if (seg.flags & kRst) return;
  if (seg.flags & kAck) {
    SendRstReplyLocked(stack_, ip, seg);
    return;
  }
  if (!(seg.flags & kSyn)) return;
  // Linux drops SYNs while the accept queue is over the backlog; the
  // peer's SYN retransmission tries again later.
  if (accept_queue_.size() > size_t(backlog_) || embryos_.size() >= 1024) {
    stack_->stats_.tcp_listen_drops++;
    return;
  }
  auto c = std::make_shared<TcpEndpoint>(stack_, v6_);
  c->local_ = FullAddress{ip.dst, local_.port};
  c->remote_ = FullAddress{ip.src, seg.sport};
  c->v6only_ = v6only_;
  c->reuse_addr_ = reuse_addr_;
  c->reuse_port_ = reuse_port_;
  c->nodelay_ = nodelay_;
  c->cork_ = cork_;
  c->keepalive_ = keepalive_;
  c->linger_ = linger_;
  c->linger_secs_ = linger_secs_;
  c->rcvbuf_ = rcvbuf_;
  c->sndbuf_ = sndbuf_;
  c->tos_ = tos_;
  c->user_mss_ = user_mss_;
  c->cubic_ = cubic_;
  stack_->InheritPortLocked(c.get());
  uint32_t mtu = 1500;
  stack_->RouteLocked(ip.src, nullptr, &mtu);
  c->InitSendLocked(mtu);
  c->irs_ = seg.seq;
  c->rcv_nxt_ = seg.seq + 1;
  c->rcv_adv_ = c->rcv_nxt_;
  c->mss_ = std::min<uint32_t>(c->mss_, seg.mss > 0 ? uint32_t(seg.mss) : 536);
  if (seg.wscale >= 0) {
    c->snd_wscale_ = seg.wscale;
  } else {
    c->ws_ok_ = false;
    c->rcv_wscale_ = 0;
  }
  c->snd_wnd_ = seg.window;
  c->snd_wl1_ = seg.seq;
  c->snd_wl2_ = c->iss_;
  c->state_ = TcpState::kSynRcvd;
  c->listener_ = this;
  c->AddConnLocked();
  embryos_.push_back(c);
  stack_->stats_.tcp_passive_opens++;
  c->SendSynLocked();
}

void TcpEndpoint::SynSentInputLocked(TcpSegment& seg) {
  if ((seg.flags & kAck) && (SeqLEQ(seg.ack, iss_) || SeqGT(seg.ack, snd_max_))) {
    IpInfo ip;
    ip.src = remote_.addr;
    ip.dst = local_.addr;
    SendRstReplyLocked(stack_, ip, seg);
    return;
  }
  if (seg.flags & kRst) {
    if (seg.flags & kAck) ResetLocked(ECONNREFUSED);
    return;
  }
  if (!(seg.flags & kSyn)) return;
  irs_ = seg.seq;
  rcv_nxt_ = seg.seq + 1;
  rcv_adv_ = rcv_nxt_;
  mss_ = std::min<uint32_t>(mss_, seg.mss > 0 ? uint32_t(seg.mss) : 536);
  if (seg.wscale >= 0) {
    snd_wscale_ = seg.wscale;
  } else {
    ws_ok_ = false;
    snd_wscale_ = rcv_wscale_ = 0;
  }
  snd_wnd_ = seg.window;
  snd_wl1_ = seg.seq;
  if (!(seg.flags & kAck)) {
    // Simultaneous open (RFC 9293 figure 7).
    state_ = TcpState::kSynRcvd;
    SendSegmentLocked(kSyn | kAck, iss_, 0, 0, true);
    return;
  }
  snd_wl2_ = seg.ack;
  if (rtt_timing_ && SeqGEQ(seg.ack, rtt_seq_)) {
    rtt_timing_ = false;
    RttSampleLocked(stack_->clock()->NowNs() - rtt_start_ns_);
  }
  snd_una_ = seg.ack;
  EstablishedLocked();
  SendAckLocked();
}

void TcpEndpoint::EstablishedLocked() {
  state_ = TcpState::kEstablished;
  was_connected_ = true;
  backoff_ = 0;
  rto_at_ = INT64_MAX;
  cwnd_ = 10 * mss_;  // RFC 6928's initial window, as Linux
  stack_->QueueNotifyLocked(this);
  if (listener_ != nullptr) {
    TcpEndpoint* l = listener_;
    for (auto it = l->embryos_.begin(); it != l->embryos_.end(); ++it) {
      if (it->get() != this) continue;
      l->accept_queue_.push_back(std::move(*it));
      l->embryos_.erase(it);
      break;
    }
    stack_->QueueNotifyLocked(l);
  }
}

void TcpEndpoint::SegmentLocked(const IpInfo& ip, TcpSegment& seg) {
  switch (state_) {
    case TcpState::kClosed:
      SendRstReplyLocked(stack_, ip, seg);
      return;
    case TcpState::kListen:
      ListenInputLocked(ip, seg);
      return;
    case TcpState::kSynSent:
      SynSentInputLocked(seg);
      return;
    default:
      break;
  }
  // Acceptability (RFC 9293 3.10.7.4, first check).
  uint32_t wnd = SeqGT(rcv_adv_, rcv_nxt_) ? rcv_adv_ - rcv_nxt_ : 0;
  uint32_t len = seg.SeqLen();
  bool ok;
  if (len == 0) {
    ok = wnd == 0 ? seg.seq == rcv_nxt_ : SeqInRange(seg.seq, rcv_nxt_, rcv_nxt_ + wnd);
  } else {
    ok = wnd != 0 && (SeqInRange(seg.seq, rcv_nxt_, rcv_nxt_ + wnd) ||
                      SeqInRange(seg.seq + len - 1, rcv_nxt_, rcv_nxt_ + wnd));
  }
  // Old duplicates and zero-window probes get an ACK that says where we are.
  if (!ok && len > 0 && SeqLT(seg.seq, rcv_nxt_) && SeqGEQ(seg.seq + len, rcv_nxt_)) ok = true;
  if (!ok) {
    if (!(seg.flags & kRst)) SendAckLocked();
    if (!(seg.flags & kAck)) return;
    // The ACK field may still carry news (window updates after probes).
    if (SeqGT(seg.ack, snd_una_) || (seg.ack == snd_una_ && seg.window != 0)) {
      seg.payload = View();
      seg.flags &= uint8_t(~(kFin | kSyn));
    } else {
      return;
    }
  }
  if (seg.flags & kRst) {
    switch (state_) {
      case TcpState::kSynRcvd:
        if (listener_ != nullptr) {
          EnterClosedLocked();
          return;
        }
        ResetLocked(ECONNREFUSED);
        return;
      case TcpState::kClosing:
      case TcpState::kLastAck:
      case TcpState::kTimeWait:
        EnterClosedLocked();
        return;
      case TcpState::kCloseWait:
        ResetLocked(EPIPE);  // Linux's tcp_reset
        return;
      default:
        ResetLocked(ECONNRESET);
        return;
    }
  }
  if (seg.flags & kSyn) {
    if (state_ == TcpState::kSynRcvd && seg.seq == irs_) {
      SendSegmentLocked(kSyn | kAck, iss_, 0, 0, true);  // our SYN-ACK was lost
    } else {
      SendAckLocked();  // RFC 5961 4.2 challenge ACK
    }
    return;
  }
  if (!(seg.flags & kAck)) return;
  if (state_ == TcpState::kSynRcvd) {
    if (!SeqGT(seg.ack, snd_una_) || SeqGT(seg.ack, snd_max_)) {
      SendRstReplyLocked(stack_, ip, seg);
      return;
    }
    if (listener_ != nullptr && listener_->accept_queue_.size() > size_t(listener_->backlog_)) {
      stack_->stats_.tcp_listen_drops++;
      return;  // as Linux: the peer's retransmission retries later
    }
    snd_una_ = seg.ack;
    snd_wnd_ = uint32_t(seg.window) << snd_wscale_;
    snd_wl1_ = seg.seq;
    snd_wl2_ = seg.ack;
    if (rtt_timing_) {
      rtt_timing_ = false;
      RttSampleLocked(stack_->clock()->NowNs() - rtt_start_ns_);
    }
    EstablishedLocked();
  }
  if (!AckLocked(seg)) return;
  if (fin_acked_) {
    switch (state_) {
      case TcpState::kFinWait1:
        state_ = TcpState::kFinWait2;
        if (user_closed_) {
          close_at_ = stack_->clock()->NowNs() + stack_->options().fin_wait2_ns;
          stack_->TimerArmedLocked(close_at_);
        }
        stack_->QueueNotifyLocked(this);
        break;
      case TcpState::kClosing:
        EnterTimeWaitLocked();
        return;
      case TcpState::kLastAck:
        EnterClosedLocked();
        return;
      default:
        break;
    }
  }
  if (!seg.payload.empty() || (seg.flags & kFin)) {
    switch (state_) {
      case TcpState::kEstablished:
      case TcpState::kFinWait1:
      case TcpState::kFinWait2:
        DataLocked(seg);
        break;
      case TcpState::kTimeWait:
        if (seg.flags & kFin) {
          ack_now_ = true;  // the peer lost our ACK of its FIN
          EnterTimeWaitLocked();
        }
        break;
      default:
        break;  // the peer's FIN came already: nothing can follow it
    }
  }
  OutputLocked();
  if (ack_now_) SendAckLocked();
}

bool TcpEndpoint::AckLocked(TcpSegment& seg) {
  Seq ack = seg.ack;
  Seq limit = snd_max_ + (probe_sent_ ? 1 : 0);
  if (SeqGT(ack, limit)) {
    SendAckLocked();  // acknowledges what we never sent
    return false;
  }
  if (SeqGT(ack, snd_max_)) snd_max_ = ack;  // the probe byte got in
  probe_sent_ = false;
  uint32_t old_wnd = snd_wnd_;
  if (SeqLT(snd_wl1_, seg.seq) || (snd_wl1_ == seg.seq && SeqLEQ(snd_wl2_, ack))) {
    snd_wnd_ = uint32_t(seg.window) << snd_wscale_;
    snd_wl1_ = seg.seq;
    snd_wl2_ = ack;
  }
  if (SeqGT(ack, snd_una_)) {
    OnNewAckLocked(ack - snd_una_, ack);
  } else if (ack == snd_una_ && seg.payload.empty() && !(seg.flags & (kSyn | kFin)) &&
             snd_wnd_ == old_wnd && snd_una_ != snd_max_) {
    OnDupAckLocked();  // RFC 5681's definition of a duplicate
  }
  if (snd_wnd_ > old_wnd) stack_->QueueNotifyLocked(this);
  return true;
}

void TcpEndpoint::DeliverInOrderLocked(View data) {
  rcv_nxt_ += uint32_t(data.size());
  rcv_off_ += data.size();
  if (shut_rd_) return;  // Linux discards what arrives after SHUT_RD
  rcv_queued_ += data.size();
  rcv_queue_.push_back(std::move(data));
}

void TcpEndpoint::FinLocked() {
  rcv_nxt_++;
  fin_received_ = true;
  ack_now_ = true;
  switch (state_) {
    case TcpState::kEstablished:
      state_ = TcpState::kCloseWait;
      break;
    case TcpState::kFinWait1:
      state_ = TcpState::kClosing;
      break;
    case TcpState::kFinWait2:
      EnterTimeWaitLocked();
      break;
    default:
      break;
  }
  stack_->QueueNotifyLocked(this);
}

void TcpEndpoint::DataLocked(TcpSegment& seg) {
  Seq seq = seg.seq;
  View data = seg.payload;
  bool fin = seg.flags & kFin;
  if (SeqLT(seq, rcv_nxt_)) {
    uint32_t dup = rcv_nxt_ - seq;
    if (dup > data.size()) {
      ack_now_ = true;  // all old, FIN included
      return;
    }
    data.TrimFront(dup);
    seq = rcv_nxt_;
  }
  // Beyond the window offered: cut (and the FIN with it).
  uint32_t room = SeqGT(rcv_adv_, seq) ? rcv_adv_ - seq : 0;
  if (data.size() > room) {
    data.Truncate(room);
    fin = false;
  }
  if (seq != rcv_nxt_) {
    uint64_t off = rcv_off_ + (seq - rcv_nxt_);
    auto it = ooo_.find(off);
    if (ooo_bytes_ + data.size() <= RcvBufLocked() &&
        (it == ooo_.end() || it->second.data.size() < data.size() || (fin && !it->second.fin))) {
      if (it != ooo_.end()) ooo_bytes_ -= it->second.data.size();
      ooo_bytes_ += data.size();
      ooo_[off] = OutOfOrder{data, fin};
    }
    ack_now_ = true;  // a duplicate ACK tells the sender about the hole
    return;
  }
  bool filled_hole = !ooo_.empty();
  if (!data.empty()) DeliverInOrderLocked(std::move(data));
  if (fin) {
    FinLocked();
  } else {
    while (!ooo_.empty() && ooo_.begin()->first <= rcv_off_ && !fin_received_) {
      auto node = ooo_.extract(ooo_.begin());
      OutOfOrder& o = node.mapped();
      ooo_bytes_ -= o.data.size();
      uint64_t skip = rcv_off_ - node.key();
      if (skip > o.data.size()) continue;
      o.data.TrimFront(size_t(skip));
      if (!o.data.empty()) DeliverInOrderLocked(std::move(o.data));
      if (o.fin) FinLocked();
    }
  }
  if (fin_received_) {
    ooo_.clear();
    ooo_bytes_ = 0;
  }
  stack_->QueueNotifyLocked(this);
  AckReceivedDataLocked(filled_hole);  // RFC 5681 4.2: at once when a hole fills
}

}  // namespace netstack
