// What a TCP endpoint sends and when: segments within the send and
// congestion windows, Nagle, ACKs and window updates, the retransmission
// timer (RFC 6298) and NewReno loss recovery (RFC 5681, RFC 6582).
#include <netinet/in.h>

#include <cmath>

#include "netstack/tcp.h"

namespace netstack {

void TcpEndpoint::SendSegmentLocked(uint8_t flags, Seq seq, size_t data_off, size_t len,
                                    bool syn_opts) {
  IpInfo ip;
  ip.src = local_.addr;
  ip.dst = remote_.addr;
  ip.proto = IPPROTO_TCP;
  ip.ttl = kDefaultTtl;
  ip.tos = tos_;
  PacketBuilder b(len);
  if (len > 0) snd_buf_.Read(data_off, b.payload(), len);
  TcpSegment s;
  s.sport = local_.port;
  s.dport = remote_.port;
  s.seq = seq;
  s.flags = flags;
  if (flags & kAck) s.ack = rcv_nxt_;
  if (flags & kSyn) {
    // The window of a SYN is never scaled (RFC 7323 2.2).
    s.window = uint16_t(std::min<uint32_t>(RcvWindowLocked(), 65535));
    rcv_adv_ = rcv_nxt_ + s.window;
  } else {
    s.window = WindowToAdvertiseLocked();
  }
  if (syn_opts) {
    s.mss = int(rcv_mss_);
    s.wscale = ws_ok_ ? rcv_wscale_ : -1;
  }
  PrependTcpHeader(&b, ip, s);
  stack_->stats_.tcp_sent++;
  if (flags & kAck) {
    segs_unacked_ = 0;
    ack_now_ = false;
    delack_at_ = INT64_MAX;
  }
  stack_->SendIpLocked(std::move(b), ip);
}

void TcpEndpoint::SendSynLocked() {
  uint8_t flags = state_ == TcpState::kSynSent ? kSyn : kSyn | kAck;
  if (backoff_ == 0) {
    rtt_timing_ = true;
    rtt_seq_ = iss_ + 1;
    rtt_start_ns_ = stack_->clock()->NowNs();
  }
  SendSegmentLocked(flags, iss_, 0, 0, true);
  ArmRtoLocked();
}

void TcpEndpoint::SendRstLocked() {
  SendSegmentLocked(kRst | kAck, snd_nxt_, 0, 0, false);
  stack_->stats_.tcp_resets_sent++;
}

uint32_t TcpEndpoint::RcvWindowLocked() const {
  size_t buf = RcvBufLocked();
  size_t used = rcv_queued_ + ooo_bytes_;
  if (used >= buf) return 0;
  return uint32_t(std::min<size_t>(buf - used, size_t(65535) << rcv_wscale_));
}

uint16_t TcpEndpoint::WindowToAdvertiseLocked() {
  uint32_t wnd = RcvWindowLocked();
  Seq right = rcv_nxt_ + wnd;
  if (SeqLT(right, rcv_adv_)) {
    // Never take back what was offered (RFC 9293 3.8.6.2.2).
    right = rcv_adv_;
  } else if (SeqGT(right, rcv_adv_)) {
    // Receiver-side silly window avoidance: open only by a useful amount.
    uint32_t grow = right - rcv_adv_;
    uint32_t cur = SeqGT(rcv_adv_, rcv_nxt_) ? rcv_adv_ - rcv_nxt_ : 0;
    if (cur > 0 && grow < std::min<uint32_t>(uint32_t(RcvBufLocked() / 2), rcv_mss_)) right = rcv_adv_;
  }
  if (SeqLT(right, rcv_nxt_)) right = rcv_nxt_;
  uint32_t wire = std::min<uint32_t>((right - rcv_nxt_) >> rcv_wscale_, 65535);
  Seq adv = rcv_nxt_ + (wire << rcv_wscale_);
  if (SeqGT(adv, rcv_adv_)) rcv_adv_ = adv;
  return uint16_t(wire);
}

void TcpEndpoint::MaybeWindowUpdateLocked() {
  if (!ConnectedLocked() || fin_received_) return;
  Seq could = rcv_nxt_ + RcvWindowLocked();
  if (!SeqGT(could, rcv_adv_)) return;
  uint32_t grow = could - rcv_adv_;
  uint32_t threshold = std::min<uint32_t>(uint32_t(RcvBufLocked() / 2), 2 * rcv_mss_);
  if (grow >= threshold) SendAckLocked();
}

void TcpEndpoint::AckReceivedDataLocked(bool force) {
  segs_unacked_++;
  if (force || segs_unacked_ >= 2) {
    ack_now_ = true;  // sent at the end of input, unless data carries it
    return;
  }
  if (delack_at_ == INT64_MAX) {
    delack_at_ = stack_->clock()->NowNs() + stack_->options().delayed_ack_ns;
    stack_->TimerArmedLocked(delack_at_);
  }
}

void TcpEndpoint::ArmRtoLocked() {
  rto_at_ = stack_->clock()->NowNs() + rto_ns_;
  stack_->TimerArmedLocked(rto_at_);
}

void TcpEndpoint::OutputLocked() {
  switch (state_) {
    case TcpState::kEstablished:
    case TcpState::kCloseWait:
    case TcpState::kFinWait1:
    case TcpState::kClosing:
    case TcpState::kLastAck:
      break;
    default:
      return;
  }
  int64_t now = stack_->clock()->NowNs();
  for (;;) {
    uint32_t in_flight = snd_nxt_ - snd_una_;
    size_t off = in_flight;
    size_t buffered = snd_buf_.size();
    if (off > buffered) break;  // the FIN is out too
    size_t avail = buffered - off;
    bool retransmission = SeqLT(snd_nxt_, snd_max_);
    if (avail == 0) {
      if (fin_queued_) {
        // A FIN takes no window space worth waiting for.
        SendSegmentLocked(kFin | kAck, snd_nxt_, 0, 0, false);
        if (retransmission) {
          stack_->stats_.tcp_retransmits++;
          total_retrans_++;
        }
        snd_nxt_++;
        if (SeqGT(snd_nxt_, snd_max_)) snd_max_ = snd_nxt_;
        if (rto_at_ == INT64_MAX) ArmRtoLocked();
      }
      break;
    }
    uint32_t wnd = std::min(snd_wnd_, cwnd_);
    uint32_t usable = wnd > in_flight ? wnd - in_flight : 0;
    size_t len = std::min<size_t>({avail, mss_, usable});
    if (len == 0) {
      // Zero window: the retransmission timer doubles as the persist
      // timer and sends probes (OnRtoLocked).
      if (rto_at_ == INT64_MAX) ArmRtoLocked();
      break;
    }
    if (len < mss_ && !retransmission) {
      // Nagle (RFC 896) and TCP_CORK/MSG_MORE hold back a small segment
      // while data is unacknowledged (or, corked, at all); a pending FIN
      // pushes everything out. A window-limited small segment waits for
      // the window unless nothing is in flight (sender SWS avoidance).
      bool tail = len == avail;
      bool hold = tail ? ((cork_ || more_) || (!nodelay_ && in_flight > 0)) : in_flight > 0;
      if (hold && !(tail && fin_queued_)) break;
    }
    bool last = len == avail;
    uint8_t flags = kAck | (last ? kPsh : 0);
    if (last && fin_queued_) flags |= kFin;
    if (!rtt_timing_ && !retransmission) {
      rtt_timing_ = true;
      rtt_seq_ = snd_nxt_ + uint32_t(len);
      rtt_start_ns_ = now;
    }
    if (retransmission) {
      stack_->stats_.tcp_retransmits++;
      total_retrans_++;
    }
    SendSegmentLocked(flags, snd_nxt_, off, len, false);
    snd_nxt_ += uint32_t(len) + ((flags & kFin) ? 1 : 0);
    if (SeqGT(snd_nxt_, snd_max_)) snd_max_ = snd_nxt_;
    if (rto_at_ == INT64_MAX) ArmRtoLocked();
    if (flags & kFin) break;
  }
}

void TcpEndpoint::RetransmitFirstLocked() {
  size_t buffered = snd_buf_.size();
  size_t len = std::min<size_t>(buffered, mss_);
  uint8_t flags = kAck;
  if (len == buffered && fin_queued_) flags |= kFin;
  if (len == 0 && !(flags & kFin)) return;
  rtt_timing_ = false;  // Karn: no samples from retransmitted data
  stack_->stats_.tcp_retransmits++;
  total_retrans_++;
  SendSegmentLocked(flags, snd_una_, 0, len, false);
  Seq end = snd_una_ + uint32_t(len) + ((flags & kFin) ? 1 : 0);
  if (SeqGT(end, snd_max_)) snd_max_ = end;
}

void TcpEndpoint::RttSampleLocked(int64_t r) {
  const StackOptions& o = stack_->options();
  if (r <= 0) r = 1000;  // loopback can be faster than the clock's resolution
  if (srtt_ns_ == 0) {
    srtt_ns_ = r;
    rttvar_ns_ = r / 2;
  } else {
    int64_t d = srtt_ns_ > r ? srtt_ns_ - r : r - srtt_ns_;
    rttvar_ns_ = (3 * rttvar_ns_ + d) / 4;
    srtt_ns_ = (7 * srtt_ns_ + r) / 8;
  }
  rto_ns_ = srtt_ns_ + std::max<int64_t>(kMillisecond, 4 * rttvar_ns_);
  rto_ns_ = std::clamp(rto_ns_, o.min_rto_ns, o.max_rto_ns);
}

void TcpEndpoint::OnNewAckLocked(uint32_t acked, Seq ack) {
  int64_t now = stack_->clock()->NowNs();
  backoff_ = 0;
  if (rtt_timing_ && SeqGEQ(ack, rtt_seq_)) {
    rtt_timing_ = false;
    RttSampleLocked(now - rtt_start_ns_);
  }
  size_t buffered = snd_buf_.size();
  if (acked > buffered) {
    snd_buf_.Drop(buffered);
    fin_acked_ = true;
  } else {
    snd_buf_.Drop(acked);
  }
  snd_una_ = ack;
  if (SeqLT(snd_nxt_, ack)) snd_nxt_ = ack;  // after go-back-N, or a probe got in
  uint32_t flight = snd_max_ - snd_una_;
  if (in_recovery_) {
    if (SeqGEQ(ack, recover_)) {
      in_recovery_ = false;  // full acknowledgment (RFC 6582 3.2 step 3)
      cwnd_ = std::min(ssthresh_, std::max(flight, mss_) + mss_);
    } else {
      RetransmitFirstLocked();  // partial: the next hole
      cwnd_ = cwnd_ > acked ? cwnd_ - acked : 0;
      if (acked >= mss_) cwnd_ += mss_;
      cwnd_ = std::max(cwnd_, mss_);
    }
  } else if (cwnd_ < ssthresh_) {
    cwnd_ += std::min(acked, mss_);  // slow start
  } else if (cubic_) {
    CubicAvoidanceLocked(acked, now);
  } else {
    cwnd_ += std::max<uint32_t>(1, uint32_t(uint64_t(mss_) * mss_ / cwnd_));  // avoidance
  }
  cwnd_ = std::min<uint32_t>(cwnd_, 1u << 30);
  dupacks_ = 0;
  if (snd_una_ == snd_max_) {
    rto_at_ = INT64_MAX;
  } else {
    ArmRtoLocked();
  }
  stack_->QueueNotifyLocked(this);  // send buffer space
}

void TcpEndpoint::OnDupAckLocked() {
  dupacks_++;
  if (in_recovery_) {
    cwnd_ += mss_;  // each dup ACK means a segment left the network
    return;
  }
  if (dupacks_ != 3 || !SeqGT(snd_una_, recover_)) return;
  uint32_t flight = snd_max_ - snd_una_;
  ssthresh_ = std::max(flight / 2, 2 * mss_);
  if (cubic_) CubicLossLocked();
  recover_ = snd_max_;
  in_recovery_ = true;
  stack_->stats_.tcp_fast_retransmits++;
  RetransmitFirstLocked();
  cwnd_ = ssthresh_ + 3 * mss_;
  ArmRtoLocked();
}

void TcpEndpoint::OnRtoLocked(int64_t now) {
  rto_at_ = INT64_MAX;
  const StackOptions& o = stack_->options();
  if (state_ == TcpState::kSynSent || state_ == TcpState::kSynRcvd) {
    int limit = state_ == TcpState::kSynSent ? o.syn_retries : o.synack_retries;
    if (++backoff_ > limit) {
      stack_->stats_.tcp_timeouts++;
      ResetLocked(ETIMEDOUT);
      return;
    }
    rtt_timing_ = false;
    rto_ns_ = std::min(rto_ns_ * 2, o.max_rto_ns);
    stack_->stats_.tcp_retransmits++;
    total_retrans_++;
    SendSynLocked();
    return;
  }
  bool outstanding = snd_una_ != snd_max_;
  bool waiting = !snd_buf_.empty() || (fin_queued_ && !fin_acked_);
  if (!outstanding && !waiting) return;
  rto_ns_ = std::min(rto_ns_ * 2, o.max_rto_ns);
  if (!outstanding && snd_wnd_ == 0) {
    // Persist: a one-byte probe beyond the zero window makes the peer
    // answer with its current window (RFC 9293 3.8.6.1).
    // snd_max_ stays: an unanswered probe is no loss (AckLocked accepts
    // an ACK that covers it).
    if (!snd_buf_.empty()) {
      SendSegmentLocked(kAck, snd_una_, 0, 1, false);
      probe_sent_ = true;
    }
    ArmRtoLocked();
    return;
  }
  if (++backoff_ > o.data_retries) {
    stack_->stats_.tcp_timeouts++;
    SendRstLocked();
    ResetLocked(ETIMEDOUT);
    return;
  }
  stack_->stats_.tcp_timeouts++;
  uint32_t flight = snd_max_ - snd_una_;
  ssthresh_ = std::max(flight / 2, 2 * mss_);
  if (cubic_) CubicLossLocked();
  cwnd_ = mss_;
  in_recovery_ = false;
  dupacks_ = 0;
  recover_ = snd_max_;
  rtt_timing_ = false;
  snd_nxt_ = snd_una_;  // go back: resend from the first unacknowledged byte
  OutputLocked();
  if (rto_at_ == INT64_MAX) ArmRtoLocked();
  (void)now;
}

// CUBIC (RFC 9438), in segments and seconds: after a loss the window
// shrinks by beta and then follows W(t) = C (t - K)^3 + W_max, never
// slower than what Reno would have reached (the "Reno-friendly" W_est).
namespace {
constexpr double kCubicC = 0.4, kCubicBeta = 0.7;
}

void TcpEndpoint::CubicLossLocked() {
  double w = double(cwnd_) / mss_;
  // Fast convergence (RFC 9438 4.7): a flow that lost below its last
  // maximum releases bandwidth for newcomers.
  cubic_wmax_ = w < cubic_wmax_ ? w * (1 + kCubicBeta) / 2 : w;
  ssthresh_ = std::max(uint32_t(double(cwnd_) * kCubicBeta), 2 * mss_);
  cubic_epoch_ns_ = 0;
}

void TcpEndpoint::CubicAvoidanceLocked(uint32_t acked, int64_t now) {
  double w = double(cwnd_) / mss_;
  if (cubic_epoch_ns_ == 0) {
    cubic_epoch_ns_ = now;
    cubic_west_ = w;
    if (w < cubic_wmax_) {
      cubic_k_ = std::cbrt((cubic_wmax_ - w) / kCubicC);
      cubic_origin_ = cubic_wmax_;
    } else {
      cubic_k_ = 0;
      cubic_origin_ = w;
    }
  }
  double rtt = srtt_ns_ > 0 ? double(srtt_ns_) / 1e9 : 0.001;
  double t = double(now - cubic_epoch_ns_) / 1e9 + rtt;
  double target = cubic_origin_ + kCubicC * (t - cubic_k_) * (t - cubic_k_) * (t - cubic_k_);
  cubic_west_ += 3 * (1 - kCubicBeta) / (1 + kCubicBeta) * double(acked) / double(cwnd_);
  target = std::max(target, cubic_west_);
  double grow = target > w ? (target - w) / w : 0.01 / w;  // segments per segment acked
  grow = std::min(grow, 0.5);                             // at most 1.5x per RTT
  cwnd_ += std::max<uint32_t>(1, uint32_t(grow * double(acked)));
}

int64_t TcpEndpoint::NextDeadlineLocked() const {
  return std::min({rto_at_, delack_at_, close_at_});
}

void TcpEndpoint::OnTimersLocked(int64_t now) {
  if (close_at_ <= now) {
    close_at_ = INT64_MAX;
    if (state_ == TcpState::kTimeWait || state_ == TcpState::kFinWait2) {
      EnterClosedLocked();
      return;
    }
  }
  if (delack_at_ <= now) {
    delack_at_ = INT64_MAX;
    if (ConnectedLocked() && state_ != TcpState::kTimeWait) SendAckLocked();
  }
  if (rto_at_ <= now) OnRtoLocked(now);
}

}  // namespace netstack
