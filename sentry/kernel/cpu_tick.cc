// The CPU tick (see cpu_time.h): while a process has CPU timers or CPU
// clock sleepers, its running threads are made to sample their CPU time
// every kCpuTickNs.
#include <algorithm>

#include "sentry/kernel/kernel.h"

namespace sentry {

void Kernel::WantCpuTicks(const std::shared_ptr<ThreadGroup>& g) {
  absl::MutexLock l(&tick_mu_);
  bool known = std::any_of(tick_groups_.begin(), tick_groups_.end(),
                           [&](const std::weak_ptr<ThreadGroup>& w) { return w.lock() == g; });
  if (!known) tick_groups_.push_back(g);
  if (!tick_armed_) {
    tick_armed_ = true;
    timers_.Add(absl::Now() + absl::Nanoseconds(kCpuTickNs), [this] { CpuTick(); });
  }
}

void Kernel::CpuTick() {
  std::vector<std::shared_ptr<ThreadGroup>> groups;
  {
    absl::MutexLock l(&tick_mu_);
    std::vector<std::weak_ptr<ThreadGroup>> keep;
    for (auto& w : tick_groups_) {
      auto g = w.lock();
      if (g && g->cpu_timers.armed()) {
        groups.push_back(g);
        keep.push_back(w);
      }
    }
    tick_groups_.swap(keep);
    if (groups.empty()) {
      tick_armed_ = false;
      return;
    }
    timers_.Add(absl::Now() + absl::Nanoseconds(kCpuTickNs), [this] { CpuTick(); });
  }
  absl::MutexLock l(&tasks_mu_);
  for (auto& g : groups) {
    for (Task* t : g->tasks) t->PreemptForTick();
  }
}

}  // namespace sentry
