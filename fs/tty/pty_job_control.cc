// Terminal job control for ptys (drivers/tty/tty_jobctrl.c): the
// background check, acquiring a controlling terminal, and the ioctls
// TIOCSCTTY, TIOCNOTTY, TIOCGPGRP, TIOCSPGRP and TIOCGSID.
#include <asm/ioctls.h>
#include <signal.h>

#include "fs/tty/pty.h"
#include "sentry/kernel/kernel.h"

namespace sentry::tty {
namespace {

bool IsLeaderLocked(ThreadGroup* g) {
  return g->pgrp != nullptr && g->pgrp->session->sid == g->tgid();
}

}  // namespace

Errno Pty::CheckChange(Task* t, int sig) {
  if (t == nullptr || k_ == nullptr) return 0;
  absl::MutexLock l(&k_->tasks_mu_);
  ThreadGroup* g = t->tg();
  if (g->tty.get() != this) return 0;
  if (fg_pgid == 0 || g->pgrp == nullptr || g->pgrp->pgid == fg_pgid) return 0;
  bool ignored;
  {
    absl::MutexLock sl(&g->sighand->mu);
    ignored = g->sighand->actions[static_cast<size_t>(sig)].handler == kSigIgn;
  }
  ignored = ignored || (t->signal_mask() & SigBit(sig));
  if (ignored) return sig == SIGTTIN ? EIO : 0;
  if (k_->PgrpOrphanedLocked(g->pgrp)) return EIO;
  k_->SignalProcessGroupLocked(g->pgrp->pgid, sig);
  return ERESTARTSYS;
}

void Pty::MaybeAcquireOnOpen(Task* t) {
  if (t == nullptr || k_ == nullptr) return;
  absl::MutexLock l(&k_->tasks_mu_);
  ThreadGroup* g = t->tg();
  if (!IsLeaderLocked(g) || g->tty != nullptr || sid != 0) return;
  sid = g->tgid();
  fg_pgid = g->pgrp->pgid;
  g->tty = shared_from_this();
}

SysRet Pty::JobControlIoctl(Task* t, FileDescription* f, bool master, uint32_t cmd,
                            uint64_t arg) {
  Kernel& k = t->kernel();
  switch (cmd) {
    case TIOCSCTTY: {
      const bool admin = t->creds().HasCap(vfs::kCapSysAdmin);
      absl::MutexLock l(&k.tasks_mu_);
      ThreadGroup* g = t->tg();
      const bool leader = IsLeaderLocked(g);
      if (leader && sid == g->tgid()) return 0;  // already ours
      if (!leader || g->tty != nullptr) return SysRet::Err(EPERM);
      if (sid != 0) {
        // Another session's terminal: only stolen by force.
        if (static_cast<int>(arg) != 1 || !admin) return SysRet::Err(EPERM);
        k.ClearSessionTtyLocked(sid, this);
      }
      if (!f->readable() && !admin) return SysRet::Err(EPERM);
      sid = g->tgid();
      fg_pgid = g->pgrp->pgid;
      g->tty = shared_from_this();
      return 0;
    }
    case TIOCNOTTY: {
      if (master) return SysRet::Err(ENOTTY);  // the master is never a ctty
      std::shared_ptr<Terminal> keep;  // dropped after the lock
      absl::MutexLock l(&k.tasks_mu_);
      ThreadGroup* g = t->tg();
      if (g->tty.get() != this) return SysRet::Err(ENOTTY);
      keep = g->tty;
      if (IsLeaderLocked(g)) k.DisassociateTtyLocked(g, /*on_exit=*/false);
      g->tty.reset();
      return 0;
    }
    case TIOCGPGRP: {
      int32_t pg;
      {
        absl::MutexLock l(&k.tasks_mu_);
        if (!master && t->tg()->tty.get() != this) return SysRet::Err(ENOTTY);
        pg = fg_pgid;
      }
      TRY(t->CopyOut(UserPtr<int32_t>(arg), pg));
      return 0;
    }
    case TIOCGSID: {
      int32_t s;
      {
        absl::MutexLock l(&k.tasks_mu_);
        if (!master && t->tg()->tty.get() != this) return SysRet::Err(ENOTTY);
        if (sid == 0) return SysRet::Err(ENOTTY);
        s = sid;
      }
      TRY(t->CopyOut(UserPtr<int32_t>(arg), s));
      return 0;
    }
    case TIOCSPGRP: {
      Errno e = CheckChange(t, SIGTTOU);
      if (e == EIO) return SysRet::Err(ENOTTY);
      TRY(e);
      int32_t pgid;
      TRY(t->CopyIn(UserPtr<int32_t>(arg), &pgid));
      if (pgid < 0) return SysRet::Err(EINVAL);
      absl::MutexLock l(&k.tasks_mu_);
      ThreadGroup* g = t->tg();
      if (g->tty.get() != this || g->pgrp == nullptr || sid != g->pgrp->session->sid) {
        return SysRet::Err(ENOTTY);
      }
      // session_of_pgrp: the group's session, or that of the process with
      // this pid when no group has it.
      Session* s = nullptr;
      if (ProcessGroup* pg = k.LiveProcessGroupLocked(pgid)) {
        s = pg->session;
      } else if (Task* other = pgid > 0 ? k.TaskByTidLocked(pgid) : nullptr;
                 other != nullptr && !other->tg()->zombie && other->tg()->pgrp != nullptr) {
        s = other->tg()->pgrp->session;
      } else {
        return SysRet::Err(ESRCH);
      }
      if (s != g->pgrp->session) return SysRet::Err(EPERM);
      fg_pgid = pgid;
      return 0;
    }
    default:
      return SysRet::Err(ENOTTY);
  }
}

}  // namespace sentry::tty
