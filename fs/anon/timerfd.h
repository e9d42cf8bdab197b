// timerfd(2): a timer on CLOCK_REALTIME, CLOCK_MONOTONIC or CLOCK_BOOTTIME
// whose expirations are read as a 64-bit count. It fires on the kernel's
// Timers thread; a periodic timer that fires late counts the intervals it
// missed, as Linux's hrtimer_forward does.
//
// Lock order: TimerFd::mu_ > Timers::mu_ (Cancel/Add under mu_); the
// Timers thread calls Fire without its own lock.
#ifndef FS_ANON_TIMERFD_H_
#define FS_ANON_TIMERFD_H_

#include <time.h>

#include <memory>

#include "absl/synchronization/mutex.h"
#include "fs/anon/anon.h"
#include "fs/vfs/file.h"
#include "sentry/base/waiter.h"
#include "sentry/kernel/timers.h"

namespace sentry::vfs {

class TimerFd : public AnonFile {
 public:
  TimerFd(Timers* timers, clockid_t clock) : timers_(timers), clock_(clock) {}
  ~TimerFd() override;

  struct Setting {
    int64_t value_ns = 0;     // time to the next expiry; 0: disarmed
    int64_t interval_ns = 0;
  };
  // timerfd_settime: `value_ns` is absolute on the timer's clock when
  // `absolute`, else relative; 0 disarms. Returns the previous setting.
  Setting Set(int64_t value_ns, int64_t interval_ns, bool absolute);
  Setting Get();

  SysRet Read(Task*, IOSequence& dst) override;
  std::string AnonName() const override { return "anon_inode:[timerfd]"; }
  uint32_t Readiness(uint32_t mask) override;
  void EventRegister(Waiter* w, uint32_t mask) override { queue_.Register(w, mask); }
  void EventUnregister(Waiter* w) override { queue_.Unregister(w); }

 private:
  int64_t ClockNs() const;
  void ArmLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Fire(uint64_t generation);

  Timers* const timers_;
  const clockid_t clock_;
  absl::Mutex mu_;
  uint64_t expirations_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t next_ns_ ABSL_GUARDED_BY(mu_) = 0;  // clock time of the next expiry; 0: disarmed
  int64_t interval_ns_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t timer_id_ ABSL_GUARDED_BY(mu_) = 0;
  // Bumped by each Set: a firing scheduled before it is stale.
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  WaitQueue queue_;
};

std::shared_ptr<FileDescription> NewTimerFd(Timers* timers, clockid_t clock, uint32_t flags);

}  // namespace sentry::vfs

#endif  // FS_ANON_TIMERFD_H_
