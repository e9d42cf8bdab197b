// Job control helpers the terminals use (see kernel.h and terminal.h):
// Linux's kill_pgrp, will_become_orphaned_pgrp, disassociate_ctty and
// session_clear_tty.
#include <algorithm>
#include <vector>

#include "sentry/kernel/kernel.h"

namespace sentry {

ProcessGroup* Kernel::LiveProcessGroupLocked(int32_t pgid) {
  ProcessGroup* pg = FindProcessGroupLocked(pgid);
  if (pg == nullptr) return nullptr;
  bool live = std::any_of(pg->members.begin(), pg->members.end(),
                          [](ThreadGroup* g) { return !g->zombie; });
  return live ? pg : nullptr;
}

void Kernel::SignalProcessGroupLocked(int32_t pgid, int sig) {
  ProcessGroup* pg = FindProcessGroupLocked(pgid);
  if (pg == nullptr) return;
  siginfo_t si = MakeSigInfo(sig, SI_KERNEL);
  // Sending may change membership (a fatal signal starts an exit, which
  // does not leave the group until reaped); iterate over a copy anyway.
  for (ThreadGroup* g : std::vector<ThreadGroup*>(pg->members)) {
    if (g->zombie || g->kernel_only) continue;
    SendSignalLocked(g, nullptr, si);
  }
}

bool Kernel::PgrpOrphanedLocked(ProcessGroup* pg) {
  if (pg == nullptr) return true;
  for (ThreadGroup* g : pg->members) {
    if (g->zombie) continue;
    ThreadGroup* p = g->parent;
    if (p == nullptr || p == init_.get()) continue;
    if (p->pgrp != pg && p->pgrp != nullptr && p->pgrp->session == pg->session) return false;
  }
  return true;
}

std::vector<int32_t> Kernel::OrphanCandidatesLocked(ThreadGroup* g) {
  std::vector<int32_t> out;
  if (g->pgrp == nullptr) return out;
  for (ThreadGroup* c : g->children) {
    if (c->zombie || c->pgrp == nullptr || c->pgrp == g->pgrp) continue;
    if (c->pgrp->session != g->pgrp->session) continue;
    if (std::find(out.begin(), out.end(), c->pgrp->pgid) == out.end()) {
      out.push_back(c->pgrp->pgid);
    }
  }
  return out;
}

void Kernel::HangUpOrphanedLocked(ThreadGroup* g, const std::vector<int32_t>& child_pgrps) {
  auto has_stopped = [](ProcessGroup* pg) {
    for (ThreadGroup* m : pg->members) {
      if (m->zombie) continue;
      absl::MutexLock l(&m->sighand->mu);
      if (m->group_stopped) return true;
    }
    return false;
  };
  std::vector<int32_t> pgids = child_pgrps;
  ThreadGroup* p = g->parent;
  if (g->pgrp != nullptr && p != nullptr && p->pgrp != nullptr && p->pgrp != g->pgrp &&
      p->pgrp->session == g->pgrp->session &&
      std::find(pgids.begin(), pgids.end(), g->pgrp->pgid) == pgids.end()) {
    pgids.push_back(g->pgrp->pgid);
  }
  for (int32_t pgid : pgids) {
    ProcessGroup* pg = LiveProcessGroupLocked(pgid);
    if (pg == nullptr || !PgrpOrphanedLocked(pg) || !has_stopped(pg)) continue;
    SignalProcessGroupLocked(pgid, SIGHUP);
    SignalProcessGroupLocked(pgid, SIGCONT);
  }
}

void Kernel::ClearSessionTtyLocked(int32_t sid, Terminal* tty) {
  Session* s = FindSessionLocked(sid);
  if (s == nullptr) return;
  for (ProcessGroup* pg : s->groups) {
    for (ThreadGroup* g : pg->members) {
      if (g->tty.get() == tty) g->tty.reset();
    }
  }
}

void Kernel::DisassociateTtyLocked(ThreadGroup* g, bool on_exit) {
  if (g->pgrp == nullptr || g->pgrp->session->sid != g->tgid()) return;  // not a leader
  std::shared_ptr<Terminal> tty = g->tty;
  if (tty == nullptr) return;
  // A pty is not hung up when its session ends; its foreground group
  // hears SIGHUP (and SIGCONT when the leader merely lets go: TIOCNOTTY).
  if (tty->fg_pgid != 0) {
    int32_t fg = tty->fg_pgid;
    SignalProcessGroupLocked(fg, SIGHUP);
    if (!on_exit) SignalProcessGroupLocked(fg, SIGCONT);
  }
  if (tty->sid == g->tgid()) {
    tty->sid = 0;
    tty->fg_pgid = 0;
  }
  ClearSessionTtyLocked(g->tgid(), tty.get());
  g->tty.reset();
}

}  // namespace sentry
