// execve(2) / execveat(2).
#include "sentry/base/log.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/loader/loader.h"

namespace sentry {

// de_thread(): a thread other than the leader that execs becomes the
// leader and takes its tid (the process id stays), once the old leader
// has exited; the old leader's task is forgotten and the exec'ing
// thread's own tid is freed.
void Kernel::TakeOverLeaderLocked(Task& t) {
  ThreadGroup* g = t.tg();
  Task* old = g->leader;
  const int32_t pid = g->tgid();
  const int32_t own = t.tid();
  auto self = tasks_.find(own);
  SCHECK(self != tasks_.end());
  std::shared_ptr<Task> keep = self->second;
  if (old != nullptr) UnregisterTaskLocked(old->tid());
  UnregisterTaskLocked(own);
  t.tid_.store(pid, std::memory_order_relaxed);
  g->leader = &t;
  RegisterTaskLocked(std::move(keep));
}

Errno Kernel::Execve(Task& t, const vfs::VirtualDentry& start, const std::string& path,
                     std::vector<std::string> argv, std::vector<std::string> envv,
                     uint32_t flags) {
  LoadRequest req;
  req.ctx = t.PathCtx();
  req.start = start;
  req.path = path;
  req.argv = std::move(argv);
  req.envv = std::move(envv);
  req.resolve_flags = flags;
  req.stack_limit = t.tg()->limits.Cur(RLIMIT_STACK);
  req.vdso = platform_->VdsoAddress();
  LoadResult lr = TRY_ASSIGN(LoadProgram(platform_, mf_, vfs_, std::move(req)));

  // Point of no return. Other threads of the process die first (de_thread).
  {
    absl::MutexLock l(&tasks_mu_);
    ThreadGroup* g = t.tg();
    {
      absl::MutexLock sl(&g->sighand->mu);
      if (g->group_exiting) return ERESTARTNOINTR;  // a kill won the race
      for (Task* o : g->tasks) {
        if (o == &t) continue;
        o->exiting_ = true;
        o->Kill();
      }
    }
    g->execer = &t;
  }
  for (;;) {
    uint32_t seq = t.WakeSeq();
    {
      absl::MutexLock l(&tasks_mu_);
      if (t.tg()->tasks.size() == 1) {
        t.tg()->execer = nullptr;
        if (!t.IsLeader()) TakeOverLeaderLocked(t);
        t.tg()->execed = true;
        break;
      }
    }
    // Killable only: exiting threads wake us (Task::Exit wakes the execer).
    if (t.BlockKillable(seq) == BlockResult::kInterrupted) {
      absl::MutexLock l(&tasks_mu_);
      t.tg()->execer = nullptr;
      return ERESTARTNOINTR;
    }
  }

  t.platform_context()->Release();
  t.SetMM(lr.mm);
  // The fd table is unshared and close-on-exec fds close.
  auto fds = t.fds()->Fork();
  std::vector<FDTable::FilePtr> closing = fds->RemoveCloexec();
  t.SetFDTable(fds);
  closing.clear();
  {
    absl::MutexLock l(&tasks_mu_);
    ThreadGroup* g = t.tg();
    if (g->sighand.use_count() > 1) g->sighand = g->sighand->Copy();
  }
  t.tg()->sighand->ResetForExec();
  // begin_new_exec: POSIX timers go, with the signals they queued.
  t.tg()->posix_timers.Clear();
  {
    absl::MutexLock sl(&t.tg()->sighand->mu);
    t.tg()->shared_pending.DiscardTimers();
    t.pending_.DiscardTimers();
  }
  t.altstack() = SignalStack{};
  t.keep_caps = false;
  t.tg()->dumpable.store(1);
  t.clear_child_tid = UserAddr();
  t.robust_list = UserAddr();
  t.SetComm(lr.comm);
  t.arch().ResetForExec(lr.entry, lr.sp);
  if (t.vfork_done) {
    t.vfork_done->Finish();
    t.vfork_done.reset();
  }
  return 0;
}

}  // namespace sentry
