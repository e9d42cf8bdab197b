#include "gofer/wire.h"

#include <errno.h>
#include <sys/socket.h>

#include <cstring>

#include "google/protobuf/message_lite.h"

namespace gofer {

int SendMessage(int sock, const google::protobuf::MessageLite& m, const int* fds, size_t nfds,
                bool nonblocking) {
  if (nfds > kMaxFdsPerMessage) return EINVAL;
  std::string buf;
  if (!m.SerializeToString(&buf)) return EINVAL;
  if (buf.size() > kMaxMessageSize) return EMSGSIZE;
  struct iovec iov = {buf.data(), buf.size()};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(kMaxFdsPerMessage * sizeof(int))];
  if (nfds > 0) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
    memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
  }
  for (;;) {
    ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL | (nonblocking ? MSG_DONTWAIT : 0));
    if (n >= 0) return static_cast<size_t>(n) == buf.size() ? 0 : EIO;
    if (errno != EINTR) return errno;
  }
}

int RecvDatagram(int sock, std::string* buf, std::vector<UniqueFd>* fds) {
  // One byte more than the limit, so an oversized datagram shows as
  // MSG_TRUNC rather than as a valid-looking prefix.
  buf->resize(kMaxMessageSize + 1);
  struct iovec iov = {buf->data(), buf->size()};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  // Room for more fds than we accept, so a sender that attaches too many
  // is caught (MSG_CTRUNC still closes what did not fit).
  alignas(struct cmsghdr) char control[CMSG_SPACE(4 * kMaxFdsPerMessage * sizeof(int))];
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  do {
    n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno;

  std::vector<UniqueFd> got;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      got.emplace_back(fd);
    }
  }
  if (n == 0 && got.empty()) return ECONNRESET;
  if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || got.size() > kMaxFdsPerMessage ||
      static_cast<size_t>(n) > kMaxMessageSize) {
    return EMSGSIZE;  // `got` closes whatever came along
  }
  buf->resize(static_cast<size_t>(n));
  for (auto& f : got) fds->push_back(std::move(f));
  return 0;
}

}  // namespace gofer
