// TCP endpoints (RFC 9293): the state machine, listen with a backlog and
// an accept queue, sliding windows with window scaling (RFC 7323) and MSS,
// retransmission with the RFC 6298 timer and Karn's rule, fast retransmit
// and NewReno recovery (RFC 5681, RFC 6582) with NewReno's or CUBIC's
// (RFC 9438) window growth, Nagle and TCP_NODELAY/CORK,
// delayed ACKs, FIN/half-close, TIME_WAIT and RSTs (ECONNREFUSED,
// ECONNRESET) as Linux reports them.
//
// The files: tcp_endpoint.cc (the operations sockets call), tcp_input.cc
// (a segment arrives), tcp_output.cc (what to send, timers, congestion).
// Every public method takes the stack lock (netstack/stack.h); the fill
// and drain functions of Send/Recv are called with it held. ...Locked
// methods need it held.
#ifndef NETSTACK_TCP_H_
#define NETSTACK_TCP_H_

#include <deque>
#include <map>
#include <string>

#include "netstack/byte_queue.h"
#include "netstack/stack.h"
#include "netstack/tcp_segment.h"

namespace netstack {

enum class TcpState {
  kClosed,
  kListen,
  kSynSent,
  kSynRcvd,
  kEstablished,
  kFinWait1,
  kFinWait2,
  kCloseWait,
  kClosing,
  kLastAck,
  kTimeWait,
};
const char* TcpStateName(TcpState s);

// What TCP_INFO reports (a subset of struct tcp_info).
struct TcpInfoSnapshot {
  TcpState state;
  uint32_t rto_us, rtt_us, rttvar_us, snd_mss, rcv_mss, snd_cwnd, snd_ssthresh, unacked,
      retransmits, total_retrans, snd_wscale, rcv_wscale, rcv_space;
};

class TcpEndpoint : public Endpoint {
 public:
  TcpEndpoint(Stack* s, bool v6);
  ~TcpEndpoint() override;

  // ---- Operations; errors are positive errnos, counts negative ones. ----
  int Bind(FullAddress addr);  // EINVAL, EADDRNOTAVAIL, EADDRINUSE
  int Listen(int backlog);     // EINVAL, EADDRINUSE
  // 0 (connected), EINPROGRESS, EALREADY, EISCONN, ENETUNREACH, ...
  int Connect(FullAddress peer);
  // A connection from the accept queue (its peer in *peer); null with
  // *err = EAGAIN (empty) or EINVAL (not listening).
  std::shared_ptr<TcpEndpoint> Accept(FullAddress* peer, int* err);
  // Queues up to n bytes that `fill` provides. Returns bytes queued or
  // -errno (-EAGAIN when the send buffer is full; EPIPE after shutdown).
  // `more`: MSG_MORE, hold a partial segment back like TCP_CORK.
  int64_t Send(size_t n, const FillFn& fill, bool more);
  // Takes up to n received bytes through `drain` (peek: leaves them).
  // 0 at end of stream; -EAGAIN when nothing is there yet.
  int64_t Recv(size_t n, const DrainFn& drain, bool peek);
  int Shutdown(int how);  // ENOTCONN when not connected
  // The user is done: FIN (or RST when unread data is left, or when
  // lingering with a zero timeout), then the stack finishes alone.
  void Close();

  uint32_t Readiness() override;
  int TakeError();                  // SO_ERROR
  // The outcome of a connect that returned EINPROGRESS, once it is known
  // (0 or the error, taken).
  int FinishConnect();
  FullAddress LocalAddress();
  int RemoteAddress(FullAddress* out);  // ENOTCONN
  TcpState state();
  bool listening() const { return state_ == TcpState::kListen; }  // with the lock held
  size_t ReadableBytes();   // FIONREAD
  size_t UnsentBytes();     // SIOCOUTQ: not yet acknowledged
  TcpInfoSnapshot Info();

  // Options.
  void SetNoDelay(bool on);
  bool NoDelay();
  void SetCork(bool on);
  bool Cork();
  void SetKeepalive(bool on);
  bool Keepalive();
  void SetLinger(bool on, int seconds);
  int SetV6Only(bool on);  // EINVAL once bound
  bool V6Only();
  void SetReuseAddr(bool on);
  bool ReuseAddr();
  void SetReusePort(bool on);
  bool ReusePort();
  void SetRcvBuf(size_t bytes);
  size_t RcvBuf();
  void SetSndBuf(size_t bytes);
  size_t SndBuf();
  void SetTos(uint8_t tos);
  uint8_t Tos();
  void SetMaxSeg(int mss);  // TCP_MAXSEG: a cap on the send MSS
  int MaxSeg();
  // TCP_CONGESTION: "reno" (NewReno, the default) or "cubic"; false for others.
  bool SetCongestion(const std::string& name);
  std::string Congestion();

  // ---- For the stack. ----
  uint8_t protocol() const override { return 6; }
  bool AllowsShare(const Endpoint& other) const override;
  int64_t NextDeadlineLocked() const;
  void OnTimersLocked(int64_t now);
  void SegmentLocked(const IpInfo& ip, TcpSegment& seg);  // tcp_input.cc

 private:
  // tcp_input.cc
  void ListenInputLocked(const IpInfo& ip, TcpSegment& seg);
  void SynSentInputLocked(TcpSegment& seg);
  bool AckLocked(TcpSegment& seg);
  void DataLocked(TcpSegment& seg);
  void FinLocked();
  void DeliverInOrderLocked(View data);
  void EstablishedLocked();

  // tcp_output.cc
  void SendSegmentLocked(uint8_t flags, Seq seq, size_t data_off, size_t len, bool syn_opts);
  void SendAckLocked() { SendSegmentLocked(kAck, snd_nxt_, 0, 0, false); }
  void SendRstLocked();
  void SendSynLocked();
  void OutputLocked();  // sends what the windows and Nagle allow
  void RetransmitFirstLocked();
  void OnRtoLocked(int64_t now);
  void RttSampleLocked(int64_t rtt_ns);
  void CubicLossLocked();
  void CubicAvoidanceLocked(uint32_t acked, int64_t now);
  void OnNewAckLocked(uint32_t acked, Seq ack);
  void OnDupAckLocked();
  void ArmRtoLocked();
  void AckReceivedDataLocked(bool force);
  uint16_t WindowToAdvertiseLocked();
  uint32_t RcvWindowLocked() const;
  size_t SndBufLocked() const;
  size_t RcvBufLocked() const;
  void MaybeWindowUpdateLocked();

  // tcp_endpoint.cc
  void ResetLocked(int err);  // the connection is gone (RST, timeout)
  void EnterClosedLocked();
  void EnterTimeWaitLocked();
  void QueueFinLocked();
  void AddConnLocked();
  void RemoveConnLocked();
  void AbortLocked();  // sends RST, closes
  void StopListeningLocked();
  void InitSendLocked(uint32_t mtu);
  bool ConnectedLocked() const;
  uint32_t ReadinessLocked() const;

  friend void TcpInputLocked(Stack* s, const IpInfo& ip, View pkt);

  // ---- State, guarded by stack_->mu_. ----
  TcpState state_ = TcpState::kClosed;
  FullAddress remote_;
  bool in_conns_ = false;    // in stack_->tcp_conns_
  bool user_closed_ = false;
  bool was_connected_ = false;  // reads after the end give 0, not ENOTCONN
  int error_ = 0;               // SO_ERROR
  bool shut_rd_ = false, shut_wr_ = false;
  uint8_t tos_ = 0;
  bool nodelay_ = false, cork_ = false, keepalive_ = false;
  bool linger_ = false;
  int linger_secs_ = 0;
  size_t rcvbuf_ = 0, sndbuf_ = 0;  // 0: the stack's defaults
  int user_mss_ = 0;

  // Listening.
  int backlog_ = 0;
  std::deque<std::shared_ptr<TcpEndpoint>> accept_queue_;
  std::vector<std::shared_ptr<TcpEndpoint>> embryos_;  // in SYN_RCVD
  TcpEndpoint* listener_ = nullptr;                    // for an embryo

  // Sending. snd_buf_ holds the bytes from snd_una_ on (after the SYN).
  Seq iss_ = 0, snd_una_ = 0, snd_nxt_ = 0, snd_max_ = 0;
  uint32_t snd_wnd_ = 0;  // scaled
  Seq snd_wl1_ = 0, snd_wl2_ = 0;
  int snd_wscale_ = 0;
  uint32_t mss_ = 536;  // send MSS
  ByteQueue snd_buf_;
  bool fin_queued_ = false;  // FIN follows the last byte of snd_buf_
  bool more_ = false;        // MSG_MORE on the last send

  // Receiving.
  Seq irs_ = 0, rcv_nxt_ = 0, rcv_adv_ = 0;  // rcv_adv_: right edge advertised
  int rcv_wscale_ = 0;
  uint32_t rcv_mss_ = 536;
  std::deque<View> rcv_queue_;
  size_t rcv_queued_ = 0;
  struct OutOfOrder {
    View data;
    bool fin;
  };
  // Segments beyond a hole, by stream offset (bytes since the SYN, 64
  // bits so that the order survives sequence-number wrap-around).
  std::map<uint64_t, OutOfOrder> ooo_;
  size_t ooo_bytes_ = 0;
  uint64_t rcv_off_ = 0;  // stream offset of rcv_nxt_
  bool fin_received_ = false;
  int segs_unacked_ = 0;    // in-order segments not acknowledged yet
  bool ack_now_ = false;    // the segment being processed wants an immediate ACK
  bool ws_ok_ = true;       // window scaling in use (offered, and agreed once synchronized)
  bool fin_acked_ = false;
  bool user_bound_ = false;  // bind() chose the port: it stays bound after the connection
  bool connecting_ = false;
  bool probe_sent_ = false;  // a zero-window probe byte is out  // a connect() whose result the user has not seen

  // Congestion control (NewReno) and retransmission.
  uint32_t cwnd_ = 0, ssthresh_ = 0x7fffffff;
  bool cubic_ = false;  // TCP_CONGESTION "cubic" (else NewReno)
  double cubic_wmax_ = 0, cubic_k_ = 0, cubic_origin_ = 0, cubic_west_ = 0;
  int64_t cubic_epoch_ns_ = 0;
  int dupacks_ = 0;
  bool in_recovery_ = false;
  Seq recover_ = 0;
  int64_t srtt_ns_ = 0, rttvar_ns_ = 0, rto_ns_ = 0;
  bool rtt_timing_ = false;
  Seq rtt_seq_ = 0;
  int64_t rtt_start_ns_ = 0;
  int backoff_ = 0;  // consecutive timeouts
  uint32_t total_retrans_ = 0;

  // Timers: absolute deadlines, INT64_MAX when off.
  int64_t rto_at_ = INT64_MAX, delack_at_ = INT64_MAX, close_at_ = INT64_MAX;
};

void TcpInputLocked(Stack* s, const IpInfo& ip, View pkt);

}  // namespace netstack

#endif  // NETSTACK_TCP_H_
