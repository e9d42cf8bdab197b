// Reparenting when a parent thread or process dies, PR_SET_PDEATHSIG and
// child subreapers (Linux's forget_original_parent()).
#include <algorithm>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"

namespace sentry {
namespace {

// The nearest ancestor of `g` that is a live child subreaper
// (find_new_reaper()), else null.
ThreadGroup* FindSubreaperLocked(Kernel& k, ThreadGroup* g) {
  for (ThreadGroup* a = g->parent; a != nullptr; a = a->parent) {
    if (a->subreaper && !a->zombie && k.AliveThreadLocked(a) != nullptr) return a;
  }
  return nullptr;
}

}  // namespace

Task* Kernel::AliveThreadLocked(ThreadGroup* g) {
  absl::MutexLock l(&g->sighand->mu);
  for (Task* t : g->tasks) {
    if (!t->exiting_) return t;
  }
  return nullptr;
}

void Kernel::ForgetParentLocked(ThreadGroup* g, Task* dead, bool whole_group) {
  std::vector<ThreadGroup*> moving;
  for (ThreadGroup* c : g->children) {
    if (whole_group || c->parent_task == dead) moving.push_back(c);
  }
  if (moving.empty()) return;
  // Another thread of the same process, while one lives; else the nearest
  // live subreaper, else init.
  ThreadGroup* reaper = g;
  Task* heir = whole_group ? nullptr : AliveThreadLocked(g);
  if (heir == nullptr) {
    reaper = FindSubreaperLocked(*this, g);
    if (reaper == nullptr) reaper = init_.get();
    if (reaper == g) reaper = nullptr;  // init itself dies: nobody is left
    if (reaper != nullptr) {
      heir = AliveThreadLocked(reaper);
      if (heir == nullptr) heir = reaper->leader;
    }
  }
  // The death signal names the thread that exited, as a kill(2) from it.
  const int32_t from_pid = g->tgid();
  const uint32_t from_uid = dead != nullptr ? dead->creds().uid
                            : g->leader != nullptr ? g->leader->creds().uid : 0;
  bool reaper_has_zombie = false;
  for (ThreadGroup* c : moving) {
    c->parent_task = heir;
    if (reaper != g) {
      auto& v = g->children;
      v.erase(std::remove(v.begin(), v.end(), c), v.end());
      c->parent = reaper;
      if (reaper == nullptr) continue;
      reaper->children.push_back(c);
      // reparent_leader(): the new parent is told with SIGCHLD whatever
      // the child asked for, and at once if it is already a zombie.
      c->exit_signal = SIGCHLD;
    }
    for (Task* t : c->tasks) {
      int sig = t->pdeath_signal.load();
      if (sig == 0) continue;
      siginfo_t si = MakeSigInfo(sig, SI_USER);
      si.si_pid = from_pid;
      si.si_uid = from_uid;
      SendSignalLocked(c, nullptr, si);
    }
    if (reaper != g && c->zombie) {
      if (NotifyParentOfDeathLocked(c)) {
        ReapLocked(c);
      } else {
        reaper_has_zombie = true;
      }
    }
  }
  if (reaper != nullptr && reaper != g && (reaper_has_zombie || !moving.empty())) {
    reaper->child_events.Notify(kEventChildExit);
  }
}

}  // namespace sentry
