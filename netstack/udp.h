// UDP (RFC 768) endpoints: datagrams with their source addresses, message
// boundaries, a receive buffer limit, connect() as a default destination
// and source filter, and ICMP port-unreachable errors on connected
// endpoints (ECONNREFUSED), as Linux reports them.
//
// Every public method takes the stack lock (netstack/stack.h); the fill
// and drain functions of SendTo/Recv are called with it held.
#ifndef NETSTACK_UDP_H_
#define NETSTACK_UDP_H_

#include <deque>

#include "netstack/byte_queue.h"
#include "netstack/stack.h"

namespace netstack {

inline constexpr size_t kUdpHeaderLen = 8;

class UdpEndpoint : public Endpoint {
 public:
  UdpEndpoint(Stack* s, bool v6) : Endpoint(s, v6) {}
  // Gives the port back if Close was never called. Never runs under the
  // stack lock: the stack holds no references to UDP endpoints.
  ~UdpEndpoint() override;

  // 0 or EINVAL (already bound), EADDRNOTAVAIL, EADDRINUSE.
  int Bind(FullAddress addr);
  // Sets the peer (null: dissolves the association, like AF_UNSPEC).
  int Connect(const FullAddress* peer);
  // One datagram of n bytes that `fill` provides, to `to` or the peer.
  // Returns n or -errno (EDESTADDRREQ, EMSGSIZE, ENETUNREACH, EPIPE, ...).
  int64_t SendTo(const FullAddress* to, size_t n, const FillFn& fill);
  // The first queued datagram: up to n bytes go to `drain`; `*full_len`
  // gets its real size (MSG_TRUNC), `*from` its source; `peek` keeps it
  // queued. Returns bytes copied, -EAGAIN when empty, or a pending error.
  int64_t Recv(size_t n, const DrainFn& drain, bool peek, FullAddress* from, size_t* full_len);
  int Shutdown(int how);  // SHUT_RD/SHUT_WR/SHUT_RDWR; ENOTCONN when not connected
  void Close();

  uint32_t Readiness() override;
  int TakeError();  // SO_ERROR
  FullAddress LocalAddress();
  int RemoteAddress(FullAddress* out);  // ENOTCONN
  size_t NextDatagramSize();  // FIONREAD
  int SetV6Only(bool on);     // EINVAL once bound
  bool V6Only();
  void SetReuseAddr(bool on);
  void SetReusePort(bool on);
  bool ReuseAddr();
  bool ReusePort();
  void SetRcvBuf(size_t bytes);
  size_t RcvBuf();
  void SetTos(uint8_t tos);
  uint8_t Tos();

  // Input from the stack.
  void DeliverLocked(const IpInfo& ip, uint16_t sport, View payload);
  void IcmpErrorLocked(int err);
  bool MatchesLocked(const IpInfo& ip, uint16_t sport, int* score);

  uint8_t protocol() const override { return 17; }
  bool AllowsShare(const Endpoint& other) const override {
    return reuse_addr_ && other.reuse_addr_;
  }

 private:
  int AutoBindLocked();
  struct Datagram {
    View payload;
    FullAddress from;
  };
  // Guarded by stack_->mu_.
  bool connected_ = false;
  FullAddress remote_;
  bool addr_from_connect_ = false;  // local address chosen by connect, not bind
  bool port_from_connect_ = false;
  bool shut_rd_ = false, shut_wr_ = false;
  int error_ = 0;
  uint8_t tos_ = 0;
  size_t rcvbuf_ = 0;  // 0: the stack's default
  size_t queued_ = 0;
  std::deque<Datagram> queue_;
};

// Protocol input: called by the stack for every UDP packet to a local address.
void UdpInputLocked(Stack* s, const IpInfo& ip, View pkt);
// Sends bytes as a UDP packet; used by SendTo.
int UdpSendLocked(Stack* s, const IpInfo& ip, uint16_t sport, uint16_t dport, size_t n,
                  const FillFn& fill);

}  // namespace netstack

#endif  // NETSTACK_UDP_H_
