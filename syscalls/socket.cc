// Socket syscalls. The only sockets so far are connected Unix socket pairs
// (socketpair(2), fs/socket/unix.h); socket(2) comes with the network
// stack (issue 5). On any other fd these calls answer as Linux does for a
// non-socket (ENOTSOCK).
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "fs/socket/unix.h"
#include "fs/vfs/iosequence.h"
#include "syscalls/handlers.h"
#include "syscalls/util.h"

namespace sentry::sys {
namespace {

ErrorOr<std::pair<FilePtr, vfs::SocketFile*>> GetSocket(Task& t, int fd) {
  FilePtr f = TRY_ASSIGN(GetFile(t, fd));
  auto* s = dynamic_cast<vfs::SocketFile*>(f.get());
  if (s == nullptr) return Err(ENOTSOCK);
  return std::make_pair(std::move(f), s);
}

// One send with Linux's stream rules: a blocking send goes on until all of
// it is queued (or a signal or error stops it, returning what was done).
SysRet DoSend(Task& t, vfs::SocketFile* s, IOSequence& io, int flags) {
  if (flags & MSG_OOB) return SysRet::Err(EOPNOTSUPP);
  const bool nowait = (flags & MSG_DONTWAIT) || s->nonblocking();
  auto attempt = [&] { return s->Send(&t, io, flags); };
  SysRet r = nowait ? attempt() : t.BlockOnFile(s, POLLOUT, attempt);
  if (!nowait && s->Type() == SOCK_STREAM && r.ok() && r.value() > 0) {
    int64_t total = r.value();
    while (io.remaining() > 0) {
      SysRet more = t.BlockOnFile(s, POLLOUT, attempt);
      if (!more.ok() || more.value() == 0) break;
      total += more.value();
    }
    r = total;
  }
  if (r.error() == EPIPE && !(flags & MSG_NOSIGNAL)) RaiseOnSelf(t, SIGPIPE);
  return r;
}

SysRet DoRecv(Task& t, vfs::SocketFile* s, IOSequence& io, int flags) {
  if (flags & (MSG_OOB | MSG_PEEK | MSG_ERRQUEUE)) return SysRet::Err(EOPNOTSUPP);
  if (io.remaining() == 0 && s->Type() == SOCK_STREAM) return 0;
  const bool nowait = (flags & MSG_DONTWAIT) || s->nonblocking();
  auto attempt = [&] { return s->Recv(&t, io, flags); };
  SysRet r = nowait ? attempt() : t.BlockOnFile(s, POLLIN, attempt);
  // MSG_WAITALL: a stream read waits for all of it (or EOF, or a signal).
  if ((flags & MSG_WAITALL) && !nowait && s->Type() == SOCK_STREAM && r.ok() && r.value() > 0) {
    int64_t total = r.value();
    while (io.remaining() > 0) {
      SysRet more = t.BlockOnFile(s, POLLIN, attempt);
      if (!more.ok() || more.value() == 0) break;
      total += more.value();
    }
    r = total;
  }
  return r;
}

// An unnamed peer: no address (msg_namelen / *addrlen 0), as Linux's
// unix_copy_addr for a socket that was never bound.
Errno NoAddress(Task& t, uint64_t addrlen_addr) {
  if (addrlen_addr == 0) return 0;
  uint32_t len;
  TRY(t.CopyIn(UserPtr<uint32_t>(addrlen_addr), &len));
  if (static_cast<int32_t>(len) < 0) return EINVAL;
  return t.CopyOut(UserPtr<uint32_t>(addrlen_addr), uint32_t{0});
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

}  // namespace

SysRet NotASocket(Task& t, const SyscallArgs& a) {
  TRY_ASSIGN(GetSocket(t, static_cast<int>(a[0])));
  // A connected pair: no binding, listening or accepting.
  return SysRet::Err(EOPNOTSUPP);
}

SysRet Listen(Task& t, const SyscallArgs& a) {
  TRY_ASSIGN(GetSocket(t, static_cast<int>(a[0])));
  return SysRet::Err(EINVAL);  // unix_listen: not an unconnected socket
}

SysRet Accept(Task& t, const SyscallArgs& a) {
  TRY_ASSIGN(GetSocket(t, static_cast<int>(a[0])));
  return SysRet::Err(EINVAL);  // not listening
}

SysRet Socketpair(Task& t, const SyscallArgs& a) {
  int domain = static_cast<int>(a[0]), type = static_cast<int>(a[1]);
  int protocol = static_cast<int>(a[2]);
  if (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC | 0xf)) return SysRet::Err(EINVAL);
  int base = type & 0xf;
  if (domain == AF_INET || domain == AF_INET6) return SysRet::Err(EOPNOTSUPP);
  if (domain != AF_UNIX) return SysRet::Err(EAFNOSUPPORT);
  if (protocol != 0 && protocol != PF_UNIX) return SysRet::Err(EPROTONOSUPPORT);
  // SOCK_DGRAM pairs are not implemented yet (issue 5).
  if (base != SOCK_STREAM && base != SOCK_SEQPACKET) return SysRet::Err(ESOCKTNOSUPPORT);
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

SysRet Sendto(Task& t, const SyscallArgs& a) {
  auto [f, s] = TRY_ASSIGN(GetSocket(t, static_cast<int>(a[0])));
  // unix_stream_sendmsg: an address on a connected stream socket.
  if (a[4] != 0 && s->Type() == SOCK_STREAM) return SysRet::Err(EISCONN);
  UserIOSequence io(t.mm(), UserAddr(a[1]), std::min(a[2], kMaxRwCount));
  return DoSend(t, s, io, static_cast<int>(a[3]));
}

SysRet Recvfrom(Task& t, const SyscallArgs& a) {
  auto [f, s] = TRY_ASSIGN(GetSocket(t, static_cast<int>(a[0])));
  UserIOSequence io(t.mm(), UserAddr(a[1]), std::min(a[2], kMaxRwCount));
  SysRet r = DoRecv(t, s, io, static_cast<int>(a[3]));
  if (r.ok() && a[4] != 0) TRY(NoAddress(t, a[5]));
  return r;
}

SysRet Sendmsg(Task& t, const SyscallArgs& a) {
  auto [f, s] = TRY_ASSIGN(GetSocket(t, static_cast<int>(a[0])));
  MsgHeader m = TRY_ASSIGN(CopyInMsg(t, a[1]));
  if (m.h.msg_name != nullptr && m.h.msg_namelen != 0 && s->Type() == SOCK_STREAM) {
    return SysRet::Err(EISCONN);
  }
  // Ancillary data (SCM_RIGHTS, SCM_CREDENTIALS) is not carried yet.
  if (m.h.msg_controllen != 0) return SysRet::Err(EOPNOTSUPP);
  UserIOSequence io(t.mm(), std::move(m.iovs));
  return DoSend(t, s, io, static_cast<int>(a[2]));
}

SysRet Recvmsg(Task& t, const SyscallArgs& a) {
  auto [f, s] = TRY_ASSIGN(GetSocket(t, static_cast<int>(a[0])));
  MsgHeader m = TRY_ASSIGN(CopyInMsg(t, a[1]));
  UserIOSequence io(t.mm(), std::move(m.iovs));
  SysRet r = DoRecv(t, s, io, static_cast<int>(a[2]));
  if (!r.ok()) return r;
  // No peer address, no control messages, no flags to report.
  m.h.msg_namelen = 0;
  m.h.msg_controllen = 0;
  m.h.msg_flags = 0;
  TRY(t.CopyOutBytes(UserAddr(a[1]), &m.h, sizeof(m.h)));
  return r;
}

SysRet Shutdown(Task& t, const SyscallArgs& a) {
  auto [f, s] = TRY_ASSIGN(GetSocket(t, static_cast<int>(a[0])));
  int how = static_cast<int>(a[1]);
  if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR) return SysRet::Err(EINVAL);
  return s->Shutdown(how);
}

SysRet Getsockname(Task& t, const SyscallArgs& a) {
  TRY_ASSIGN(GetSocket(t, static_cast<int>(a[0])));
  // An unbound Unix socket's name is its family alone.
  uint32_t len;
  TRY(t.CopyIn(UserPtr<uint32_t>(a[2]), &len));
  if (static_cast<int32_t>(len) < 0) return SysRet::Err(EINVAL);
  sa_family_t fam = AF_UNIX;
  TRY(t.CopyOutBytes(UserAddr(a[1]), &fam, std::min<uint32_t>(len, sizeof(fam))));
  return t.CopyOut(UserPtr<uint32_t>(a[2]), uint32_t{sizeof(fam)});
}

SysRet Getpeername(Task& t, const SyscallArgs& a) { return Getsockname(t, a); }

SysRet Getsockopt(Task& t, const SyscallArgs& a) {
  auto [f, s] = TRY_ASSIGN(GetSocket(t, static_cast<int>(a[0])));
  int level = static_cast<int>(a[1]), name = static_cast<int>(a[2]);
  uint32_t len;
  TRY(t.CopyIn(UserPtr<uint32_t>(a[4]), &len));
  if (static_cast<int32_t>(len) < 0) return SysRet::Err(EINVAL);
  if (level != SOL_SOCKET) return SysRet::Err(EOPNOTSUPP);
  if (name == SO_PEERCRED) {
    struct ucred c = s->PeerCred();
    uint32_t n = std::min<uint32_t>(len, sizeof(c));
    TRY(t.CopyOutBytes(UserAddr(a[3]), &c, n));
    return t.CopyOut(UserPtr<uint32_t>(a[4]), n);
  }
  int v = TRY_ASSIGN(s->GetIntOption(name));
  // sock_getsockopt copies at most the int, and as much as asked.
  uint32_t n = std::min<uint32_t>(len, sizeof(v));
  TRY(t.CopyOutBytes(UserAddr(a[3]), &v, n));
  return t.CopyOut(UserPtr<uint32_t>(a[4]), n);
}

SysRet Setsockopt(Task& t, const SyscallArgs& a) {
  auto [f, s] = TRY_ASSIGN(GetSocket(t, static_cast<int>(a[0])));
  int level = static_cast<int>(a[1]), name = static_cast<int>(a[2]);
  if (level != SOL_SOCKET) return SysRet::Err(EOPNOTSUPP);
  if (static_cast<uint32_t>(a[4]) < sizeof(int)) return SysRet::Err(EINVAL);
  int v;
  TRY(t.CopyInBytes(UserAddr(a[3]), &v, sizeof(v)));
  return s->SetIntOption(name, v);
}

}  // namespace sentry::sys
