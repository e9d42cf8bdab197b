#include "sentry/kernel/timers.h"

#include <vector>

namespace sentry {

Timers::Timers() : thread_([this] { Loop(); }) {}

Timers::~Timers() {
  {
    absl::MutexLock l(&mu_);
    stop_ = true;
    generation_++;
  }
  thread_.join();
}

uint64_t Timers::Add(absl::Time deadline, Callback cb) {
  absl::MutexLock l(&mu_);
  uint64_t id = next_id_++;
  timers_[id] = Entry{deadline, std::move(cb)};
  generation_++;  // wake the loop: the earliest deadline may have changed
  return id;
}

bool Timers::Cancel(uint64_t id) {
  absl::MutexLock l(&mu_);
  return timers_.erase(id) > 0;
}

absl::Duration Timers::Remaining(uint64_t id) {
  absl::MutexLock l(&mu_);
  auto it = timers_.find(id);
  if (it == timers_.end()) return absl::ZeroDuration();
  return std::max(absl::ZeroDuration(), it->second.deadline - absl::Now());
}

void Timers::Loop() {
  absl::MutexLock l(&mu_);
  while (!stop_) {
    absl::Time next = absl::InfiniteFuture();
    for (auto& [id, e] : timers_) next = std::min(next, e.deadline);
    uint64_t gen = generation_;
    auto changed = [this, gen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return generation_ != gen; };
    if (next > absl::Now()) {
      mu_.AwaitWithDeadline(absl::Condition(&changed), next);
      continue;
    }
    std::vector<Callback> due;
    absl::Time now = absl::Now();
    for (auto it = timers_.begin(); it != timers_.end();) {
      if (it->second.deadline <= now) {
        due.push_back(std::move(it->second.cb));
        it = timers_.erase(it);
      } else {
        ++it;
      }
    }
    mu_.Unlock();
    for (auto& cb : due) cb();
    mu_.Lock();
  }
}

}  // namespace sentry
