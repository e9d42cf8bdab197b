// pidfd_open(2) and pidfd_getfd(2); pidfd_send_signal is in signal.cc and
// waitid(P_PIDFD) in thread.cc. The file itself is fs/anon/pidfd.h.
#include <fcntl.h>
#include <linux/capability.h>

#include "fs/anon/pidfd.h"
#include "syscalls/handlers.h"
#include "syscalls/util.h"

namespace sentry::sys {

ErrorOr<std::shared_ptr<ThreadGroup>> GetPidFdGroup(Task& t, int fd, bool* nonblocking) {
  FilePtr f = TRY_ASSIGN(GetFile(t, fd));
  auto* p = dynamic_cast<vfs::PidFd*>(f.get());
  if (p == nullptr) return Err(EBADF);  // pidfd_get_pid: not a pidfd
  if (nonblocking != nullptr) *nonblocking = p->nonblocking();
  return p->group_ptr();
}

SysRet PidfdOpen(Task& t, const SyscallArgs& a) {
  int32_t pid = static_cast<int32_t>(a[0]);
  uint64_t flags = a[1];
  if (flags & ~uint64_t{O_NONBLOCK}) return SysRet::Err(EINVAL);  // PIDFD_NONBLOCK only
  if (pid <= 0) return SysRet::Err(EINVAL);
  Kernel& k = t.kernel();
  // Zombies keep their pid until reaped, so they can still be opened.
  std::shared_ptr<ThreadGroup> g = k.GroupByTgid(pid);
  if (!g || g->reaped.load()) {
    // A thread's id names no process without PIDFD_THREAD (ENOENT since
    // Linux 6.9; EINVAL before).
    if (k.TaskByTid(pid)) return SysRet::Err(ENOENT);
    return SysRet::Err(ESRCH);
  }
  return InstallFile(t, vfs::NewPidFd(std::move(g), static_cast<uint32_t>(flags)), true);
}

SysRet PidfdGetfd(Task& t, const SyscallArgs& a) {
  auto g = TRY_ASSIGN(GetPidFdGroup(t, static_cast<int>(a[0]), nullptr));
  int target_fd = static_cast<int>(a[1]);
  if (a[2] != 0) return SysRet::Err(EINVAL);
  Kernel& k = t.kernel();
  std::shared_ptr<FDTable> fds;
  vfs::Credentials tc;
  bool dumpable;
  {
    absl::MutexLock l(&k.tasks_mu_);
    Task* task = g->dead.load() ? nullptr : k.AliveThreadLocked(g.get());
    if (task == nullptr) return SysRet::Err(ESRCH);
    fds = task->fds_ptr();
    tc = task->creds();
    dumpable = g->dumpable.load() != 0;
  }
  // ptrace_may_access(PTRACE_MODE_ATTACH_REALCREDS).
  vfs::Credentials c = t.creds();
  bool same = c.uid == tc.uid && c.uid == tc.euid && c.uid == tc.suid && c.gid == tc.gid &&
              c.gid == tc.egid && c.gid == tc.sgid;
  if (g.get() != t.tg() && !c.HasCap(CAP_SYS_PTRACE) && (!same || !dumpable)) {
    return SysRet::Err(EPERM);
  }
  if (!fds) return SysRet::Err(ESRCH);
  FilePtr f = fds->Get(target_fd);
  if (!f) return SysRet::Err(EBADF);
  return InstallFile(t, std::move(f), /*cloexec=*/true);
}

}  // namespace sentry::sys
