// The network stack: interfaces (NICs over link endpoints), IPv4/IPv6
// input and output, port reservations, and the transport endpoints
// (netstack/udp.h, netstack/tcp.h) that sockets are built on.
//
// Concurrency. One mutex, Stack::mu_, guards all protocol state: the
// tables here and every endpoint's fields. Packets between endpoints of
// this stack (loopback) are queued while mu_ is held and processed before
// the operation that produced them returns (Guard), so a sender never
// holds one endpoint's lock while entering another's and no lock order
// between endpoints exists. Readiness callbacks (Endpoint::SetNotify) and
// the timer wake-up are called after mu_ is released.
//
// Lock order: Stack::mu_ > locks taken by FillFn/DrainFn (the copy
// functions the socket layer passes to Send/Recv: the Sentry's memory
// manager) and by the link's WritePacket. Nothing under mu_ calls a
// readiness callback.
//
// Time comes from a Clock; timers are deadlines that whoever owns the
// stack runs with RunTimers (a TimerThread in the Sentry, the test itself
// with a ManualClock in unit tests).
#ifndef NETSTACK_STACK_H_
#define NETSTACK_STACK_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "netstack/address.h"
#include "netstack/buffer.h"
#include "netstack/clock.h"
#include "netstack/ip.h"
#include "netstack/link.h"

namespace netstack {

class Stack;
class TcpEndpoint;
class UdpEndpoint;

// Counters of what the stack saw; read with Stack::Stats().
struct StackStats {
  uint64_t ip_received = 0, ip_sent = 0, ip_malformed = 0, ip_bad_checksum = 0,
           ip_unsupported = 0, ip_not_local = 0, ip_no_route = 0, ip_unknown_protocol = 0;
  uint64_t udp_received = 0, udp_sent = 0, udp_malformed = 0, udp_bad_checksum = 0,
           udp_no_port = 0, udp_receive_buffer_errors = 0;
  uint64_t tcp_received = 0, tcp_sent = 0, tcp_malformed = 0, tcp_bad_checksum = 0,
           tcp_resets_sent = 0, tcp_retransmits = 0, tcp_fast_retransmits = 0, tcp_timeouts = 0,
           tcp_listen_drops = 0, tcp_active_opens = 0, tcp_passive_opens = 0;
  uint64_t icmp_received = 0, icmp_sent = 0, icmp_malformed = 0;
};

// What every transport endpoint shares: the stack, the readiness callback
// and the port it holds.
class Endpoint : public std::enable_shared_from_this<Endpoint> {
 public:
  explicit Endpoint(Stack* s, bool v6) : stack_(s), v6_(v6) {}
  virtual ~Endpoint() = default;
  Endpoint(const Endpoint&) = delete;

  // `fn` is called, with no netstack lock held, whenever the endpoint's
  // readiness may have changed.
  void SetNotify(std::function<void()> fn);
  // poll(2) bits that are ready now.
  virtual uint32_t Readiness() = 0;
  bool v6() const { return v6_; }

 //  ---- The protocol implementation's, guarded by stack_->mu_. ----
  virtual uint8_t protocol() const = 0;
  // Whether this endpoint lets `other` share its port and an overlapping
  // address (the bind conflict rules besides SO_REUSEPORT).
  virtual bool AllowsShare(const Endpoint& other) const = 0;

  Stack* const stack_;
  const bool v6_;  // AF_INET6 (else AF_INET)
  std::function<void()> notify_;
  bool notify_queued_ = false;
  bool bound_ = false;
  FullAddress local_;  // meaningful when bound_
  bool v6only_ = false;
  bool reuse_addr_ = false;
  bool reuse_port_ = false;
};

struct StackOptions {
  int64_t time_wait_ns = 60 * kSecond;     // Linux's TCP_TIMEWAIT_LEN
  int64_t fin_wait2_ns = 60 * kSecond;     // tcp_fin_timeout, for orphans
  int64_t delayed_ack_ns = 40 * kMillisecond;
  int64_t min_rto_ns = 200 * kMillisecond;  // Linux's TCP_RTO_MIN (RFC 6298 says 1 s)
  int64_t initial_rto_ns = 1 * kSecond;
  int64_t max_rto_ns = 120 * kSecond;
  int syn_retries = 6;
  int synack_retries = 5;
  int data_retries = 15;
  size_t tcp_rcvbuf = 1 << 20;
  size_t tcp_sndbuf = 1 << 20;
  size_t udp_rcvbuf = 212992;  // net.core.rmem_default
  uint16_t ephemeral_lo = 32768, ephemeral_hi = 60999;  // ip_local_port_range
};

class Stack : public InboundQueue {
 public:
  explicit Stack(Clock* clock, uint64_t seed = 1, StackOptions opts = {});
  ~Stack() override;

  // Adds an interface with its addresses. Call before the stack is used.
  void AddNic(LinkEndpoint* link, std::vector<Subnet> subnets);

  std::shared_ptr<TcpEndpoint> NewTcp(bool v6);
  std::shared_ptr<UdpEndpoint> NewUdp(bool v6);

  // A packet from a link that receives on its own thread.
  void InjectInbound(View pkt);

  // Runs the timers that are due; NextTimerNs is the earliest deadline
  // left (INT64_MAX: none). `fn` is called (without locks) when a timer is
  // armed earlier than the deadline NextTimerNs last returned.
  void RunTimers();
  int64_t NextTimerNs();
  void SetTimerWakeup(std::function<void()> fn);

  StackStats Stats();
  Clock* clock() const { return clock_; }
  const StackOptions& options() const { return opts_; }

  // ---- For the protocol implementation (endpoints), not for users. ----

  // Holds mu_; on destruction processes queued packets, releases mu_ and
  // then calls the readiness callbacks and the timer wake-up.
  class ABSL_SCOPED_LOCKABLE Guard {
   public:
    explicit Guard(Stack* s) ABSL_EXCLUSIVE_LOCK_FUNCTION(s->mu_);
    ~Guard() ABSL_UNLOCK_FUNCTION();
    Guard(const Guard&) = delete;

   private:
    Stack* s_;
  };

  absl::Mutex mu_;

  void QueueInboundLocked(View pkt) override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void QueueNotifyLocked(Endpoint* ep) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The endpoint is done with (closed, no protocol work left): dropped
  // from every table; the last reference goes after mu_ is released.
  void ReleaseLocked(std::shared_ptr<Endpoint> ep) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Keeps a TCP endpoint alive after its user closed it (FIN_WAIT, TIME_WAIT...).
  void AdoptLocked(std::shared_ptr<TcpEndpoint> ep) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DisownLocked(TcpEndpoint* ep) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A timer of some endpoint now fires at `when`.
  void TimerArmedLocked(int64_t when) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Ports. Reserve checks the bind rules against every endpoint holding
  // the port (port 0: picks an ephemeral one) and sets ep's local_. An
  // ephemeral port in use may still be taken when `shareable` says its
  // holders allow it (outgoing TCP connections to other peers, as Linux's
  // __inet_hash_connect); free ports are preferred.
  using ShareFn = std::function<bool(const std::vector<Endpoint*>& holders)>;
  int ReservePortLocked(Endpoint* ep, FullAddress want, const ShareFn& shareable = nullptr)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FreePortLocked(Endpoint* ep) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A connection accepted by a listener shares its port without the bind checks.
  void InheritPortLocked(Endpoint* child) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Endpoints of `proto` holding `port`.
  const std::vector<Endpoint*>* PortUsersLocked(uint8_t proto, uint16_t port)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether `ep` conflicts with another holder of its port (bind rules).
  bool PortConflictLocked(const Endpoint* ep) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Addresses and routes.
  bool IsLocalLocked(const Address& a) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The source address and MTU for reaching dst; false: no route.
  bool RouteLocked(const Address& dst, Address* src, uint32_t* mtu)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sends the transport bytes in `b` as an IP packet. Returns 0 or an errno.
  int SendIpLocked(PacketBuilder&& b, const IpInfo& info) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Connected TCP endpoints by (local, remote).
  struct ConnKey {
    FullAddress local, remote;
    bool operator==(const ConnKey& o) const { return local == o.local && remote == o.remote; }
    template <typename H>
    friend H AbslHashValue(H h, const ConnKey& k) {
      return H::combine(std::move(h), k.local, k.remote);
    }
  };
  absl::flat_hash_map<ConnKey, TcpEndpoint*> tcp_conns_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<TcpEndpoint*> tcp_all_ ABSL_GUARDED_BY(mu_);  // for timers
  StackStats stats_ ABSL_GUARDED_BY(mu_);
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);

 private:
  struct Nic {
    LinkEndpoint* link;
    std::vector<Subnet> subnets;
  };
  void ProcessInboundLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DeliverLocked(View pkt) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  const Nic* NicForLocked(const Address& dst) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Clock* const clock_;
  const StackOptions opts_;
  std::vector<Nic> nics_ ABSL_GUARDED_BY(mu_);
  std::deque<View> inbound_ ABSL_GUARDED_BY(mu_);
  bool processing_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<Endpoint*> notify_ ABSL_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<Endpoint>> graveyard_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<TcpEndpoint*, std::shared_ptr<TcpEndpoint>> orphans_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint32_t, std::vector<Endpoint*>> ports_ ABSL_GUARDED_BY(mu_);  // proto<<16|port
  uint16_t ip_id_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t reported_deadline_ ABSL_GUARDED_BY(mu_) = INT64_MAX;
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  std::function<void()> wakeup_ ABSL_GUARDED_BY(mu_);
};

}  // namespace netstack

#endif  // NETSTACK_STACK_H_
