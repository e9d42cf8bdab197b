// The socket file interface every socket family implements (Unix sockets
// in fs/socket/unix*.cc, IPv4/IPv6 over netstack/ in fs/socket/inet*.cc).
//
// The syscall layer (syscalls/socket.cc) owns everything that is the same
// for all families: copying addresses, iovecs and control messages in and
// out, blocking with O_NONBLOCK / MSG_DONTWAIT / SO_RCVTIMEO / SO_SNDTIMEO
// and signals, stream send/recv loops (MSG_WAITALL), SIGPIPE, and the
// SOL_SOCKET options that only describe the socket (SO_TYPE, SO_DOMAIN,
// SO_PROTOCOL, SO_RCVTIMEO, SO_SNDTIMEO). Families implement the rest.
//
// As for every FileDescription (fs/vfs/file.h), no operation here blocks:
// an operation that would wait returns EAGAIN (connect: EINPROGRESS) and
// the syscall layer waits on the file's readiness, then tries again.
#ifndef FS_SOCKET_SOCKET_H_
#define FS_SOCKET_SOCKET_H_

#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "fs/vfs/file.h"

namespace sentry::vfs {

// A socket address as bytes, as the program passed it or as it is to be
// returned (sockaddr_un, sockaddr_in, sockaddr_in6, sockaddr_nl ...).
struct SockAddr {
  sockaddr_storage ss{};
  uint32_t len = 0;  // bytes of ss in use
  int family() const { return len >= sizeof(sa_family_t) ? ss.ss_family : AF_UNSPEC; }
};

// Ancillary data of one sendmsg/recvmsg. SCM_RIGHTS and SCM_CREDENTIALS
// are decoded by the syscall layer; every other control message a family
// produces on receive (IP_PKTINFO, IP_TOS, SO_TIMESTAMP, ...) it encodes
// itself into `encoded` (whole cmsghdr records, CMSG_ALIGNed).
struct ControlMessages {
  std::vector<std::shared_ptr<FileDescription>> rights;  // SCM_RIGHTS
  std::optional<struct ucred> creds;                     // SCM_CREDENTIALS
  std::vector<uint8_t> encoded;
  bool empty() const { return rights.empty() && !creds && encoded.empty(); }
};

class SocketFile : public FileDescription {
 public:
  virtual int Family() const = 0;
  virtual int Type() const = 0;  // SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_RAW
  virtual int Protocol() const { return 0; }

  virtual Errno Bind(Task* t, const SockAddr& addr) = 0;
  virtual Errno Listen(Task* t, int backlog) = 0;
  // A connected socket from the accept queue, or EAGAIN. `flags` are the
  // new file's status flags (O_NONBLOCK from SOCK_NONBLOCK). `peer` gets
  // the peer's address.
  virtual ErrorOr<std::shared_ptr<FileDescription>> Accept(Task* t, uint32_t flags,
                                                           SockAddr* peer) = 0;
  // Starts connecting. 0: connected; EINPROGRESS: the caller waits for
  // POLLOUT (unless non-blocking) and then calls FinishConnect; EAGAIN:
  // nothing started (e.g. a full Unix backlog), try again when POLLOUT.
  virtual Errno Connect(Task* t, const SockAddr& addr) = 0;
  // After an EINPROGRESS connect became writable: 0 or the error (taken,
  // like SO_ERROR).
  virtual Errno FinishConnect() { return 0; }
  virtual Errno Shutdown(int how) = 0;

  // One non-blocking send or receive. A stream send returns what it
  // queued (the syscall layer loops for blocking sends); EAGAIN when
  // nothing fit. `to` is null when the caller gave no address. Send takes
  // what it carries out of `ctl` (rights are passed once per message).
  // Recv fills `from` (len 0: no address to report), `ctl` and the MSG_*
  // bits for msg_flags (MSG_TRUNC, MSG_CTRUNC, MSG_EOR, MSG_OOB ...).
  virtual SysRet SendMsg(Task* t, IOSequence& src, int flags, const SockAddr* to,
                         ControlMessages* ctl) = 0;
  virtual SysRet RecvMsg(Task* t, IOSequence& dst, int flags, SockAddr* from,
                         ControlMessages* ctl, int* msg_flags) = 0;

  virtual ErrorOr<SockAddr> SockName() = 0;
  virtual ErrorOr<SockAddr> PeerName() = 0;  // ENOTCONN when not connected

  // Options other than those the syscall layer answers. `len` is the
  // caller's buffer size; the result is what to copy out (the caller
  // truncates to len). ENOPROTOOPT for unknown options.
  virtual ErrorOr<std::vector<uint8_t>> GetSockOpt(Task* t, int level, int name,
                                                   uint32_t len) = 0;
  virtual Errno SetSockOpt(Task* t, int level, int name, const std::vector<uint8_t>& val) = 0;

  // SO_RCVTIMEO / SO_SNDTIMEO, kept here because the syscall layer waits.
  absl::Duration recv_timeout() const { return absl::Nanoseconds(rcv_timeout_ns_.load()); }
  absl::Duration send_timeout() const { return absl::Nanoseconds(snd_timeout_ns_.load()); }
  void set_recv_timeout(absl::Duration d) { rcv_timeout_ns_ = absl::ToInt64Nanoseconds(d); }
  void set_send_timeout(absl::Duration d) { snd_timeout_ns_ = absl::ToInt64Nanoseconds(d); }

  // Sockets are not seekable and have no positional I/O.
  SysRet PRead(Task*, IOSequence&, int64_t) override { return SysRet::Err(ESPIPE); }
  SysRet PWrite(Task*, IOSequence&, int64_t) override { return SysRet::Err(ESPIPE); }
  ErrorOr<int64_t> Seek(int64_t, int) override { return Err(ESPIPE); }
  bool seekable() const override { return false; }

 private:
  std::atomic<int64_t> rcv_timeout_ns_{0};  // 0: no timeout
  std::atomic<int64_t> snd_timeout_ns_{0};
};

// What every family shares: read/write as recv/send without flags or
// address, the socket inode's stat, and the SOL_SOCKET options that are
// only remembered (SO_REUSEADDR, SO_KEEPALIVE, SO_LINGER, ...). Families
// derive from this rather than from SocketFile directly.
class SocketBase : public SocketFile {
 public:
  SysRet Read(Task* t, IOSequence& dst) override;
  SysRet Write(Task* t, IOSequence& src) override;
  ErrorOr<Attr> Stat() override;
  std::string AnonName() const override;
  // An int as getsockopt returns it.
  static std::vector<uint8_t> IntBytes(int v);

 protected:
  // `uid`/`gid`: the creator's, shown by fstat.
  SocketBase(uint32_t uid, uint32_t gid);
  uint64_t ino() const { return ino_; }
  // SOL_SOCKET options stored as given and read back: ENOPROTOOPT when
  // `name` is not one of them, EINVAL for a too short value.
  ErrorOr<std::vector<uint8_t>> GetStoredOption(int name);
  Errno SetStoredOption(int name, const std::vector<uint8_t>& val);

 private:
  const uint64_t ino_;
  const uint32_t uid_, gid_;
  const struct timespec created_;
  absl::Mutex opt_mu_;
  std::vector<std::pair<int, std::vector<uint8_t>>> stored_ ABSL_GUARDED_BY(opt_mu_);
};

// Reads an int option value (setsockopt): EINVAL when shorter than an int.
ErrorOr<int> OptionInt(const std::vector<uint8_t>& val);

// The filesystem socket inodes belong to (st_dev of every socket).
Filesystem& SockFs();

}  // namespace sentry::vfs

#endif  // FS_SOCKET_SOCKET_H_
