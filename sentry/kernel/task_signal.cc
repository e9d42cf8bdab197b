// Sending and delivering signals.
#include <poll.h>
#include <sys/syscall.h>

#include "sentry/base/log.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"

namespace sentry {

DefaultAction DefaultActionOf(int sig) {
  switch (sig) {
    case SIGCHLD: case SIGURG: case SIGWINCH:
      return DefaultAction::kIgnore;
    case SIGCONT:
      return DefaultAction::kCont;
    case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU:
      return DefaultAction::kStop;
    case SIGQUIT: case SIGILL: case SIGTRAP: case SIGABRT: case SIGBUS: case SIGFPE:
    case SIGSEGV: case SIGXCPU: case SIGXFSZ: case SIGSYS:
      return DefaultAction::kCore;
    default:
      return DefaultAction::kTerm;  // including all real-time signals
  }
}

int Kernel::FatalSignalStatus(ThreadGroup* g, int sig) {
  if (DefaultActionOf(sig) != DefaultAction::kCore) return sig;
  // do_coredump() gives up below ELF's minimum dump size (a page) and for
  // undumpable processes; the flag says a dump was made.
  constexpr uint64_t kMinCoreDump = 4096;
  if (g->dumpable.load() == 0 || g->limits.Cur(RLIMIT_CORE) < kMinCoreDump) return sig;
  return sig | WCOREFLAG;
}

namespace {
constexpr SigSet kStopSignals = SigBit(SIGSTOP) | SigBit(SIGTSTP) | SigBit(SIGTTIN) | SigBit(SIGTTOU);
}  // namespace

bool Kernel::SignalIgnoredLocked(ThreadGroup* g, int sig) {
  absl::MutexLock l(&g->sighand->mu);
  const KSigaction& a = g->sighand->actions[static_cast<size_t>(sig)];
  if (a.handler == kSigIgn) return true;
  return a.handler == kSigDfl && DefaultActionOf(sig) == DefaultAction::kIgnore;
}

bool Kernel::AddTimerOverrunLocked(ThreadGroup* g, Task* target, int timer_id, int add) {
  absl::MutexLock l(&g->sighand->mu);
  siginfo_t* si = target != nullptr ? target->pending_.FindTimer(timer_id)
                                    : g->shared_pending.FindTimer(timer_id);
  if (si == nullptr) return false;
  // Linux caps the count at DELAYTIMER_MAX (INT_MAX).
  int64_t v = static_cast<int64_t>(si->si_overrun) + add;
  si->si_overrun = static_cast<int>(std::min<int64_t>(v, INT32_MAX));
  return true;
}

void Kernel::SendSignalLocked(ThreadGroup* g, Task* target, const siginfo_t& info) {
  const int sig = info.si_signo;
  if (g->zombie || g->kernel_only) return;
  if (sig == SIGKILL) {
    GroupExitLocked(g, SIGKILL);
    return;
  }
  bool cont_event = false;
  bool queued = false;
  {
    SignalHandlers* sh = g->sighand.get();
    absl::MutexLock l(&sh->mu);
    if (g->group_exiting) return;
    if (sig == SIGCONT) {
      g->shared_pending.DiscardMask(kStopSignals);
      for (Task* t : g->tasks) t->pending_.DiscardMask(kStopSignals);
      if (g->group_stopped) {
        g->group_stopped = false;
        cont_event = true;
        for (Task* t : g->tasks) t->Interrupt();
      }
    } else if (kStopSignals & SigBit(sig)) {
      g->shared_pending.Discard(SIGCONT);
      for (Task* t : g->tasks) t->pending_.Discard(SIGCONT);
    }
    const KSigaction& a = sh->actions[static_cast<size_t>(sig)];
    // sig_ignored(): a signal blocked by the task it is sent through (the
    // target thread, or for a process the thread its pid names) is kept:
    // the handler may change before it is unblocked. sigtimedwait's
    // temporarily unblocked signals count as blocked (real_blocked).
    Task* via = target != nullptr ? target : g->leader;
    bool blocked = via != nullptr && ((via->mask_ | via->real_blocked_) & SigBit(sig)) != 0;
    bool ignored = a.handler == kSigIgn ||
                   (a.handler == kSigDfl && (DefaultActionOf(sig) == DefaultAction::kIgnore ||
                                             DefaultActionOf(sig) == DefaultAction::kCont));
    // Ignored signals are dropped unless blocked (a blocked signal stays
    // pending: the handler may change before it is unblocked).
    if (!(ignored && !blocked)) {
      if (target) {
        if (target->pending_.Enqueue(info) && !(target->mask_ & SigBit(sig))) target->Interrupt();
      } else if (g->shared_pending.Enqueue(info)) {
        // Wake one task that can take it, the leader first.
        Task* pick = nullptr;
        if (g->leader && !g->leader->exiting_ && !(g->leader->mask_ & SigBit(sig))) {
          pick = g->leader;
        } else {
          for (Task* t : g->tasks)
            if (!t->exiting_ && !(t->mask_ & SigBit(sig))) {
              pick = t;
              break;
            }
        }
        if (pick) pick->Interrupt();
      }
      queued = true;
    }
  }
  if (queued) g->signal_events.Notify(POLLIN);
  if (cont_event) NotifyParentLocked(g, CLD_CONTINUED, SIGCONT);
}

void Kernel::GroupStopLocked(ThreadGroup* g, int sig) {
  {
    absl::MutexLock l(&g->sighand->mu);
    if (g->group_exiting || g->group_stopped) return;
    g->group_stopped = true;
    for (Task* t : g->tasks) t->Interrupt();
  }
  NotifyParentLocked(g, CLD_STOPPED, sig);
}

void Kernel::NotifyParentLocked(ThreadGroup* g, int why, int status) {
  ThreadGroup* p = g->parent;
  if (p == nullptr) return;
  if (why == CLD_STOPPED) {
    g->stop_event = true;
    g->stop_signal = status;
    g->continue_event = false;
  } else if (why == CLD_CONTINUED) {
    g->continue_event = true;
    g->stop_event = false;
  }
  bool send = true;
  {
    absl::MutexLock l(&p->sighand->mu);
    const KSigaction& a = p->sighand->actions[SIGCHLD];
    if ((why == CLD_STOPPED || why == CLD_CONTINUED) && (a.flags & SA_NOCLDSTOP)) send = false;
  }
  if (send) {
    siginfo_t si = MakeSigInfo(SIGCHLD, why);
    si.si_pid = g->tgid();
    si.si_status = status;
    si.si_uid = g->leader ? g->leader->creds().uid : 0;
    SendSignalLocked(p, nullptr, si);
  }
  p->child_events.Notify(kEventChildExit);
}

SigSet Task::signal_mask() {
  absl::MutexLock l(&tg_->sighand->mu);
  return mask_;
}

void Task::SetSignalMask(SigSet m) {
  m &= ~kUnblockableSignals;
  absl::MutexLock l(&tg_->sighand->mu);
  mask_ = m;
  // Unblocking may make a pending signal deliverable now.
  if ((pending_.set() | tg_->shared_pending.set()) & ~mask_) interrupt_.store(true);
}

void Task::SetRealBlocked(SigSet m) {
  absl::MutexLock l(&tg_->sighand->mu);
  real_blocked_ = m;
}

void Task::SetSavedMask(SigSet old) {
  absl::MutexLock l(&tg_->sighand->mu);
  saved_mask_ = old;
  has_saved_mask_ = true;
  check_saved_mask_ = true;  // restore it on the way out even without a signal
}

SigSet Task::PendingSet() {
  absl::MutexLock l(&tg_->sighand->mu);
  return pending_.set() | tg_->shared_pending.set();
}

bool Task::DequeueSignal(SigSet wanted, siginfo_t* out) {
  absl::MutexLock l(&tg_->sighand->mu);
  return pending_.Dequeue(~wanted, out) || tg_->shared_pending.Dequeue(~wanted, out);
}

void Task::ForceSignal(const siginfo_t& info) {
  int sig = info.si_signo;
  absl::MutexLock tl(&k_->tasks_mu_);
  {
    absl::MutexLock l(&tg_->sighand->mu);
    KSigaction& a = tg_->sighand->actions[static_cast<size_t>(sig)];
    // A fault the program blocks or ignores would loop forever: Linux
    // (force_sig_info_to_task) unblocks it and restores the default
    // action, even over a handler when the signal was blocked.
    if ((mask_ & SigBit(sig)) || a.handler == kSigIgn) {
      mask_ &= ~SigBit(sig);
      a.handler = kSigDfl;
    }
    pending_.Enqueue(info);
    interrupt_.store(true);
  }
}

bool Task::ProcessPendingWork() {
  interrupt_.store(false, std::memory_order_release);
  check_saved_mask_ = false;
  for (;;) {
    siginfo_t info;
    KSigaction act;
    SigSet old_mask = 0, new_mask = 0;
    {
      SignalHandlers* sh = tg_->sighand.get();
      absl::MutexLock l(&sh->mu);
      if (exiting_ || tg_->group_exiting) return false;
      if (tg_->group_stopped) {
        uint32_t seq = WakeSeq();
        sh->mu.Unlock();
        Block(seq);
        interrupt_.store(false, std::memory_order_release);
        sh->mu.Lock();
        continue;
      }
      if (!pending_.Dequeue(mask_, &info) && !tg_->shared_pending.Dequeue(mask_, &info)) break;
      int sig = info.si_signo;
      act = sh->actions[static_cast<size_t>(sig)];
      if (act.handler == kSigIgn) continue;
      if (act.handler == kSigDfl) {
        DefaultAction d = DefaultActionOf(sig);
        if (d == DefaultAction::kIgnore || d == DefaultAction::kCont) continue;
        sh->mu.Unlock();
        if (d == DefaultAction::kStop) {
          {
            absl::MutexLock tl(&k_->tasks_mu_);
            // get_signal: the job control stops do nothing to an orphaned
            // process group (no one in its session could continue it);
            // SIGSTOP always stops.
            if (sig == SIGSTOP || !k_->PgrpOrphanedLocked(tg_->pgrp)) {
              k_->GroupStopLocked(tg_.get(), sig);
            }
          }
          sh->mu.Lock();
          continue;
        }
        k_->GroupExit(tg_.get(), k_->FatalSignalStatus(tg_.get(), sig));
        sh->mu.Lock();
        return false;
      }
      old_mask = has_saved_mask_ ? saved_mask_ : mask_;
      has_saved_mask_ = false;
      new_mask = mask_ | act.mask;
      if (!(act.flags & SA_NODEFER)) new_mask |= SigBit(sig);
      new_mask &= ~kUnblockableSignals;
      if (act.flags & SA_RESETHAND) sh->actions[static_cast<size_t>(sig)] = KSigaction{};
    }
    // A handler runs: decide the interrupted syscall's fate first.
    if (restart_code_ != 0) {
      bool restart = restart_code_ == ERESTARTNOINTR ||
                     (restart_code_ == ERESTARTSYS && (act.flags & SA_RESTART));
      if (restart) {
        arch_.regs.rip -= 2;
        arch_.regs.rax = arch_.regs.orig_rax;
      } else {
        arch_.regs.rax = static_cast<uint64_t>(-EINTR);
      }
      restart_code_ = 0;
    }
    if (SetupSignalFrame(info, act, old_mask) != 0) {
      // No room for the frame: Linux kills the process with SIGSEGV.
      SLOG(kDebug, "task %d: cannot build a frame for signal %d", tid(), info.si_signo);
      k_->GroupExit(tg_.get(), SIGSEGV);
      return false;
    }
    absl::MutexLock l(&tg_->sighand->mu);
    mask_ = new_mask;
    return true;
  }
  // Nothing delivered: the interrupted syscall restarts and a temporary
  // mask (sigsuspend) goes back.
  ApplyRestartWithoutHandler();
  absl::MutexLock l(&tg_->sighand->mu);
  if (has_saved_mask_) {
    mask_ = saved_mask_;
    has_saved_mask_ = false;
    if ((pending_.set() | tg_->shared_pending.set()) & ~mask_) interrupt_.store(true);
  }
  return true;
}

}  // namespace sentry
