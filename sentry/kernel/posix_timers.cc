#include "sentry/kernel/posix_timers.h"

#include <algorithm>
#include <climits>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"

namespace sentry {

PosixTimer::~PosixTimer() = default;

int64_t PosixTimer::ClockNs() const {
  struct timespec ts;
  clock_gettime(clock_, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void PosixTimer::ArmLocked() {
  if (timer_id_ != 0) {
    k_->timers().Cancel(timer_id_);
    timer_id_ = 0;
  }
  if (next_ns_ == 0) return;
  // The Timers thread runs on absl::Now(): convert from our clock.
  absl::Time when = absl::Now() + absl::Nanoseconds(next_ns_ - ClockNs());
  std::weak_ptr<PosixTimer> weak = weak_from_this();
  uint64_t gen = generation_;
  timer_id_ = k_->timers().Add(when, [weak, gen] {
    if (auto self = weak.lock()) self->Fire(gen);
  });
}

PosixTimer::Setting PosixTimer::Set(int64_t value_ns, int64_t interval_ns, bool absolute) {
  absl::MutexLock l(&mu_);
  int64_t now = ClockNs();
  Setting old;
  if (next_ns_ != 0) old.value_ns = std::max<int64_t>(next_ns_ - now, 1);
  old.interval_ns = interval_ns_;
  ++generation_;
  interval_ns_ = interval_ns;
  if (value_ns == 0) {
    next_ns_ = 0;
  } else {
    // An absolute time already past fires at once.
    next_ns_ = absolute ? std::max<int64_t>(value_ns, 1) : now + value_ns;
  }
  ArmLocked();
  return old;
}

PosixTimer::Setting PosixTimer::Get() {
  absl::MutexLock l(&mu_);
  Setting s;
  if (next_ns_ != 0) s.value_ns = std::max<int64_t>(next_ns_ - ClockNs(), 1);
  s.interval_ns = interval_ns_;
  return s;
}

void PosixTimer::Fire(uint64_t generation) {
  int64_t missed = 0;
  {
    absl::MutexLock l(&mu_);
    if (generation != generation_ || next_ns_ == 0) return;
    timer_id_ = 0;
    int64_t now = ClockNs();
    // The Timers thread's clock and ours drift apart a little: never
    // expire before the time asked for.
    if (now < next_ns_) {
      ArmLocked();
      return;
    }
    if (interval_ns_ > 0) {
      // Intervals that passed while late are overruns (hrtimer_forward).
      missed = (now - next_ns_) / interval_ns_;
      next_ns_ += (missed + 1) * interval_ns_;
      ArmLocked();
    } else {
      next_ns_ = 0;
    }
  }
  Announce(missed);
}

void PosixTimer::Announce(int64_t missed) {
  if (notify_.kind == SIGEV_NONE) return;
  auto g = g_.lock();
  if (!g) return;
  int add = static_cast<int>(std::min<int64_t>(missed, INT32_MAX));
  absl::MutexLock tl(&k_->tasks_mu_);
  if (g->zombie) return;
  Task* target = nullptr;
  if (notify_.kind == SIGEV_THREAD_ID) {
    target = k_->TaskByTidLocked(notify_.tid);
    // The thread is gone: Linux finds no task for the pid and drops it.
    if (target == nullptr || target->tg() != g.get() || target->exited()) return;
  }
  absl::MutexLock l(&mu_);
  // Still queued from an earlier expiry: this one is an overrun.
  if (k_->AddTimerOverrunLocked(g.get(), target, id_, 1 + add)) {
    queued_overrun_ = static_cast<int>(std::min<int64_t>(int64_t{queued_overrun_} + 1 + add, INT32_MAX));
    return;
  }
  delivered_overrun_ = queued_overrun_;
  queued_overrun_ = add;
  siginfo_t si = MakeSigInfo(notify_.signo, SI_TIMER);
  si.si_timerid = id_;
  si.si_overrun = add;
  si.si_value = notify_.value;
  k_->SendSignalLocked(g.get(), target, si);
}

int PosixTimer::Overrun() {
  auto g = g_.lock();
  if (!g) return 0;
  Task* target = nullptr;
  absl::MutexLock tl(&k_->tasks_mu_);
  if (notify_.kind == SIGEV_THREAD_ID) target = k_->TaskByTidLocked(notify_.tid);
  absl::MutexLock l(&mu_);
  // Once the queued signal has been taken, its count is the last one
  // delivered.
  if (notify_.kind != SIGEV_NONE && !k_->AddTimerOverrunLocked(g.get(), target, id_, 0)) {
    delivered_overrun_ = queued_overrun_;
  }
  return delivered_overrun_;
}

void PosixTimer::Stop() {
  absl::MutexLock l(&mu_);
  ++generation_;
  next_ns_ = 0;
  interval_ns_ = 0;
  ArmLocked();
}

ErrorOr<int> PosixTimerTable::Create(Kernel* k, std::weak_ptr<ThreadGroup> g, clockid_t clock,
                                     PosixTimer::Notify n, bool value_is_id) {
  absl::MutexLock l(&mu_);
  // Linux hands out increasing ids and wraps at INT_MAX; RLIMIT_SIGPENDING
  // is not modelled, so cap the count instead of running out of ids.
  if (timers_.size() >= 65536) return Err(EAGAIN);
  int id = next_id_;
  while (timers_.count(id)) id = id == INT32_MAX ? 0 : id + 1;
  next_id_ = id == INT32_MAX ? 0 : id + 1;
  if (value_is_id) n.value.sival_int = id;
  timers_[id] = std::make_shared<PosixTimer>(k, std::move(g), id, clock, n);
  return id;
}

std::shared_ptr<PosixTimer> PosixTimerTable::Get(int id) {
  absl::MutexLock l(&mu_);
  auto it = timers_.find(id);
  return it == timers_.end() ? nullptr : it->second;
}

bool PosixTimerTable::Delete(int id) {
  std::shared_ptr<PosixTimer> t;
  {
    absl::MutexLock l(&mu_);
    auto it = timers_.find(id);
    if (it == timers_.end()) return false;
    t = std::move(it->second);
    timers_.erase(it);
  }
  t->Stop();
  return true;
}

void PosixTimerTable::Clear() {
  std::map<int, std::shared_ptr<PosixTimer>> all;
  {
    absl::MutexLock l(&mu_);
    all.swap(timers_);
    next_id_ = 0;
  }
  for (auto& [id, t] : all) t->Stop();
}

}  // namespace sentry
