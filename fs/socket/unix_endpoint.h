// The state of one Unix domain socket, apart from its file: what peers,
// listeners and the name registry point at. A socket's file
// (unix_socket.cc) owns its endpoint and closes it when the last fd goes;
// peers only keep the endpoint object, so a peer never keeps a file open.
//
// Data moves as messages into the receiver's queue. The bytes a socket
// sent and nobody has read yet count against the sender's SO_SNDBUF
// (Linux's sk_wmem_alloc), and reading them wakes the sender (POLLOUT),
// which gives stream, seqpacket and datagram sockets Linux's flow control
// without a second buffer per direction.
//
// Lock order: at most one Endpoint::mu_ is held at a time, except that a
// connecting socket's mu_ is never held while taking a listener's (the
// connect path locks them one after the other). WaitQueue locks are
// leaves; wakeups are sent after mu_ is released.
#ifndef FS_SOCKET_UNIX_ENDPOINT_H_
#define FS_SOCKET_UNIX_ENDPOINT_H_

#include <sys/socket.h>

#include <atomic>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "fs/socket/socket.h"
#include "sentry/base/waiter.h"

namespace sentry::vfs::unixsock {

// net.core.wmem_default and wmem_max: the default and largest SO_SNDBUF.
inline constexpr int kDefaultBuf = 212992;
inline constexpr int kMaxBuf = 212992;
inline constexpr int kMinBuf = 4608;  // SOCK_MIN_SNDBUF on x86-64
// net.unix.max_dgram_qlen: datagrams queued for one receiver from
// senders that are not its connected peer.
inline constexpr size_t kMaxDgramQlen = 10;
inline constexpr int kSomaxconn = 4096;

class Endpoint;
using EndpointPtr = std::shared_ptr<Endpoint>;

struct Message {
  std::string data;
  size_t off = 0;  // bytes a stream reader already took
  std::vector<std::shared_ptr<FileDescription>> rights;
  struct ucred creds = {};  // the sender's, or what SCM_CREDENTIALS said
  SockAddr from;            // the sender's name (len 0: unbound)
  std::weak_ptr<Endpoint> sender;
};

enum class State { kUnconnected, kConnecting, kListening, kConnected, kClosed };

class Endpoint : public std::enable_shared_from_this<Endpoint> {
 public:
  Endpoint(int type, struct ucred owner) : type_(type), owner_(owner) {}
  ~Endpoint();

  int type() const { return type_; }
  bool connection_based() const { return type_ != SOCK_DGRAM; }
  const struct ucred& owner() const { return owner_; }

  // Connects this side to `peer` (socketpair, accept, connect), with the
  // credentials SO_PEERCRED reports.
  void Attach(const EndpointPtr& peer, struct ucred peer_cred);

  // --- naming (unix_socket.cc keeps the registry; this only records) ---
  std::optional<SockAddr> name();
  // Records the bound name; false if already bound (EINVAL).
  bool SetName(const SockAddr& a);

  // --- connections ---
  Errno Listen(int backlog);
  // Queues `server`, the new end of a connection, on this listener. EAGAIN
  // when the backlog is full, ECONNREFUSED when not listening.
  Errno Enqueue(const EndpointPtr& server);
  ErrorOr<EndpointPtr> Dequeue();  // accept: EAGAIN when nothing waits
  // Datagram connect: remembers `peer` (null disconnects).
  void SetDgramPeer(const EndpointPtr& peer);
  // Stream connect runs BeginConnect (EISCONN, EALREADY, EINVAL), then
  // Attach on success or AbortConnect.
  Errno BeginConnect();
  void AbortConnect();
  EndpointPtr peer();
  std::optional<struct ucred> peer_cred();
  State state();

  // --- data ---
  // Whether `sender` may queue a message here now: EPIPE/ECONNREFUSED
  // when this side is gone, EAGAIN when a datagram queue is full.
  Errno CheckDeliver(const EndpointPtr& sender, size_t size);
  // Queues `m`; its bytes count against `sender`'s send buffer.
  void Deliver(Message m, const EndpointPtr& sender);
  // Reads into `dst`. Fills `out` (rights, creds, sender's name) and the
  // msg_flags bits.
  SysRet Receive(IOSequence& dst, int flags, Message* out, int* msg_flags);
  size_t InQueue();  // FIONREAD: stream bytes, or the next datagram's size
  int64_t in_flight() const { return inflight_.load(); }
  // Datagram: whether `sender` could queue a datagram here now.
  bool RoomFor(const EndpointPtr& sender);

  Errno Shutdown(int how);
  bool send_shut();
  // The last file reference went away. `embryo`: a connection closed
  // before anyone accepted it.
  void Close(bool embryo = false);

  // --- options ---
  int sndbuf() const { return sndbuf_.load(); }
  int rcvbuf() const { return rcvbuf_.load(); }
  void set_sndbuf(int v) { sndbuf_ = v; }
  void set_rcvbuf(int v) { rcvbuf_ = v; }
  bool passcred() const { return passcred_.load(); }
  void set_passcred(bool v) { passcred_ = v; }
  int TakeError();
  bool listening() { return state() == State::kListening; }

  // --- readiness ---
  uint32_t Readiness(uint32_t mask);
  void Register(Waiter* w, uint32_t mask);
  void Unregister(Waiter* w);
  // A send or connect found `target` full: wait for room there too.
  void WaitForRoomIn(const EndpointPtr& target);
  void Notify(uint32_t events) { wq_.Notify(events); }

  // Registry bookkeeping (unix_socket.cc).
  std::string registry_key;

 private:
  // Returns bytes back to the sender's send buffer.
  static void Release(const Message& m);
  // The connected peer went away (its last file closed).
  void PeerClosed(bool reset);

  const int type_;
  const struct ucred owner_;

  absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_) = State::kUnconnected;
  EndpointPtr peer_ ABSL_GUARDED_BY(mu_);
  std::optional<struct ucred> peer_cred_ ABSL_GUARDED_BY(mu_);
  std::optional<SockAddr> name_ ABSL_GUARDED_BY(mu_);
  std::deque<EndpointPtr> pending_ ABSL_GUARDED_BY(mu_);  // embryos to accept
  int backlog_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<Message> queue_ ABSL_GUARDED_BY(mu_);
  size_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  size_t foreign_dgrams_ ABSL_GUARDED_BY(mu_) = 0;  // queued from non-peers
  // Linux's sk_shutdown: RCV (nothing more will arrive) and SEND.
  bool rcv_shut_ ABSL_GUARDED_BY(mu_) = false;
  bool snd_shut_ ABSL_GUARDED_BY(mu_) = false;
  int err_ ABSL_GUARDED_BY(mu_) = 0;
  EndpointPtr wait_target_ ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<Waiter*, EndpointPtr>> target_waits_ ABSL_GUARDED_BY(mu_);

  std::atomic<int64_t> inflight_{0};
  std::atomic<int> sndbuf_{kDefaultBuf}, rcvbuf_{kDefaultBuf};
  std::atomic<bool> passcred_{false};
  WaitQueue wq_;
  // Notified when room appears in this endpoint (accepts, dgram reads):
  // for other sockets' senders and connectors waiting on it.
  WaitQueue room_wq_;
};

}  // namespace sentry::vfs::unixsock

#endif  // FS_SOCKET_UNIX_ENDPOINT_H_
