// clone(2), fork(2), vfork(2), clone3(2).
#include <linux/sched.h>  // CLONE_CLEAR_SIGHAND and other clone3-era flags
#include <sched.h>

#include "fs/anon/pidfd.h"
#include "sentry/base/log.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"

namespace sentry {
namespace {
constexpr uint64_t kNamespaceFlags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
                                     CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP | CLONE_NEWTIME;
}  // namespace

ErrorOr<int32_t> Kernel::Clone(Task& parent, const CloneArgs& a) {
  const uint64_t f = a.flags;
  // copy_process()'s consistency rules.
  if ((f & CLONE_THREAD) && !(f & CLONE_SIGHAND)) return Err(EINVAL);
  if ((f & CLONE_SIGHAND) && !(f & CLONE_VM)) return Err(EINVAL);
  if ((f & CLONE_NEWNS) && (f & CLONE_FS)) return Err(EINVAL);
  if ((f & CLONE_NEWUSER) && (f & CLONE_FS)) return Err(EINVAL);
  if ((f & (CLONE_PARENT | CLONE_THREAD)) && parent.tgid() == 1 && init_.get() == parent.tg() &&
      (f & CLONE_PARENT)) {
    return Err(EINVAL);  // init may not create siblings
  }
  if ((f & CLONE_PIDFD) && (f & CLONE_DETACHED)) return Err(EINVAL);
  if ((f & CLONE_CLEAR_SIGHAND) && (f & CLONE_SIGHAND)) return Err(EINVAL);
  // Namespaces inside the sandbox are not implemented yet (see the
  // syscall table); refuse rather than pretend.
  if (f & kNamespaceFlags) return Err(EINVAL);
  // A pidfd names a process, not a thread (before PIDFD_THREAD).
  if ((f & CLONE_PIDFD) && (f & CLONE_THREAD)) return Err(EINVAL);
  if (f & CLONE_PIDFD) {
    // The pidfd is written back before the child exists, so a bad pointer
    // fails the clone without leaving a child behind.
    int32_t probe = -1;
    if (parent.mm()->CopyOut(a.pidfd, &probe, sizeof(probe)) != 0) return Err(EFAULT);
  }
  if (a.exit_signal < 0 || a.exit_signal > kNumSignals) return Err(EINVAL);

  // Resources the child gets.
  std::shared_ptr<MemoryManager> mm;
  if (f & CLONE_VM) {
    mm = parent.mm_ptr();
  } else {
    mm = TRY_ASSIGN(parent.mm()->Fork());
  }
  std::shared_ptr<FDTable> fds = (f & CLONE_FILES) ? parent.fds_ptr() : parent.fds()->Fork();
  std::shared_ptr<FSContext> fs = (f & CLONE_FS) ? parent.fs_ptr() : parent.fs()->Fork();

  parent.platform_context()->PullFpState(parent.arch());

  std::shared_ptr<Task> child;
  {
    absl::MutexLock l(&tasks_mu_);
    ThreadGroup* ptg = parent.tg();
    {
      absl::MutexLock sl(&ptg->sighand->mu);
      // A fatal signal or exit already started: do not create anything.
      if (ptg->group_exiting || parent.exiting_) return Err(ERESTARTNOINTR);
    }
    int32_t tid = TRY_ASSIGN(AllocPidLocked());
    std::shared_ptr<ThreadGroup> tg;
    if (f & CLONE_THREAD) {
      tg = parent.tg_ptr();
    } else {
      auto sh = (f & CLONE_SIGHAND) ? ptg->sighand : ptg->sighand->Copy();
      // Handlers go back to SIG_DFL, ignored signals stay ignored (as at exec).
      if (f & CLONE_CLEAR_SIGHAND) sh->ResetForExec();
      tg = std::make_shared<ThreadGroup>(this, tid, std::move(sh));
      tg->exit_signal = a.exit_signal;
      // CLONE_SYSVSEM shares the undo list; otherwise the child has none.
      if (f & CLONE_SYSVSEM) {
        if (!ptg->sem_undo) {
          ptg->sem_undo = std::make_shared<SemUndo>();
          sem_.Track(ptg->sem_undo);
        }
        tg->sem_undo = ptg->sem_undo;
      }
      ThreadGroup* pp = (f & CLONE_PARENT) ? ptg->parent : ptg;
      tg->parent = pp;
      tg->parent_task = (f & CLONE_PARENT) ? ptg->parent_task : &parent;
      if (pp) pp->children.push_back(tg.get());
      for (int r = 0; r < RLIM_NLIMITS; r++) tg->limits.Set(r, ptg->limits.Get(r));
      tg->start_ns = UptimeNs();
      tg->oom_score_adj = ptg->oom_score_adj.load();
      tg->dumpable = ptg->dumpable.load();
      if (ptg->pgrp) JoinProcessGroupLocked(tg.get(), ptg->pgrp);
      tg->tty = ptg->tty;  // the controlling terminal is inherited
      RegisterGroupLocked(tg);
    }
    child = std::make_shared<Task>(this, tg, tid);
    {
      // Under tasks_mu_, with the child joining the group in the same
      // section: a sibling's TSYNC either changed our filters already or
      // will find the child in tg->tasks.
      absl::MutexLock sl(&ptg->sighand->mu);
      child->InheritSeccompLocked(parent);
    }
    if (!(f & CLONE_THREAD)) tg->leader = child.get();
    tg->tasks.push_back(child.get());
    RegisterTaskLocked(child);
    forks++;
    running_threads_++;
  }

  child->SetMM(mm);
  child->SetFDTable(fds);
  child->SetFS(fs);
  child->SetCreds(parent.creds());
  child->SetComm(parent.comm());
  // Per-thread state a new task inherits (the death signal does not).
  child->no_new_privs.store(parent.no_new_privs.load());
  child->keep_caps = parent.keep_caps;
  child->timer_slack_ns = parent.timer_slack_ns;
  child->nice.store(parent.nice.load());
  child->SetCpuAffinity(parent.cpu_affinity());
  ArchContext& ca = child->arch();
  ca = parent.arch();
  ca.regs.rax = 0;
  if (a.stack != 0) ca.regs.rsp = a.stack;
  if (f & CLONE_SETTLS) ca.regs.fs_base = a.tls;
  ca.fp_valid = true;
  ca.fp_dirty = true;
  {
    absl::MutexLock l(&parent.tg()->sighand->mu);
    child->mask_ = parent.mask_;
  }
  if (!(f & CLONE_VM) || (f & CLONE_VFORK)) child->altstack() = parent.altstack();
  if (f & CLONE_CHILD_SETTID) child->child_settid = a.child_tid;
  if (f & CLONE_CHILD_CLEARTID) child->clear_child_tid = a.child_tid;

  if (f & CLONE_VM) {
    auto as = TRY_ASSIGN(mm->GetAddressSpace());
    Errno e = parent.platform_context()->PrepareSibling(as, *child->platform_context());
    if (e != 0) {
      SLOG(kWarning, "clone: cannot create a platform thread: %s", strerror(e));
      // Unwind: the child never ran; make it exit at once.
      absl::MutexLock l(&tasks_mu_);
      child->exiting_ = true;
    }
  }
  int32_t tid = child->tid();
  if (f & CLONE_PARENT_SETTID) (void)parent.mm()->CopyOut(a.parent_tid, &tid, sizeof(tid));
  if (f & CLONE_PIDFD) {
    // pidfds are always close-on-exec.
    auto fd = parent.fds()->Add(vfs::NewPidFd(child->tg_ptr(), 0), /*cloexec=*/true, 0,
                                parent.tg()->limits.Cur(RLIMIT_NOFILE));
    int32_t v = fd.ok() ? *fd : -1;
    (void)parent.mm()->CopyOut(a.pidfd, &v, sizeof(v));
  }

  std::shared_ptr<VforkWait> vw;
  if (f & CLONE_VFORK) {
    vw = std::make_shared<VforkWait>();
    vw->parent = &parent;
    child->vfork_done = vw;
  }
  child->Start(child);
  if (vw) {
    // The parent sleeps until the child execs or exits, killably.
    for (;;) {
      uint32_t seq = parent.WakeSeq();
      {
        absl::MutexLock l(&vw->mu);
        if (vw->done) break;
      }
      if (parent.BlockKillable(seq) == BlockResult::kInterrupted) break;
    }
  }
  return tid;
}

}  // namespace sentry
