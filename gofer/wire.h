// Framing of the gofer protocol (gofer.proto) on a SOCK_SEQPACKET socket:
// one datagram per message, host fds attached with SCM_RIGHTS. Shared by
// the Gofer server and the Sentry's client; no allocation beyond the
// message buffer, no locks (callers serialize use of one socket).
#ifndef GOFER_WIRE_H_
#define GOFER_WIRE_H_

#include <unistd.h>

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace google::protobuf {
class MessageLite;
}

namespace gofer {

// Both sides refuse larger datagrams. Big enough for a 64 KiB xattr value
// or a page of directory entries, small enough for the default unix
// socket send buffer (net.core.wmem_default, ~208 KiB).
inline constexpr size_t kMaxMessageSize = 128 * 1024;
// No message carries more than this many descriptors.
inline constexpr size_t kMaxFdsPerMessage = 4;

// Owns one host fd.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    reset(o.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// Sends `m` with `fds` attached (not closed). Returns 0 or an errno
// (EPIPE when the peer is gone; SIGPIPE is never raised). `nonblocking`
// (the server) fails with EAGAIN rather than wait for a peer that does
// not read its responses.
int SendMessage(int sock, const google::protobuf::MessageLite& m, const int* fds, size_t nfds,
                bool nonblocking = false);

// Receives one datagram into `buf` and the fds that came with it (opened
// O_CLOEXEC). Returns 0; ECONNRESET at end of stream (SEQPACKET cannot
// tell a zero-length datagram from the end, and neither side ever sends
// one: every message has a nonzero id); EMSGSIZE for a datagram longer
// than kMaxMessageSize or with too many fds (all it carried is dropped);
// or another errno.
int RecvDatagram(int sock, std::string* buf, std::vector<UniqueFd>* fds);

}  // namespace gofer

#endif  // GOFER_WIRE_H_
