#include "sentry/kernel/cpu_time.h"

#include <signal.h>

#include <algorithm>

#include "sentry/kernel/task.h"

namespace sentry {

uint64_t CpuTimers::Sample(CpuClockKind which, const CpuTimes& now) {
  return which == CpuClockKind::kVirtual ? now.user_ns : now.total();
}

CpuTimers::Itimer CpuTimers::Get(CpuClockKind which, const CpuTimes& now) {
  absl::MutexLock l(&mu_);
  const Armed& a = which == CpuClockKind::kVirtual ? virt_ : prof_;
  Itimer out;
  out.interval_ns = a.interval_ns;
  if (a.expires_ns != 0) {
    uint64_t t = Sample(which, now);
    // Expired but not fired yet: "about to fire", one tick (get_cpu_itimer).
    out.value_ns = a.expires_ns > t ? a.expires_ns - t : kCpuTickNs;
  }
  return out;
}

CpuTimers::Itimer CpuTimers::Set(CpuClockKind which, const CpuTimes& now, Itimer v) {
  Itimer old = Get(which, now);
  absl::MutexLock l(&mu_);
  Armed& a = which == CpuClockKind::kVirtual ? virt_ : prof_;
  a.interval_ns = v.interval_ns;
  a.expires_ns = v.value_ns == 0 ? 0 : Sample(which, now) + v.value_ns;
  UpdateArmedLocked();
  return old;
}

void CpuTimers::AddSleeper(Sleeper* s) {
  absl::MutexLock l(&mu_);
  sleepers_.push_back(s);
  UpdateArmedLocked();
}

void CpuTimers::RemoveSleeper(Sleeper* s) {
  absl::MutexLock l(&mu_);
  sleepers_.erase(std::remove(sleepers_.begin(), sleepers_.end(), s), sleepers_.end());
  UpdateArmedLocked();
}

bool CpuTimers::Reached(Sleeper* s) {
  absl::MutexLock l(&mu_);
  return s->reached;
}

void CpuTimers::ClockGone(const Task* thread) {
  absl::MutexLock l(&mu_);
  for (Sleeper* s : sleepers_) {
    if (thread != nullptr && s->thread.get() != thread) continue;
    s->reached = true;
    s->waiter->Wake();
  }
}

void CpuTimers::UpdateArmedLocked() {
  armed_.store(virt_.expires_ns != 0 || prof_.expires_ns != 0 || !sleepers_.empty(),
               std::memory_order_release);
}

std::vector<int> CpuTimers::Check(const CpuTimes& now) {
  std::vector<int> sigs;
  absl::MutexLock l(&mu_);
  // check_cpu_itimer(): one expiry per check; a periodic timer moves its
  // expiry on by one interval.
  auto fire = [&](Armed& a, CpuClockKind which, int sig) {
    if (a.expires_ns == 0 || Sample(which, now) < a.expires_ns) return;
    a.expires_ns = a.interval_ns != 0 ? a.expires_ns + a.interval_ns : 0;
    sigs.push_back(sig);
  };
  fire(virt_, CpuClockKind::kVirtual, SIGVTALRM);
  fire(prof_, CpuClockKind::kProf, SIGPROF);
  for (Sleeper* s : sleepers_) {
    if (s->reached) continue;
    CpuTimes c = s->thread ? s->thread->PublishedCpuTime() : now;
    uint64_t v = Sample(s->kind, c);
    if (v >= s->target_ns) {
      s->reached = true;
      s->waiter->Wake();
    }
  }
  UpdateArmedLocked();
  return sigs;
}

}  // namespace sentry
