// pipe(2), pipe2(2).
#include "fs/pipe/pipe.h"
#include "syscalls/handlers.h"
#include "syscalls/util.h"

namespace sentry::sys {
namespace {
SysRet DoPipe(Task& t, uint64_t addr, uint64_t flags) {
  if (flags & ~uint64_t{O_CLOEXEC | O_NONBLOCK | O_DIRECT | O_EXCL /* O_NOTIFICATION_PIPE */}) {
    return SysRet::Err(EINVAL);
  }
  if (flags & O_EXCL /* O_NOTIFICATION_PIPE */) return SysRet::Err(ENOPKG);
  vfs::Credentials c = t.creds();
  auto [r, w] = vfs::Pipe::NewPair(static_cast<uint32_t>(flags), c.euid, c.egid);
  bool cloexec = flags & O_CLOEXEC;
  uint64_t lim = t.tg()->limits.Cur(RLIMIT_NOFILE);
  auto rfd = t.fds()->Add(r, cloexec, 0, lim);
  if (!rfd.ok()) return SysRet::Err(rfd.error());
  auto wfd = t.fds()->Add(w, cloexec, 0, lim);
  if (!wfd.ok()) {
    t.fds()->Remove(*rfd);
    return SysRet::Err(wfd.error());
  }
  int fds[2] = {*rfd, *wfd};
  if (t.CopyOutBytes(UserAddr(addr), fds, sizeof(fds)) != 0) {
    t.fds()->Remove(*rfd);
    t.fds()->Remove(*wfd);
    return SysRet::Err(EFAULT);
  }
  return 0;
}
}  // namespace

SysRet Pipe(Task& t, const SyscallArgs& a) { return DoPipe(t, a[0], 0); }
SysRet Pipe2(Task& t, const SyscallArgs& a) { return DoPipe(t, a[0], a[1]); }

}  // namespace sentry::sys
