// Signal syscalls.
#include <signal.h>

#include <cstring>

#include "syscalls/handlers.h"
#include "syscalls/util.h"

namespace sentry::sys {
namespace {

constexpr int kCapKill = 5;

bool MayKill(Task& t, ThreadGroup* g, int sig) {
  vfs::Credentials c = t.creds();
  if (c.HasCap(kCapKill)) return true;
  if (g->leader == nullptr) return false;
  vfs::Credentials tc = g->leader->creds();
  if (c.euid == tc.uid || c.euid == tc.suid || c.uid == tc.uid || c.uid == tc.suid) return true;
  // SIGCONT within the same session is always allowed.
  return sig == SIGCONT && t.tg()->pgrp && g->pgrp && t.tg()->pgrp->session == g->pgrp->session;
}

// Init (pid 1) only gets signals it has a handler for, as a pid
// namespace's init (SIGNAL_UNKILLABLE) when signalled from inside.
bool InitIgnores(Kernel& k, ThreadGroup* g, int sig) {
  if (g != k.init_group() || !k.options().protect_init) return false;
  absl::MutexLock l(&g->sighand->mu);
  return g->sighand->actions[static_cast<size_t>(sig)].handler == kSigDfl;
}

siginfo_t UserInfo(Task& t, int sig, int code) {
  siginfo_t si = MakeSigInfo(sig, code);
  si.si_pid = t.tgid();
  si.si_uid = t.creds().uid;
  return si;
}

// Delivers to one group; sig 0 only checks.
Errno SendToGroupLocked(Task& t, ThreadGroup* g, const siginfo_t& si)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(t.kernel().tasks_mu_) {
  if (!MayKill(t, g, si.si_signo)) return EPERM;
  if (si.si_signo == 0 || g->zombie) return 0;
  if (InitIgnores(t.kernel(), g, si.si_signo)) return 0;
  t.kernel().SendSignalLocked(g, nullptr, si);
  return 0;
}

}  // namespace

SysRet Kill(Task& t, const SyscallArgs& a) {
  int32_t pid = static_cast<int32_t>(a[0]);
  int sig = static_cast<int>(a[1]);
  if (sig < 0 || sig > kNumSignals) return SysRet::Err(EINVAL);
  siginfo_t si = UserInfo(t, sig, SI_USER);
  Kernel& k = t.kernel();
  if (pid > 0) {
    auto g = k.GroupByTgid(pid);
    if (!g) return SysRet::Err(ESRCH);
    absl::MutexLock l(&k.tasks_mu_);
    return SendToGroupLocked(t, g.get(), si);
  }
  if (pid == -1) {
    auto groups = k.AllGroups();
    absl::MutexLock l(&k.tasks_mu_);
    bool found = false;
    Errno last = ESRCH;
    for (auto& g : groups) {
      if (g.get() == k.init_group() || g.get() == t.tg() || g->zombie) continue;
      found = true;
      last = SendToGroupLocked(t, g.get(), si);
    }
    return found ? 0 : SysRet::Err(last);
  }
  // A process group: 0 is the caller's.
  absl::MutexLock l(&k.tasks_mu_);
  int32_t pgid = pid == 0 ? (t.tg()->pgrp ? t.tg()->pgrp->pgid : 0) : -pid;
  ProcessGroup* pg = k.FindProcessGroupLocked(pgid);
  if (pg == nullptr || pg->members.empty()) return SysRet::Err(ESRCH);
  Errno result = EPERM;
  for (ThreadGroup* g : std::vector<ThreadGroup*>(pg->members)) {
    if (SendToGroupLocked(t, g, si) == 0) result = 0;
  }
  return result == 0 ? 0 : SysRet::Err(result);
}

namespace {
SysRet SendToThread(Task& t, int32_t tgid, int32_t tid, int sig, const siginfo_t& si) {
  if (sig < 0 || sig > kNumSignals) return SysRet::Err(EINVAL);
  if (tid <= 0 || (tgid != -1 && tgid <= 0)) return SysRet::Err(EINVAL);
  Kernel& k = t.kernel();
  auto target = k.TaskByTid(tid);
  if (!target || (tgid != -1 && target->tgid() != tgid) || target->exited()) {
    return SysRet::Err(ESRCH);
  }
  absl::MutexLock l(&k.tasks_mu_);
  if (!MayKill(t, target->tg(), sig)) return SysRet::Err(EPERM);
  if (sig == 0) return 0;
  if (InitIgnores(k, target->tg(), sig)) return 0;
  k.SendSignalLocked(target->tg(), target.get(), si);
  return 0;
}
}  // namespace

SysRet Tkill(Task& t, const SyscallArgs& a) {
  int sig = static_cast<int>(a[1]);
  return SendToThread(t, -1, static_cast<int32_t>(a[0]), sig, UserInfo(t, sig, SI_TKILL));
}

SysRet Tgkill(Task& t, const SyscallArgs& a) {
  int sig = static_cast<int>(a[2]);
  return SendToThread(t, static_cast<int32_t>(a[0]), static_cast<int32_t>(a[1]), sig,
                      UserInfo(t, sig, SI_TKILL));
}

SysRet RtSigqueueinfo(Task& t, const SyscallArgs& a) {
  int sig = static_cast<int>(a[1]);
  siginfo_t si;
  TRY(t.CopyInBytes(UserAddr(a[2]), &si, sizeof(si)));
  // Only the kernel may claim kernel-generated codes, except to oneself.
  if ((si.si_code >= 0 || si.si_code == SI_TKILL) && static_cast<int32_t>(a[0]) != t.tgid()) {
    return SysRet::Err(EPERM);
  }
  si.si_signo = sig;
  if (sig < 0 || sig > kNumSignals) return SysRet::Err(EINVAL);
  auto g = t.kernel().GroupByTgid(static_cast<int32_t>(a[0]));
  if (!g) return SysRet::Err(ESRCH);
  absl::MutexLock l(&t.kernel().tasks_mu_);
  return SendToGroupLocked(t, g.get(), si);
}

SysRet PidfdSendSignal(Task& t, const SyscallArgs& a) {
  auto g = TRY_ASSIGN(GetPidFdGroup(t, static_cast<int>(a[0]), nullptr));
  int sig = static_cast<int>(a[1]);
  // The scope (Linux 6.9): at most one of the thread the pidfd names (a
  // process pidfd names its leader), its process (the default), or its
  // process group.
  constexpr uint64_t kThread = 1, kThreadGroup = 2, kProcessGroup = 4;
  uint64_t scope = a[3];
  if (scope & ~(kThread | kThreadGroup | kProcessGroup)) return SysRet::Err(EINVAL);
  if (scope != 0 && (scope & (scope - 1)) != 0) return SysRet::Err(EINVAL);
  if (sig < 0 || sig > kNumSignals) return SysRet::Err(EINVAL);
  siginfo_t si;
  if (a[2] != 0) {
    TRY(t.CopyInBytes(UserAddr(a[2]), &si, sizeof(si)));
    if (si.si_signo != sig) return SysRet::Err(EINVAL);
    // As rt_sigqueueinfo: kernel codes only to oneself.
    if ((si.si_code >= 0 || si.si_code == SI_TKILL) && g.get() != t.tg()) {
      return SysRet::Err(EPERM);
    }
  } else {
    si = UserInfo(t, sig, scope == kThread ? SI_TKILL : SI_USER);
  }
  Kernel& k = t.kernel();
  absl::MutexLock l(&k.tasks_mu_);
  if (g->dead.load()) return SysRet::Err(ESRCH);
  if (scope == kProcessGroup) {
    ProcessGroup* pg = g->pgrp;
    if (pg == nullptr || pg->members.empty()) return SysRet::Err(ESRCH);
    Errno result = EPERM;
    for (ThreadGroup* m : std::vector<ThreadGroup*>(pg->members)) {
      if (SendToGroupLocked(t, m, si) == 0) result = 0;
    }
    return result == 0 ? 0 : SysRet::Err(result);
  }
  if (scope == kThread) {
    Task* leader = k.TaskByTidLocked(g->tgid());
    if (leader == nullptr || leader->exited()) return SysRet::Err(ESRCH);
    if (!MayKill(t, g.get(), sig)) return SysRet::Err(EPERM);
    if (sig == 0 || InitIgnores(k, g.get(), sig)) return 0;
    k.SendSignalLocked(g.get(), leader, si);
    return 0;
  }
  return SendToGroupLocked(t, g.get(), si);
}

SysRet RtTgsigqueueinfo(Task& t, const SyscallArgs& a) {
  int sig = static_cast<int>(a[2]);
  siginfo_t si;
  TRY(t.CopyInBytes(UserAddr(a[3]), &si, sizeof(si)));
  if ((si.si_code >= 0 || si.si_code == SI_TKILL) && static_cast<int32_t>(a[0]) != t.tgid()) {
    return SysRet::Err(EPERM);
  }
  si.si_signo = sig;
  return SendToThread(t, static_cast<int32_t>(a[0]), static_cast<int32_t>(a[1]), sig, si);
}

SysRet RtSigaction(Task& t, const SyscallArgs& a) {
  int sig = static_cast<int>(a[0]);
  if (a[3] != sizeof(SigSet)) return SysRet::Err(EINVAL);
  if (!IsValidSignal(sig)) return SysRet::Err(EINVAL);
  KSigaction nact;
  if (a[1] != 0) {
    if (sig == SIGKILL || sig == SIGSTOP) return SysRet::Err(EINVAL);
    TRY(t.CopyInBytes(UserAddr(a[1]), &nact, sizeof(nact)));
    nact.mask &= ~kUnblockableSignals;
  }
  KSigaction old;
  {
    absl::MutexLock tl(&t.kernel().tasks_mu_);
    ThreadGroup* g = t.tg();
    absl::MutexLock l(&g->sighand->mu);
    old = g->sighand->actions[static_cast<size_t>(sig)];
    if (a[1] != 0) {
      g->sighand->actions[static_cast<size_t>(sig)] = nact;
      // A signal that is now ignored is discarded wherever it is pending.
      bool ignored = nact.handler == kSigIgn ||
                     (nact.handler == kSigDfl && DefaultActionOf(sig) == DefaultAction::kIgnore);
      if (ignored) {
        g->shared_pending.Discard(sig);
        for (Task* o : g->tasks) o->pending_.Discard(sig);
      }
    }
  }
  if (a[2] != 0) TRY(t.CopyOutBytes(UserAddr(a[2]), &old, sizeof(old)));
  return 0;
}

SysRet RtSigprocmask(Task& t, const SyscallArgs& a) {
  if (a[3] != sizeof(SigSet)) return SysRet::Err(EINVAL);
  SigSet old = t.signal_mask();
  if (a[1] != 0) {
    SigSet set;
    TRY(t.CopyIn(UserPtr<SigSet>(a[1]), &set));
    SigSet m;
    switch (static_cast<int>(a[0])) {
      case SIG_BLOCK: m = old | set; break;
      case SIG_UNBLOCK: m = old & ~set; break;
      case SIG_SETMASK: m = set; break;
      default: return SysRet::Err(EINVAL);
    }
    t.SetSignalMask(m);
  }
  if (a[2] != 0) TRY(t.CopyOut(UserPtr<SigSet>(a[2]), old));
  return 0;
}

SysRet RtSigreturn(Task& t, const SyscallArgs& a) { return t.SigReturn(); }

SysRet RtSigpending(Task& t, const SyscallArgs& a) {
  if (a[1] > sizeof(SigSet)) return SysRet::Err(EINVAL);
  SigSet p = t.PendingSet() & t.signal_mask();
  TRY(t.CopyOutBytes(UserAddr(a[0]), &p, a[1]));
  return 0;
}

SysRet RtSigsuspend(Task& t, const SyscallArgs& a) {
  if (a[1] != sizeof(SigSet)) return SysRet::Err(EINVAL);
  SigSet m;
  TRY(t.CopyIn(UserPtr<SigSet>(a[0]), &m));
  SigSet old = t.signal_mask();
  t.SetSignalMask(m);
  t.SetSavedMask(old);
  // Sleep until a signal interrupts; the handler runs with the old mask
  // saved in its frame, and sigsuspend then returns EINTR.
  while (t.Sleep(absl::InfiniteFuture()) != BlockResult::kInterrupted) {
  }
  return SysRet::Err(ERESTARTNOHAND);
}

SysRet Pause(Task& t, const SyscallArgs& a) {
  while (t.Sleep(absl::InfiniteFuture()) != BlockResult::kInterrupted) {
  }
  return SysRet::Err(ERESTARTNOHAND);
}

SysRet Sigaltstack(Task& t, const SyscallArgs& a) {
  SignalStack& cur = t.altstack();
  bool on = cur.Contains(t.arch().regs.rsp);
  if (a[1] != 0) {
    SignalStack old = cur;
    if (on) old.flags = SS_ONSTACK;
    if (old.flags == 0 || old.flags == SS_ONSTACK) old.flags = on ? SS_ONSTACK : 0;
    TRY(t.CopyOutBytes(UserAddr(a[1]), &old, sizeof(old)));
  }
  if (a[0] != 0) {
    SignalStack ns;
    TRY(t.CopyInBytes(UserAddr(a[0]), &ns, sizeof(ns)));
    if (on) return SysRet::Err(EPERM);
    int mode = ns.flags & ~(1 << 31);  // SS_AUTODISARM
    if (mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0) return SysRet::Err(EINVAL);
    if (mode == SS_DISABLE) {
      cur = SignalStack{};
    } else {
      if (ns.size < 2048) return SysRet::Err(ENOMEM);  // MINSIGSTKSZ
      cur.sp = ns.sp;
      cur.size = ns.size;
      cur.flags = 0;
    }
  }
  return 0;
}

SysRet RtSigtimedwait(Task& t, const SyscallArgs& a) {
  if (a[3] != sizeof(SigSet)) return SysRet::Err(EINVAL);
  SigSet set;
  TRY(t.CopyIn(UserPtr<SigSet>(a[0]), &set));
  set &= ~kUnblockableSignals;
  absl::Time deadline = absl::InfiniteFuture();
  if (a[2] != 0) deadline = absl::Now() + TRY_ASSIGN(CopyInTimespecDuration(t, a[2]));
  SigSet old = t.signal_mask();
  // The waited-for signals are unblocked for the duration; the old mask
  // stays in real_blocked so they are not dropped as ignored meanwhile.
  t.SetRealBlocked(old);
  t.SetSignalMask(old & ~set);
  siginfo_t si;
  SysRet r = SysRet::Err(EAGAIN);
  for (;;) {
    uint32_t seq = t.WakeSeq();
    if (t.DequeueSignal(set, &si)) {
      r = si.si_signo;
      break;
    }
    BlockResult b = t.Block(seq, deadline);
    if (b == BlockResult::kTimedOut) break;
    if (b == BlockResult::kInterrupted) {
      if (t.DequeueSignal(set, &si)) {
        r = si.si_signo;
      } else {
        // EINTR if a handler runs; restarted if the wakeup delivered nothing.
        r = SysRet::Err(ERESTARTNOHAND);
      }
      break;
    }
  }
  t.SetSignalMask(old);
  t.SetRealBlocked(0);
  if (r.ok() && a[1] != 0) TRY(t.CopyOutBytes(UserAddr(a[1]), &si, sizeof(si)));
  return r;
}

}  // namespace sentry::sys
