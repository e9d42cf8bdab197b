// Exit, group exit, reaping and wait.
#include <linux/futex.h>
#include <poll.h>
#include <time.h>

#include <algorithm>

#include "sentry/base/log.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"

namespace sentry {

void Kernel::GroupExit(ThreadGroup* g, int status) {
  absl::MutexLock l(&tasks_mu_);
  GroupExitLocked(g, status);
}

void Kernel::GroupExitLocked(ThreadGroup* g, int status) {
  absl::MutexLock l(&g->sighand->mu);
  if (g->group_exiting) return;
  g->group_exiting = true;
  g->group_stopped = false;
  if (!g->exit_status_set) {
    g->wait_status = status;
    g->exit_status_set = true;
  }
  for (Task* t : g->tasks) {
    t->exiting_ = true;
    t->Kill();
  }
}

void Kernel::KillAllExceptInit() {
  absl::MutexLock l(&tasks_mu_);
  for (auto& [tgid, g] : groups_) {
    if (g.get() != init_.get() && !g->kernel_only) GroupExitLocked(g.get(), SIGKILL);
  }
}

void Task::Exit() {
  {
    absl::MutexLock l(&tg_->sighand->mu);
    exiting_ = true;
    if (tg_->group_exiting) exit_status = tg_->wait_status;
  }
  // Wake pthread_join: clear the tid word and wake one waiter.
  if (!clear_child_tid.IsNull() && mm_) {
    int32_t zero = 0;
    if (mm_->CopyOut(clear_child_tid, &zero, sizeof(zero)) == 0) {
      auto key = Futexes::KeyFor(mm_.get(), clear_child_tid, false);
      if (key.ok()) k_->futexes().WakeKey(*key, FUTEX_BITSET_MATCH_ANY, 1);
    }
  }
  ctx_->Release();
  AccountCpuTime();
  {
    CpuTimes final_times = PublishedCpuTime();
    tg_->user_ns += final_times.user_ns;
    tg_->sys_ns += final_times.sys_ns;
  }
  cpu_clock_stopped_.store(true, std::memory_order_release);
  tg_->cpu_timers.ClockGone(this);
  if (vfork_done) {
    vfork_done->Finish();
    vfork_done.reset();
  }
  // Drop host-side resources outside the tree lock: the last reference to
  // an mm kills its stub process, the last to a file closes it.
  std::shared_ptr<MemoryManager> mm;
  std::shared_ptr<FDTable> fds;
  std::shared_ptr<FSContext> fs;
  {
    absl::MutexLock l(&mu_);
    mm.swap(mm_);
    fds.swap(fds_);
    fs.swap(fs_);
  }
  mm.reset();
  fds.reset();
  fs.reset();

  {
    absl::MutexLock l(&k_->tasks_mu_);
    auto& v = tg_->tasks;
    v.erase(std::remove(v.begin(), v.end(), this), v.end());
    // The children this thread created find another parent thread.
    if (!v.empty()) k_->ForgetParentLocked(tg_.get(), this, /*whole_group=*/false);
    if (v.empty()) {
      if (!tg_->exit_status_set) {
        tg_->wait_status = exit_status;
        tg_->exit_status_set = true;
      }
      k_->GroupDeadLocked(tg_.get());
    } else if (!IsLeader()) {
      // A non-leader thread is reaped at once; the leader stays a zombie
      // until its whole group is gone.
      k_->UnregisterTaskLocked(tid());
    }
    if (tg_->execer != nullptr) tg_->execer->Wake();
  }
  exited_.store(true);
  k_->TaskThreadDone();
}

void Kernel::GroupDeadLocked(ThreadGroup* g) {
  g->zombie = true;
  g->dead.store(true);
  g->posix_timers.Clear();
  // exit_sem: the process's SEM_UNDO adjustments are applied.
  if (g->sem_undo && g->sem_undo.use_count() == 1) sem_.ApplyUndo(g->sem_undo.get(), g->tgid());
  g->exit_events.Notify(POLLIN | POLLRDNORM);
  g->cpu_clock_stopped.store(true, std::memory_order_release);
  g->cpu_timers.ClockGone(nullptr);
  // A session leader's death leaves its terminal without a session.
  DisassociateTtyLocked(g, /*on_exit=*/true);
  g->tty.reset();
  // The process groups this death may orphan: its children's (in this
  // session, other than its own), before they are reparented.
  std::vector<int32_t> child_pgrps = OrphanCandidatesLocked(g);
  ForgetParentLocked(g, nullptr, /*whole_group=*/true);
  HangUpOrphanedLocked(g, child_pgrps);

  if (g == main_.get()) {
    main_exited_ = true;
    // Like the death of a pid namespace's init: everyone else dies (the
    // Sentry's own init stays until the kernel goes).
    for (auto& [tgid, other] : groups_) {
      if (other.get() != g && !other->kernel_only) GroupExitLocked(other.get(), SIGKILL);
    }
  }
  if (g->parent != nullptr && NotifyParentOfDeathLocked(g)) ReapLocked(g);
}

bool Kernel::NotifyParentOfDeathLocked(ThreadGroup* g) {
  ThreadGroup* p = g->parent;
  // Does the parent want to hear about it, or is the child auto-reaped?
  bool autoreap = false;
  {
    absl::MutexLock l(&p->sighand->mu);
    const KSigaction& a = p->sighand->actions[SIGCHLD];
    autoreap = g->exit_signal == SIGCHLD &&
               (a.handler == kSigIgn || (a.flags & SA_NOCLDWAIT));
  }
  int st = g->wait_status;
  if (g->exit_signal > 0) {
    siginfo_t si = MakeSigInfo(g->exit_signal, WIFEXITED(st) ? CLD_EXITED
                                               : WCOREDUMP(st) ? CLD_DUMPED
                                                               : CLD_KILLED);
    si.si_pid = g->tgid();
    si.si_uid = g->leader ? g->leader->creds().uid : 0;
    si.si_status = WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st);
    // In clock ticks (USER_HZ), like times(2).
    si.si_utime = static_cast<clock_t>(g->user_ns / 10000000);
    si.si_stime = static_cast<clock_t>(g->sys_ns / 10000000);
    SendSignalLocked(p, nullptr, si);
  }
  p->child_events.Notify(kEventChildExit);
  return autoreap;
}

void Kernel::ReapLocked(ThreadGroup* g) {
  g->reaped.store(true);
  g->exit_events.Notify(POLLIN | POLLRDNORM | POLLHUP);
  if (ThreadGroup* p = g->parent) {
    auto& c = p->children;
    c.erase(std::remove(c.begin(), c.end(), g), c.end());
    p->child_user_ns += g->user_ns + g->child_user_ns;
    p->child_sys_ns += g->sys_ns + g->child_sys_ns;
  }
  g->parent = nullptr;
  if (g->pgrp) {
    auto& m = g->pgrp->members;
    m.erase(std::remove(m.begin(), m.end(), g), m.end());
    g->pgrp = nullptr;
  }
  if (g->leader) UnregisterTaskLocked(g->leader->tid());
  UnregisterGroupLocked(g->tgid());
}

ErrorOr<Kernel::WaitResult> Kernel::Wait(Task& t, const WaitOptions& o) {
  ThreadGroup* self = t.tg();
  ScopedWait sw(&self->child_events, t.waiter(), kEventChildExit);
  for (;;) {
    uint32_t seq = t.WakeSeq();
    {
      absl::MutexLock l(&tasks_mu_);
      bool any = false;
      for (ThreadGroup* c : self->children) {
        bool match = o.id_type == P_ALL || (o.id_type == P_PID && c->tgid() == o.id) ||
                     (o.id_type == P_PGID && c->pgrp && c->pgrp->pgid == o.id);
        if (!match) continue;
        // __WNOTHREAD: only the children of the calling thread.
        if ((o.options & __WNOTHREAD) && c->parent_task != &t) continue;
        // __WCLONE/__WALL distinctions: children with a non-SIGCHLD exit
        // signal are "clone" children; plain wait4 skips them.
        bool clone_child = c->exit_signal != SIGCHLD;
        bool want_clone = o.options & __WCLONE;
        if (!(o.options & __WALL) && clone_child != want_clone) continue;
        any = true;
        WaitResult r;
        r.pid = c->tgid();
        r.uid = c->leader ? c->leader->creds().uid : 0;
        if (c->zombie && (o.options & WEXITED)) {
          r.status = c->wait_status;
          if (WIFEXITED(r.status)) {
            r.code = CLD_EXITED;
            r.child_status = WEXITSTATUS(r.status);
          } else {
            r.code = WCOREDUMP(r.status) ? CLD_DUMPED : CLD_KILLED;
            r.child_status = WTERMSIG(r.status);
          }
          r.user_ns = c->user_ns + c->child_user_ns;
          r.sys_ns = c->sys_ns + c->child_sys_ns;
          if (!(o.options & WNOWAIT)) ReapLocked(c);
          return r;
        }
        if ((o.options & WUNTRACED) && c->stop_event && !c->zombie) {
          r.status = (c->stop_signal << 8) | 0x7f;
          r.code = CLD_STOPPED;
          r.child_status = c->stop_signal;
          if (!(o.options & WNOWAIT)) c->stop_event = false;
          return r;
        }
        if ((o.options & WCONTINUED) && c->continue_event && !c->zombie) {
          r.status = 0xffff;
          r.code = CLD_CONTINUED;
          r.child_status = SIGCONT;
          if (!(o.options & WNOWAIT)) c->continue_event = false;
          return r;
        }
      }
      if (!any) return Err(ECHILD);
    }
    if (o.options & WNOHANG) return WaitResult{};
    if (t.Block(seq) == BlockResult::kInterrupted) return Err(ERESTARTSYS);
  }
}

}  // namespace sentry
