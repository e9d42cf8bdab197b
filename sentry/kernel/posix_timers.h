// POSIX per-process timers (timer_create(2) and friends) on the wall
// clocks. Each expiry queues one signal; while that signal is still
// pending, later expiries only count as overruns in its si_overrun, as
// Linux does with the preallocated sigqueue of each timer.
//
// Lock order: Kernel::tasks_mu_ > PosixTimerTable::mu_ > PosixTimer::mu_ >
// SignalHandlers::mu and Timers::mu_. A firing timer takes tasks_mu_ first,
// then its own lock, to queue its signal.
#ifndef SENTRY_KERNEL_POSIX_TIMERS_H_
#define SENTRY_KERNEL_POSIX_TIMERS_H_

#include <signal.h>
#include <time.h>

#include <cstdint>
#include <map>
#include <memory>

#include "absl/synchronization/mutex.h"
#include "sentry/base/error.h"

namespace sentry {

class Kernel;
class ThreadGroup;

class PosixTimer : public std::enable_shared_from_this<PosixTimer> {
 public:
  // How an expiry is announced (struct sigevent, already validated).
  struct Notify {
    int kind = SIGEV_SIGNAL;  // SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD_ID
    int signo = SIGALRM;
    sigval_t value{};
    int32_t tid = 0;  // SIGEV_THREAD_ID's thread
  };
  struct Setting {
    int64_t value_ns = 0;  // time to the next expiry; 0: disarmed
    int64_t interval_ns = 0;
  };

  PosixTimer(Kernel* k, std::weak_ptr<ThreadGroup> g, int id, clockid_t clock, Notify n)
      : k_(k), g_(std::move(g)), id_(id), clock_(clock), notify_(n) {}
  ~PosixTimer();

  // timer_settime: `value_ns` is absolute on the clock when `absolute`;
  // 0 disarms. Returns the previous setting.
  Setting Set(int64_t value_ns, int64_t interval_ns, bool absolute);
  Setting Get();
  // timer_getoverrun: the overrun count of the last delivered expiry.
  int Overrun();
  // timer_delete and process exit/exec.
  void Stop();

 private:
  int64_t ClockNs() const;
  void ArmLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Fire(uint64_t generation);
  void Announce(int64_t missed);

  Kernel* const k_;
  const std::weak_ptr<ThreadGroup> g_;
  const int id_;
  const clockid_t clock_;
  const Notify notify_;

  absl::Mutex mu_;
  int64_t next_ns_ ABSL_GUARDED_BY(mu_) = 0;  // clock time of the next expiry; 0: disarmed
  int64_t interval_ns_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t timer_id_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;  // bumped by Set/Stop: stale firings
  // si_overrun of the signal queued last, and of the one delivered last.
  int queued_overrun_ ABSL_GUARDED_BY(mu_) = 0;
  int delivered_overrun_ ABSL_GUARDED_BY(mu_) = 0;
};

// The timers of one process.
class PosixTimerTable {
 public:
  // Ids count up from 0 per process, skipping ones in use.
  // `value_is_id`: no sigevent was given, so the signal carries the id.
  ErrorOr<int> Create(Kernel* k, std::weak_ptr<ThreadGroup> g, clockid_t clock,
                      PosixTimer::Notify n, bool value_is_id);
  std::shared_ptr<PosixTimer> Get(int id);
  bool Delete(int id);
  // exec and exit: every timer goes.
  void Clear();

 private:
  absl::Mutex mu_;
  std::map<int, std::shared_ptr<PosixTimer>> timers_ ABSL_GUARDED_BY(mu_);
  int next_id_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace sentry

#endif  // SENTRY_KERNEL_POSIX_TIMERS_H_
