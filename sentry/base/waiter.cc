#include "sentry/base/waiter.h"

#include <algorithm>

namespace sentry {

void WaitQueue::Register(Waiter* w, uint32_t mask) {
  absl::MutexLock l(&mu_);
  waiters_.emplace_back(w, mask);
}

void WaitQueue::Unregister(Waiter* w) {
  absl::MutexLock l(&mu_);
  auto it = std::find_if(waiters_.begin(), waiters_.end(), [w](auto& e) { return e.first == w; });
  if (it != waiters_.end()) waiters_.erase(it);
}

void WaitQueue::Notify(uint32_t events) {
  absl::MutexLock l(&mu_);
  for (auto& [w, mask] : waiters_) {
    if (mask & events) w->Notify(events & mask);
  }
}

bool WaitQueue::Empty() {
  absl::MutexLock l(&mu_);
  return waiters_.empty();
}

}  // namespace sentry
