// Processes and threads: clone, exec, exit, wait, ids, arch_prctl, prctl.
#include <asm/prctl.h>
#include <linux/seccomp.h>
#include <linux/sched.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstring>

#include "sentry/base/host.h"
#include "sentry/base/log.h"
#include "syscalls/handlers.h"
#include "syscalls/util.h"

namespace sentry::sys {
namespace {

SysRet DoClone(Task& t, uint64_t flags, uint64_t stack, uint64_t ptid, uint64_t ctid,
               uint64_t tls) {
  Kernel::CloneArgs ca;
  // clone(2) takes only the low 32 bits (the newer flags are clone3's).
  flags &= 0xffffffffu;
  ca.flags = flags & ~uint64_t{CSIGNAL};
  ca.exit_signal = static_cast<int>(flags & CSIGNAL);
  ca.stack = stack;
  ca.parent_tid = UserAddr(ptid);
  ca.child_tid = UserAddr(ctid);
  ca.tls = tls;
  // clone(2) returns the pidfd through the parent_tid pointer, so the two
  // cannot be asked for together.
  if (flags & CLONE_PIDFD) {
    if (flags & CLONE_PARENT_SETTID) return SysRet::Err(EINVAL);
    ca.pidfd = UserAddr(ptid);
  }
  return TRY_ASSIGN(t.kernel().Clone(t, ca));
}

SysRet DoExecve(Task& t, int dirfd, uint64_t path_addr, uint64_t argv, uint64_t envp,
                uint64_t flags) {
  if (flags & ~uint64_t{AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW}) return SysRet::Err(EINVAL);
  std::string path = TRY_ASSIGN(CopyInPath(t, path_addr));
  auto args = TRY_ASSIGN(t.CopyInStringVector(UserAddr(argv)));
  auto envs = TRY_ASSIGN(t.CopyInStringVector(UserAddr(envp)));
  vfs::VirtualDentry start;
  uint32_t rf = (flags & AT_SYMLINK_NOFOLLOW) ? 0 : vfs::kFollow;
  if (path.empty()) {
    if (!(flags & AT_EMPTY_PATH)) return SysRet::Err(ENOENT);
    start = TRY_ASSIGN(FdDentry(t, dirfd));
    rf |= vfs::kEmptyPathOk;
  } else {
    start = TRY_ASSIGN(StartDir(t, dirfd, path));
  }
  TRY(t.kernel().Execve(t, start, path, std::move(args), std::move(envs), rf));
  return kSysRetNoReturnValue;
}

void FillRusage(struct rusage* ru, uint64_t user_ns, uint64_t sys_ns) {
  memset(ru, 0, sizeof(*ru));
  ru->ru_utime.tv_sec = static_cast<time_t>(user_ns / 1000000000);
  ru->ru_utime.tv_usec = static_cast<suseconds_t>((user_ns % 1000000000) / 1000);
  ru->ru_stime.tv_sec = static_cast<time_t>(sys_ns / 1000000000);
  ru->ru_stime.tv_usec = static_cast<suseconds_t>((sys_ns % 1000000000) / 1000);
}

int32_t CallerPgid(Task& t) {
  absl::MutexLock l(&t.kernel().tasks_mu_);
  return t.tg()->pgrp ? t.tg()->pgrp->pgid : 0;
}

}  // namespace

SysRet Clone(Task& t, const SyscallArgs& a) { return DoClone(t, a[0], a[1], a[2], a[3], a[4]); }
SysRet Fork(Task& t, const SyscallArgs& a) { return DoClone(t, SIGCHLD, 0, 0, 0, 0); }
SysRet Vfork(Task& t, const SyscallArgs& a) {
  return DoClone(t, CLONE_VM | CLONE_VFORK | SIGCHLD, 0, 0, 0, 0);
}

SysRet Clone3(Task& t, const SyscallArgs& a) {
  uint64_t size = a[1];
  if (size < 64) return SysRet::Err(EINVAL);  // CLONE_ARGS_SIZE_VER0
  if (size > kPageSize) return SysRet::Err(E2BIG);
  std::vector<uint8_t> buf(size);
  TRY(t.CopyInBytes(UserAddr(a[0]), buf.data(), size));
  struct clone_args ca{};
  memcpy(&ca, buf.data(), std::min<size_t>(size, sizeof(ca)));
  for (size_t i = sizeof(ca); i < size; i++)
    if (buf[i] != 0) return SysRet::Err(E2BIG);
  // clone3_args_valid().
  if (ca.flags & ~(uint64_t{0xffffffff} | CLONE_CLEAR_SIGHAND | CLONE_INTO_CGROUP)) {
    return SysRet::Err(EINVAL);
  }
  if (ca.flags & CSIGNAL) return SysRet::Err(EINVAL);
  if ((ca.flags & (CLONE_THREAD | CLONE_PARENT)) && ca.exit_signal != 0) return SysRet::Err(EINVAL);
  if (ca.exit_signal & ~uint64_t{CSIGNAL}) return SysRet::Err(EINVAL);
  if ((ca.stack == 0) != (ca.stack_size == 0)) return SysRet::Err(EINVAL);
  if (ca.set_tid_size != 0 || ca.set_tid != 0) return SysRet::Err(EINVAL);
  if (ca.flags & CLONE_INTO_CGROUP) return SysRet::Err(EINVAL);
  Kernel::CloneArgs k;
  k.flags = ca.flags;
  k.exit_signal = static_cast<int>(ca.exit_signal);
  k.stack = ca.stack ? ca.stack + ca.stack_size : 0;
  k.parent_tid = UserAddr(ca.parent_tid);
  k.child_tid = UserAddr(ca.child_tid);
  k.tls = ca.tls;
  k.pidfd = UserAddr(ca.pidfd);
  return TRY_ASSIGN(t.kernel().Clone(t, k));
}

SysRet Execve(Task& t, const SyscallArgs& a) { return DoExecve(t, AT_FDCWD, a[0], a[1], a[2], 0); }
SysRet Execveat(Task& t, const SyscallArgs& a) {
  return DoExecve(t, static_cast<int>(a[0]), a[1], a[2], a[3], a[4]);
}

SysRet Exit(Task& t, const SyscallArgs& a) {
  t.exit_status = static_cast<int>((a[0] & 0xff) << 8);
  {
    absl::MutexLock l(&t.tg()->sighand->mu);
    t.exiting_ = true;
  }
  t.Interrupt();
  return kSysRetNoReturnValue;
}

SysRet ExitGroup(Task& t, const SyscallArgs& a) {
  t.kernel().GroupExit(t.tg(), static_cast<int>((a[0] & 0xff) << 8));
  return kSysRetNoReturnValue;
}

SysRet Wait4(Task& t, const SyscallArgs& a) {
  int32_t pid = static_cast<int32_t>(a[0]);
  uint64_t options = a[2];
  if (options & ~uint64_t{WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL}) {
    return SysRet::Err(EINVAL);
  }
  if (pid == INT_MIN) return SysRet::Err(ESRCH);
  Kernel::WaitOptions o;
  o.options = static_cast<int>(options) | WEXITED;
  if (pid == -1) {
    o.id_type = P_ALL;
  } else if (pid > 0) {
    o.id_type = P_PID;
    o.id = pid;
  } else if (pid == 0) {
    o.id_type = P_PGID;
    o.id = CallerPgid(t);
  } else {
    o.id_type = P_PGID;
    o.id = -pid;
  }
  auto r = TRY_ASSIGN(t.kernel().Wait(t, o));
  if (r.pid > 0 && a[1] != 0) TRY(t.CopyOut(UserPtr<int>(a[1]), r.status));
  if (r.pid > 0 && a[3] != 0) {
    struct rusage ru;
    FillRusage(&ru, r.user_ns, r.sys_ns);
    TRY(t.CopyOutBytes(UserAddr(a[3]), &ru, sizeof(ru)));
  }
  return r.pid;
}

SysRet Waitid(Task& t, const SyscallArgs& a) {
  int idtype = static_cast<int>(a[0]);
  int32_t id = static_cast<int32_t>(a[1]);
  uint64_t options = a[3];
  if (options & ~uint64_t{WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | __WNOTHREAD |
                          __WCLONE | __WALL}) {
    return SysRet::Err(EINVAL);
  }
  if (!(options & (WEXITED | WSTOPPED | WCONTINUED))) return SysRet::Err(EINVAL);
  Kernel::WaitOptions o;
  o.options = static_cast<int>(options);
  bool pidfd_nonblock = false;
  switch (idtype) {
    case P_ALL: o.id_type = P_ALL; break;
    case P_PID:
      if (id <= 0) return SysRet::Err(EINVAL);
      o.id_type = P_PID;
      o.id = id;
      break;
    case P_PGID:
      if (id < 0) return SysRet::Err(EINVAL);
      o.id_type = P_PGID;
      o.id = id == 0 ? CallerPgid(t) : id;
      break;
    case P_PIDFD: {
      bool nonblocking = false;
      auto g = TRY_ASSIGN(GetPidFdGroup(t, id, &nonblocking));
      o.id_type = P_PID;
      o.id = g->tgid();
      // A non-blocking pidfd makes the wait non-blocking (EAGAIN).
      if (nonblocking && !(o.options & WNOHANG)) {
        o.options |= WNOHANG;
        pidfd_nonblock = true;
      }
      break;
    }
    default:
      return SysRet::Err(EINVAL);
  }
  auto r = TRY_ASSIGN(t.kernel().Wait(t, o));
  if (pidfd_nonblock && r.pid == 0) return SysRet::Err(EAGAIN);
  if (a[2] != 0) {
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    if (r.pid > 0) {
      si.si_signo = SIGCHLD;
      si.si_code = r.code;
      si.si_pid = r.pid;
      si.si_uid = r.uid;
      si.si_status = r.child_status;
    }
    TRY(t.CopyOutBytes(UserAddr(a[2]), &si, sizeof(si)));
  }
  if (a[4] != 0) {
    struct rusage ru;
    FillRusage(&ru, r.user_ns, r.sys_ns);
    TRY(t.CopyOutBytes(UserAddr(a[4]), &ru, sizeof(ru)));
  }
  return 0;
}

SysRet SetTidAddress(Task& t, const SyscallArgs& a) {
  t.clear_child_tid = UserAddr(a[0]);
  return t.tid();
}
SysRet Gettid(Task& t, const SyscallArgs& a) { return t.tid(); }
SysRet Getpid(Task& t, const SyscallArgs& a) { return t.tgid(); }
SysRet Getppid(Task& t, const SyscallArgs& a) {
  absl::MutexLock l(&t.kernel().tasks_mu_);
  ThreadGroup* p = t.tg()->parent;
  return p ? p->tgid() : 0;
}

SysRet SetRobustList(Task& t, const SyscallArgs& a) {
  if (a[1] != 24) return SysRet::Err(EINVAL);  // sizeof(struct robust_list_head)
  t.robust_list = UserAddr(a[0]);
  t.robust_list_len = a[1];
  return 0;
}

SysRet GetRobustList(Task& t, const SyscallArgs& a) {
  int32_t pid = static_cast<int32_t>(a[0]);
  std::shared_ptr<Task> target;
  Task* tt = &t;
  if (pid != 0) {
    target = t.kernel().TaskByTid(pid);
    if (!target || target->exited()) return SysRet::Err(ESRCH);
    tt = target.get();
  }
  uint64_t head = tt->robust_list.value();
  uint64_t len = 24;
  TRY(t.CopyOut(UserPtr<uint64_t>(a[1]), head));
  TRY(t.CopyOut(UserPtr<uint64_t>(a[2]), len));
  return 0;
}

SysRet ArchPrctl(Task& t, const SyscallArgs& a) {
  Regs& r = t.arch().regs;
  switch (a[0]) {
    case ARCH_SET_FS:
      if (a[1] >= kMaxUserAddress) return SysRet::Err(EPERM);
      r.fs_base = a[1];
      return 0;
    case ARCH_SET_GS:
      if (a[1] >= kMaxUserAddress) return SysRet::Err(EPERM);
      r.gs_base = a[1];
      return 0;
    case ARCH_GET_FS:
      TRY(t.CopyOut(UserPtr<uint64_t>(a[1]), static_cast<uint64_t>(r.fs_base)));
      return 0;
    case ARCH_GET_GS:
      TRY(t.CopyOut(UserPtr<uint64_t>(a[1]), static_cast<uint64_t>(r.gs_base)));
      return 0;
    case ARCH_GET_CPUID:
      return 1;  // cpuid does not fault
    case ARCH_SET_CPUID:
      return SysRet::Err(ENODEV);  // no CPUID faulting on this platform
    default:
      return SysRet::Err(EINVAL);
  }
}

SysRet Prctl(Task& t, const SyscallArgs& a) {
  int option = static_cast<int>(a[0]);
  switch (option) {
    case PR_SET_NAME: {
      auto name = t.CopyInString(UserAddr(a[1]), 16);
      std::string n;
      if (name.ok()) {
        n = *name;
      } else if (name.error() == ENAMETOOLONG) {
        char buf[16];
        TRY(t.CopyInBytes(UserAddr(a[1]), buf, 15));
        n.assign(buf, 15);
      } else {
        return SysRet::Err(name.error());
      }
      t.SetComm(n);
      return 0;
    }
    case PR_GET_NAME: {
      char buf[16] = {};
      std::string c = t.comm();
      memcpy(buf, c.data(), std::min<size_t>(c.size(), 15));
      TRY(t.CopyOutBytes(UserAddr(a[1]), buf, sizeof(buf)));
      return 0;
    }
    case PR_SET_PDEATHSIG:
      if (a[1] > kNumSignals) return SysRet::Err(EINVAL);
      t.pdeath_signal = static_cast<int>(a[1]);
      return 0;
    case PR_GET_PDEATHSIG:
      TRY(t.CopyOut(UserPtr<int>(a[1]), t.pdeath_signal.load()));
      return 0;
    case PR_GET_DUMPABLE:
      return t.tg()->dumpable.load();
    case PR_SET_DUMPABLE:
      // SUID_DUMP_DISABLE or SUID_DUMP_USER; 2 (root-only dumps) is only
      // ever set by the kernel.
      if (a[1] > 1) return SysRet::Err(EINVAL);
      t.tg()->dumpable.store(static_cast<int>(a[1]));
      return 0;
    case PR_SET_NO_NEW_PRIVS:
      if (a[1] != 1 || a[2] || a[3] || a[4]) return SysRet::Err(EINVAL);
      t.no_new_privs = true;
      return 0;
    case PR_GET_NO_NEW_PRIVS:
      if (a[1] || a[2] || a[3] || a[4]) return SysRet::Err(EINVAL);
      return t.no_new_privs ? 1 : 0;
    case PR_SET_CHILD_SUBREAPER: {
      absl::MutexLock l(&t.kernel().tasks_mu_);
      t.tg()->subreaper = a[1] != 0;
      return 0;
    }
    case PR_GET_CHILD_SUBREAPER: {
      int v;
      {
        absl::MutexLock l(&t.kernel().tasks_mu_);
        v = t.tg()->subreaper ? 1 : 0;
      }
      TRY(t.CopyOut(UserPtr<int>(a[1]), v));
      return 0;
    }
    case PR_GET_KEEPCAPS:
      return t.keep_caps ? 1 : 0;
    case PR_SET_KEEPCAPS:
      if (a[1] > 1) return SysRet::Err(EINVAL);
      t.keep_caps = a[1];
      return 0;
    case PR_CAPBSET_READ:
      if (a[1] > 40) return SysRet::Err(EINVAL);
      return (t.creds().cap_effective >> a[1]) & 1;
    case PR_SET_TIMERSLACK:
      t.timer_slack_ns = a[1] == 0 ? 50000 : a[1];
      return 0;
    case PR_GET_TIMERSLACK:
      return static_cast<int64_t>(t.timer_slack_ns);
    case PR_GET_SECCOMP:
      return t.seccomp_mode();
    case PR_SET_SECCOMP:
      // prctl_set_seccomp(): strict ignores the filter argument; neither
      // takes flags.
      if (a[1] == SECCOMP_MODE_STRICT) return DoSeccomp(t, SECCOMP_SET_MODE_STRICT, 0, UserAddr());
      if (a[1] == SECCOMP_MODE_FILTER) {
        return DoSeccomp(t, SECCOMP_SET_MODE_FILTER, 0, UserAddr(a[2]));
      }
      return SysRet::Err(EINVAL);
    case PR_GET_THP_DISABLE:
      return 0;
    case PR_SET_THP_DISABLE:
      return 0;
    case PR_GET_TID_ADDRESS:
      TRY(t.CopyOut(UserPtr<uint64_t>(a[1]), t.clear_child_tid.value()));
      return 0;
    case PR_SET_MM:
      return SysRet::Err(EPERM);
    default:
      return SysRet::Err(EINVAL);
  }
}

SysRet RestartSyscall(Task& t, const SyscallArgs& a) {
  if (!t.restart_block) return SysRet::Err(EINTR);
  auto fn = std::move(t.restart_block);
  t.restart_block = nullptr;
  return fn(t);
}

SysRet Rseq(Task& t, const SyscallArgs& a) { return SysRet::Err(ENOSYS); }

}  // namespace sentry::sys
