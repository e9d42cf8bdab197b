// Socket syscalls: what is the same for every family (fs/socket/socket.h).
// Addresses, iovecs and control messages are copied here; blocking with
// O_NONBLOCK, MSG_DONTWAIT, SO_RCVTIMEO/SO_SNDTIMEO and signals happens
// here; the families only ever answer "not now" (EAGAIN, EINPROGRESS).
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

#include "fs/socket/inet.h"
#include "fs/socket/socket.h"
#include "fs/socket/unix.h"
#include "fs/vfs/iosequence.h"
#include "syscalls/handlers.h"
#include "syscalls/util.h"

namespace sentry::sys {
namespace {

using vfs::ControlMessages;
using vfs::SockAddr;
using vfs::SocketFile;

constexpr int kScmMaxFd = 253;          // SCM_MAX_FD
constexpr uint64_t kOptmemMax = 131072;  // net.core.optmem_max

ErrorOr<std::pair<FilePtr, SocketFile*>> GetSocket(Task& t, int fd) {
  FilePtr f = TRY_ASSIGN(GetFile(t, fd));
  auto* s = dynamic_cast<SocketFile*>(f.get());
  if (s == nullptr) return Err(ENOTSOCK);
  return std::make_pair(std::move(f), s);
}

ErrorOr<SockAddr> CopyInAddr(Task& t, uint64_t addr, uint64_t len) {
  // move_addr_to_kernel
  if (static_cast<int32_t>(len) < 0 || len > sizeof(sockaddr_storage)) return Err(EINVAL);
  SockAddr a;
  a.len = static_cast<uint32_t>(len);
  if (len > 0) TRY(t.CopyInBytes(UserAddr(addr), &a.ss, len));
  return a;
}

// move_addr_to_user: as much of the address as fits, and its full length.
Errno CopyOutAddr(Task& t, const SockAddr& a, uint64_t addr, uint64_t addrlen_addr) {
  if (addr == 0 || addrlen_addr == 0) return 0;
  uint32_t len;
  TRY(t.CopyIn(UserPtr<uint32_t>(addrlen_addr), &len));
  if (static_cast<int32_t>(len) < 0) return EINVAL;
  uint32_t n = std::min(len, a.len);
  if (n > 0) TRY(t.CopyOutBytes(UserAddr(addr), &a.ss, n));
  return t.CopyOut(UserPtr<uint32_t>(addrlen_addr), a.len);
}

absl::Time Deadline(absl::Duration timeout) {
  return timeout == absl::ZeroDuration() ? absl::InfiniteFuture() : absl::Now() + timeout;
}

// Waits for `events` on `s` retrying `attempt`, the way sockets block:
// a timeout (SO_RCVTIMEO/SO_SNDTIMEO) ends in EAGAIN, and a signal
// restarts the call only when there is no timeout (sock_intr_errno).
SysRet Wait(Task& t, SocketFile* s, uint32_t events, bool nowait, absl::Duration timeout,
            const std::function<SysRet()>& attempt) {
  if (nowait) return attempt();
  SysRet r = t.BlockOnFile(s, events, attempt, Deadline(timeout));
  if (r.error() == ETIMEDOUT) return SysRet::Err(EAGAIN);
  if (r.error() == ERESTARTSYS && timeout != absl::ZeroDuration()) return SysRet::Err(EINTR);
  return r;
}

// One sendmsg: stream sockets block until everything is queued (or a
// signal, timeout or error stops them with what was done).
SysRet DoSend(Task& t, SocketFile* s, IOSequence& io, int flags, const SockAddr* to,
              ControlMessages* ctl) {
  const bool nowait = (flags & MSG_DONTWAIT) || s->nonblocking();
  auto attempt = [&] { return s->SendMsg(&t, io, flags, to, ctl); };
  SysRet r = Wait(t, s, POLLOUT, nowait, s->send_timeout(), attempt);
  if (!nowait && s->Type() == SOCK_STREAM && r.ok() && r.value() > 0) {
    int64_t total = r.value();
    while (io.remaining() > 0) {
      SysRet more = Wait(t, s, POLLOUT, false, s->send_timeout(), attempt);
      if (!more.ok() || more.value() == 0) break;
      total += more.value();
    }
    r = total;
  }
  if (r.error() == EPIPE && !(flags & MSG_NOSIGNAL)) RaiseOnSelf(t, SIGPIPE);
  return r;
}

SysRet DoRecv(Task& t, SocketFile* s, IOSequence& io, int flags, SockAddr* from,
              ControlMessages* ctl, int* msg_flags) {
  if (flags & MSG_ERRQUEUE) return SysRet::Err(EAGAIN);  // nothing is ever queued there
  const bool nowait = (flags & MSG_DONTWAIT) || s->nonblocking();
  auto attempt = [&] { return s->RecvMsg(&t, io, flags, from, ctl, msg_flags); };
  SysRet r = Wait(t, s, POLLIN, nowait, s->recv_timeout(), attempt);
  // MSG_WAITALL: a stream read waits for all of it (or EOF, or a signal).
  if ((flags & MSG_WAITALL) && !(flags & MSG_PEEK) && !nowait && s->Type() == SOCK_STREAM &&
      r.ok() && r.value() > 0) {
    int64_t total = r.value();
    while (io.remaining() > 0) {
      ControlMessages more_ctl;  // rights stop a read; none follow here
      auto more_attempt = [&] {
        return s->RecvMsg(&t, io, flags, nullptr, &more_ctl, msg_flags);
      };
      SysRet more = Wait(t, s, POLLIN, false, s->recv_timeout(), more_attempt);
      if (!more.ok() || more.value() == 0) break;
      total += more.value();
    }
    r = total;
  }
  return r;
}

// --- control messages ---

// Decodes sendmsg's msg_control: SCM_RIGHTS and SCM_CREDENTIALS for Unix
// sockets; everything else is passed to the family as it came.
Errno DecodeControl(Task& t, SocketFile* s, uint64_t addr, uint64_t len, ControlMessages* out) {
  if (len == 0) return 0;
  if (len > kOptmemMax) return ENOBUFS;
  if (len < sizeof(struct cmsghdr)) return EINVAL;
  std::vector<uint8_t> buf(len);
  TRY(t.CopyInBytes(UserAddr(addr), buf.data(), len));
  size_t off = 0;
  while (off + sizeof(struct cmsghdr) <= len) {
    struct cmsghdr h;
    std::memcpy(&h, buf.data() + off, sizeof(h));
    if (h.cmsg_len < sizeof(h) || h.cmsg_len > len - off) return EINVAL;
    const uint8_t* data = buf.data() + off + CMSG_LEN(0);
    size_t dlen = h.cmsg_len - CMSG_LEN(0);
    if (h.cmsg_level == SOL_SOCKET && s->Family() == AF_UNIX) {
      if (h.cmsg_type == SCM_RIGHTS) {
        size_t n = dlen / sizeof(int);
        if (out->rights.size() + n > kScmMaxFd) return EINVAL;
        for (size_t i = 0; i < n; ++i) {
          int fd;
          std::memcpy(&fd, data + i * sizeof(int), sizeof(fd));
          auto f = t.fds()->Get(fd);
          if (!f) return EBADF;
          out->rights.push_back(std::move(f));
        }
      } else if (h.cmsg_type == SCM_CREDENTIALS) {
        if (h.cmsg_len != CMSG_LEN(sizeof(struct ucred))) return EINVAL;
        struct ucred c;
        std::memcpy(&c, data, sizeof(c));
        out->creds = c;
      } else {
        return EINVAL;
      }
    } else {
      out->encoded.insert(out->encoded.end(), buf.begin() + off, buf.begin() + off + h.cmsg_len);
    }
    off += CMSG_ALIGN(h.cmsg_len);
  }
  return 0;
}

// Builds recvmsg's msg_control into a buffer of `cap` bytes: credentials,
// then rights (installed as fds here), then the family's own messages;
// whatever does not fit sets MSG_CTRUNC, and rights that do not fit are
// closed (scm_detach_fds).
std::vector<uint8_t> EncodeControl(Task& t, ControlMessages& ctl, size_t cap, bool cloexec,
                                   int* msg_flags) {
  std::vector<uint8_t> out;
  auto put = [&](int level, int type, const void* data, size_t n) {
    size_t room = cap - out.size();
    if (room < sizeof(struct cmsghdr)) {
      *msg_flags |= MSG_CTRUNC;
      return;
    }
    size_t cmlen = CMSG_LEN(n);
    if (room < cmlen) {
      *msg_flags |= MSG_CTRUNC;
      cmlen = room;
    }
    struct cmsghdr h = {};
    h.cmsg_len = cmlen;
    h.cmsg_level = level;
    h.cmsg_type = type;
    size_t start = out.size();
    out.resize(start + std::min(CMSG_SPACE(n), room), 0);
    std::memcpy(out.data() + start, &h, sizeof(h));
    std::memcpy(out.data() + start + CMSG_LEN(0), data, cmlen - CMSG_LEN(0));
  };
  if (ctl.creds) put(SOL_SOCKET, SCM_CREDENTIALS, &*ctl.creds, sizeof(struct ucred));
  if (!ctl.rights.empty()) {
    size_t room = cap - out.size();
    size_t fit = room > CMSG_LEN(0) ? (room - CMSG_LEN(0)) / sizeof(int) : 0;
    std::vector<int> fds;
    uint64_t lim = t.tg()->limits.Cur(RLIMIT_NOFILE);
    for (size_t i = 0; i < ctl.rights.size() && fds.size() < fit; ++i) {
      auto fd = t.fds()->Add(ctl.rights[i], cloexec, 0, lim);
      if (!fd.ok()) break;
      fds.push_back(*fd);
    }
    if (fds.size() < ctl.rights.size()) *msg_flags |= MSG_CTRUNC;
    if (!fds.empty()) put(SOL_SOCKET, SCM_RIGHTS, fds.data(), fds.size() * sizeof(int));
    ctl.rights.clear();  // the ones not installed are closed
  }
  for (size_t off = 0; off + sizeof(struct cmsghdr) <= ctl.encoded.size();) {
    struct cmsghdr h;
    std::memcpy(&h, ctl.encoded.data() + off, sizeof(h));
    put(h.cmsg_level, h.cmsg_type, ctl.encoded.data() + off + CMSG_LEN(0),
        h.cmsg_len - CMSG_LEN(0));
    off += CMSG_ALIGN(h.cmsg_len);
  }
  return out;
}

struct MsgHeader {
  struct msghdr h;
  std::vector<IoVec> iovs;
};
ErrorOr<MsgHeader> CopyInMsg(Task& t, uint64_t addr) {
  MsgHeader m;
  TRY(t.CopyInBytes(UserAddr(addr), &m.h, sizeof(m.h)));
  m.iovs = TRY_ASSIGN(CopyInIovecs(t, reinterpret_cast<uint64_t>(m.h.msg_iov), m.h.msg_iovlen));
  return m;
}

SysRet SendMsgAt(Task& t, SocketFile* s, uint64_t msg_addr, int flags) {
  MsgHeader m = TRY_ASSIGN(CopyInMsg(t, msg_addr));
  std::optional<SockAddr> to;
  if (m.h.msg_name != nullptr && m.h.msg_namelen != 0) {
    to = TRY_ASSIGN(CopyInAddr(t, reinterpret_cast<uint64_t>(m.h.msg_name), m.h.msg_namelen));
  }
  ControlMessages ctl;
  TRY(DecodeControl(t, s, reinterpret_cast<uint64_t>(m.h.msg_control), m.h.msg_controllen, &ctl));
  UserIOSequence io(t.mm(), std::move(m.iovs));
  return DoSend(t, s, io, flags, to ? &*to : nullptr, &ctl);
}

SysRet RecvMsgAt(Task& t, SocketFile* s, uint64_t msg_addr, int flags) {
  MsgHeader m = TRY_ASSIGN(CopyInMsg(t, msg_addr));
  // copy_msghdr_from_user: checked before anything is received.
  if (static_cast<int32_t>(m.h.msg_namelen) < 0) return SysRet::Err(EINVAL);
  UserIOSequence io(t.mm(), std::move(m.iovs));
  SockAddr from;
  ControlMessages ctl;
  int msg_flags = 0;
  SysRet r = DoRecv(t, s, io, flags & ~MSG_CMSG_CLOEXEC, &from, &ctl, &msg_flags);
  if (!r.ok()) return r;
  if (m.h.msg_name != nullptr) {
    uint32_t n = std::min<uint32_t>(static_cast<uint32_t>(m.h.msg_namelen), from.len);
    if (n > 0) TRY(t.CopyOutBytes(UserAddr(reinterpret_cast<uint64_t>(m.h.msg_name)), &from.ss, n));
  }
  m.h.msg_namelen = from.len;
  size_t cap = m.h.msg_control == nullptr ? 0 : m.h.msg_controllen;
  std::vector<uint8_t> c = EncodeControl(t, ctl, cap, flags & MSG_CMSG_CLOEXEC, &msg_flags);
  if (!c.empty()) {
    TRY(t.CopyOutBytes(UserAddr(reinterpret_cast<uint64_t>(m.h.msg_control)), c.data(), c.size()));
  }
  m.h.msg_controllen = c.size();
  m.h.msg_flags = msg_flags;
  TRY(t.CopyOutBytes(UserAddr(msg_addr), &m.h, sizeof(m.h)));
  return r;
}

ErrorOr<std::vector<uint8_t>> TimeoutBytes(absl::Duration d) {
  struct timeval tv = absl::ToTimeval(d);
  std::vector<uint8_t> b(sizeof(tv));
  std::memcpy(b.data(), &tv, sizeof(tv));
  return b;
}

Errno SetTimeout(SocketFile* s, bool recv, const std::vector<uint8_t>& val) {
  struct timeval tv;
  if (val.size() < sizeof(tv)) return EINVAL;
  std::memcpy(&tv, val.data(), sizeof(tv));
  if (tv.tv_usec < 0 || tv.tv_usec >= 1000000) return EDOM;
  absl::Duration d = tv.tv_sec < 0 ? absl::ZeroDuration() : absl::DurationFromTimeval(tv);
  recv ? s->set_recv_timeout(d) : s->set_send_timeout(d);
  return 0;
}

}  // namespace

SysRet Socket(Task& t, const SyscallArgs& a) {
  int domain = static_cast<int>(a[0]), type = static_cast<int>(a[1]);
  int protocol = static_cast<int>(a[2]);
  if (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC | 0xf)) return SysRet::Err(EINVAL);
  int base = type & 0xf;
  uint32_t flags = (type & SOCK_NONBLOCK) ? O_NONBLOCK : 0;
  FilePtr f;
  switch (domain) {
    case AF_UNIX: {
      if (protocol != 0 && protocol != PF_UNIX) return SysRet::Err(EPROTONOSUPPORT);
      if (base == SOCK_RAW) base = SOCK_DGRAM;  // unix_create
      if (base != SOCK_STREAM && base != SOCK_DGRAM && base != SOCK_SEQPACKET) {
        return SysRet::Err(ESOCKTNOSUPPORT);
      }
      vfs::Credentials c = t.creds();
      f = vfs::NewUnixSocket(base, flags, ucred{t.tgid(), c.euid, c.egid});
      break;
    }
    case AF_INET:
    case AF_INET6:
      f = TRY_ASSIGN(vfs::NewInetSocket(&t, domain, base, protocol, flags));
      break;
    default:
      if (domain < 0 || domain >= AF_MAX) return SysRet::Err(EAFNOSUPPORT);
      return SysRet::Err(EAFNOSUPPORT);  // families this sandbox does not have
  }
  return InstallFile(t, std::move(f), type & SOCK_CLOEXEC);
}

SysRet Socketpair(Task& t, const SyscallArgs& a) {
  int domain = static_cast<int>(a[0]), type = static_cast<int>(a[1]);
  int protocol = static_cast<int>(a[2]);
  if (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC | 0xf)) return SysRet::Err(EINVAL);
  int base = type & 0xf;
  if (domain == AF_INET || domain == AF_INET6) return SysRet::Err(EOPNOTSUPP);
  if (domain != AF_UNIX) return SysRet::Err(EAFNOSUPPORT);
  if (protocol != 0 && protocol != PF_UNIX) return SysRet::Err(EPROTONOSUPPORT);
  if (base == SOCK_RAW) base = SOCK_DGRAM;
  if (base != SOCK_STREAM && base != SOCK_SEQPACKET && base != SOCK_DGRAM) {
    return SysRet::Err(ESOCKTNOSUPPORT);
  }
  vfs::Credentials c = t.creds();
  struct ucred cred = {t.tgid(), c.euid, c.egid};
  auto [x, y] = vfs::NewUnixPair(base, (type & SOCK_NONBLOCK) ? O_NONBLOCK : 0, cred);
  bool cloexec = type & SOCK_CLOEXEC;
  uint64_t lim = t.tg()->limits.Cur(RLIMIT_NOFILE);
  auto fx = t.fds()->Add(x, cloexec, 0, lim);
  if (!fx.ok()) return SysRet::Err(fx.error());
  auto fy = t.fds()->Add(y, cloexec, 0, lim);
  if (!fy.ok()) {
    t.fds()->Remove(*fx);
    return SysRet::Err(fy.error());
  }
  int sv[2] = {*fx, *fy};
  if (t.CopyOutBytes(UserAddr(a[3]), sv, sizeof(sv)) != 0) {
    t.fds()->Remove(*fx);
    t.fds()->Remove(*fy);
    return SysRet::Err(EFAULT);
  }
  return 0;
}

SysRet Bind(Task& t, const SyscallArgs& a) {
  auto [f, s] = TRY_ASSIGN(GetSocket(t, static_cast<int>(a[0])));
  SockAddr addr = TRY_ASSIGN(CopyInAddr(t, a[1], a[2]));
  return s->Bind(&t, addr);
}

SysRet Listen(Task& t, const SyscallArgs& a) {
  auto [f, s] = TRY_ASSIGN(GetSocket(t, static_cast<int>(a[0])));
  return s->Listen(&t, static_cast<int>(a[1]));
}

namespace {
SysRet AcceptCommon(Task& t, const SyscallArgs& a, int flags) {
  auto [f, s] = TRY_ASSIGN(GetSocket(t, static_cast<int>(a[0])));
  if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK)) return SysRet::Err(EINVAL);
  SockAddr peer;
  FilePtr conn;
  auto attempt = [&]() -> SysRet {
    auto r = s->Accept(&t, (flags & SOCK_NONBLOCK) ? O_NONBLOCK : 0, &peer);
    if (!r.ok()) return SysRet::Err(r.error());
    conn = std::move(*r);
    return 0;
  };
  // accept waits without a timeout unless SO_RCVTIMEO says otherwise.
  TRY(Wait(t, s, POLLIN, s->nonblocking(), s->recv_timeout(), attempt));
  if (a[1] != 0) {
    // The connection is taken even if the address cannot be copied out
    // (Linux likewise reports EFAULT after accepting).
    TRY(CopyOutAddr(t, peer, a[1], a[2]));
  }
  return InstallFile(t, std::move(conn), flags & SOCK_CLOEXEC);
}
}  // namespace

SysRet Accept(Task& t, const SyscallArgs& a) { return AcceptCommon(t, a, 0); }
SysRet Accept4(Task& t, const SyscallArgs& a) {
  return AcceptCommon(t, a, static_cast<int>(a[3]));
}

SysRet Connect(Task& t, const SyscallArgs& a) {
  auto [f, s] = TRY_ASSIGN(GetSocket(t, static_cast<int>(a[0])));
  SockAddr addr = TRY_ASSIGN(CopyInAddr(t, a[1], a[2]));
  Errno e = s->Connect(&t, addr);
  const bool nowait = s->nonblocking();
  if (e == EAGAIN && !nowait) {
    // A full Unix backlog: wait for room and try again.
    auto attempt = [&]() -> SysRet { return s->Connect(&t, addr); };
    return Wait(t, s, POLLOUT, false, s->send_timeout(), attempt);
  }
  if ((e == EINPROGRESS || e == EALREADY) && !nowait) {
    auto attempt = [&]() -> SysRet {
      if (!(s->Readiness(POLLOUT | POLLERR | POLLHUP) & (POLLOUT | POLLERR | POLLHUP))) {
        return SysRet::Err(EAGAIN);
      }
      return s->FinishConnect();
    };
    SysRet r = Wait(t, s, POLLOUT, false, s->send_timeout(), attempt);
    // A timed-out connect goes on in the background (inet_stream_connect).
    if (r.error() == EAGAIN) return SysRet::Err(EINPROGRESS);
    return r;
  }
  return e;
}

SysRet Sendto(Task& t, const SyscallArgs& a) {
  auto [f, s] = TRY_ASSIGN(GetSocket(t, static_cast<int>(a[0])));
  std::optional<SockAddr> to;
  if (a[4] != 0) to = TRY_ASSIGN(CopyInAddr(t, a[4], a[5]));
  UserIOSequence io(t.mm(), UserAddr(a[1]), std::min(a[2], kMaxRwCount));
  return DoSend(t, s, io, static_cast<int>(a[3]), to ? &*to : nullptr, nullptr);
}

SysRet Recvfrom(Task& t, const SyscallArgs& a) {
  auto [f, s] = TRY_ASSIGN(GetSocket(t, static_cast<int>(a[0])));
  UserIOSequence io(t.mm(), UserAddr(a[1]), std::min(a[2], kMaxRwCount));
  SockAddr from;
  int msg_flags = 0;
  SysRet r = DoRecv(t, s, io, static_cast<int>(a[3]), &from, nullptr, &msg_flags);
  if (r.ok()) TRY(CopyOutAddr(t, from, a[4], a[5]));
  return r;
}

SysRet Sendmsg(Task& t, const SyscallArgs& a) {
  auto [f, s] = TRY_ASSIGN(GetSocket(t, static_cast<int>(a[0])));
  return SendMsgAt(t, s, a[1], static_cast<int>(a[2]));
}

SysRet Recvmsg(Task& t, const SyscallArgs& a) {
  auto [f, s] = TRY_ASSIGN(GetSocket(t, static_cast<int>(a[0])));
  return RecvMsgAt(t, s, a[1], static_cast<int>(a[2]));
}

// sendmmsg/recvmmsg: one msghdr after another; msg_len of each is written
// back. An error after at least one message ends the call with the count
// (the error shows on the next call, as in Linux).
SysRet Sendmmsg(Task& t, const SyscallArgs& a) {
  auto [f, s] = TRY_ASSIGN(GetSocket(t, static_cast<int>(a[0])));
  uint32_t vlen = std::min<uint32_t>(static_cast<uint32_t>(a[2]), kIovMax);
  int flags = static_cast<int>(a[3]);
  uint32_t done = 0;
  for (; done < vlen; ++done) {
    uint64_t at = a[1] + done * sizeof(struct mmsghdr);
    SysRet r = SendMsgAt(t, s, at, flags);
    if (!r.ok()) {
      if (done == 0) return r;
      break;
    }
    TRY(t.CopyOut(UserPtr<uint32_t>(at + offsetof(struct mmsghdr, msg_len)),
                  static_cast<uint32_t>(r.value())));
  }
  return done;
}

SysRet Recvmmsg(Task& t, const SyscallArgs& a) {
  auto [f, s] = TRY_ASSIGN(GetSocket(t, static_cast<int>(a[0])));
  uint32_t vlen = std::min<uint32_t>(static_cast<uint32_t>(a[2]), kIovMax);
  int flags = static_cast<int>(a[3]);
  std::optional<absl::Time> deadline;
  if (a[4] != 0) {
    absl::Duration d = TRY_ASSIGN(CopyInTimespecDuration(t, a[4]));
    deadline = absl::Now() + d;
  }
  uint32_t done = 0;
  for (; done < vlen; ++done) {
    uint64_t at = a[1] + done * sizeof(struct mmsghdr);
    SysRet r = RecvMsgAt(t, s, at, flags);
    if (!r.ok()) {
      if (done == 0) return r;
      break;
    }
    TRY(t.CopyOut(UserPtr<uint32_t>(at + offsetof(struct mmsghdr, msg_len)),
                  static_cast<uint32_t>(r.value())));
    if (flags & MSG_WAITFORONE) flags |= MSG_DONTWAIT;
    // The timeout is only checked between datagrams (a known Linux quirk).
    if (deadline && absl::Now() > *deadline) {
      ++done;
      break;
    }
  }
  return done;
}

SysRet Shutdown(Task& t, const SyscallArgs& a) {
  auto [f, s] = TRY_ASSIGN(GetSocket(t, static_cast<int>(a[0])));
  int how = static_cast<int>(a[1]);
  if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR) return SysRet::Err(EINVAL);
  return s->Shutdown(how);
}

SysRet Getsockname(Task& t, const SyscallArgs& a) {
  auto [f, s] = TRY_ASSIGN(GetSocket(t, static_cast<int>(a[0])));
  uint32_t len;
  TRY(t.CopyIn(UserPtr<uint32_t>(a[2]), &len));
  if (static_cast<int32_t>(len) < 0) return SysRet::Err(EINVAL);
  SockAddr addr = TRY_ASSIGN(s->SockName());
  return CopyOutAddr(t, addr, a[1], a[2]);
}

SysRet Getpeername(Task& t, const SyscallArgs& a) {
  auto [f, s] = TRY_ASSIGN(GetSocket(t, static_cast<int>(a[0])));
  uint32_t len;
  TRY(t.CopyIn(UserPtr<uint32_t>(a[2]), &len));
  if (static_cast<int32_t>(len) < 0) return SysRet::Err(EINVAL);
  SockAddr addr = TRY_ASSIGN(s->PeerName());
  return CopyOutAddr(t, addr, a[1], a[2]);
}

SysRet Getsockopt(Task& t, const SyscallArgs& a) {
  auto [f, s] = TRY_ASSIGN(GetSocket(t, static_cast<int>(a[0])));
  int level = static_cast<int>(a[1]), name = static_cast<int>(a[2]);
  uint32_t len;
  TRY(t.CopyIn(UserPtr<uint32_t>(a[4]), &len));
  if (static_cast<int32_t>(len) < 0) return SysRet::Err(EINVAL);
  std::vector<uint8_t> v;
  if (level == SOL_SOCKET && name == SO_TYPE) {
    v = vfs::SocketBase::IntBytes(s->Type());
  } else if (level == SOL_SOCKET && name == SO_DOMAIN) {
    v = vfs::SocketBase::IntBytes(s->Family());
  } else if (level == SOL_SOCKET && name == SO_PROTOCOL) {
    v = vfs::SocketBase::IntBytes(s->Protocol());
  } else if (level == SOL_SOCKET && (name == SO_RCVTIMEO_OLD || name == SO_RCVTIMEO_NEW)) {
    v = TRY_ASSIGN(TimeoutBytes(s->recv_timeout()));
  } else if (level == SOL_SOCKET && (name == SO_SNDTIMEO_OLD || name == SO_SNDTIMEO_NEW)) {
    v = TRY_ASSIGN(TimeoutBytes(s->send_timeout()));
  } else {
    v = TRY_ASSIGN(s->GetSockOpt(&t, level, name, len));
  }
  // sock_getsockopt copies at most what was asked for.
  uint32_t n = std::min<uint32_t>(len, static_cast<uint32_t>(v.size()));
  if (n > 0) TRY(t.CopyOutBytes(UserAddr(a[3]), v.data(), n));
  return t.CopyOut(UserPtr<uint32_t>(a[4]), n);
}

SysRet Setsockopt(Task& t, const SyscallArgs& a) {
  auto [f, s] = TRY_ASSIGN(GetSocket(t, static_cast<int>(a[0])));
  int level = static_cast<int>(a[1]), name = static_cast<int>(a[2]);
  int32_t len = static_cast<int32_t>(a[4]);
  if (len < 0) return SysRet::Err(EINVAL);
  if (static_cast<uint64_t>(len) > kOptmemMax) return SysRet::Err(ENOMEM);
  std::vector<uint8_t> v(static_cast<size_t>(len));
  if (len > 0) TRY(t.CopyInBytes(UserAddr(a[3]), v.data(), v.size()));
  if (level == SOL_SOCKET) {
    switch (name) {
      case SO_RCVTIMEO_OLD:
      case SO_RCVTIMEO_NEW:
        return SetTimeout(s, true, v);
      case SO_SNDTIMEO_OLD:
      case SO_SNDTIMEO_NEW:
        return SetTimeout(s, false, v);
      default:
        break;
    }
  }
  return s->SetSockOpt(&t, level, name, v);
}

}  // namespace sentry::sys
