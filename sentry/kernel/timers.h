// Timers: one Sentry thread fires every pending timer (alarm, setitimer,
// and later POSIX timers and timerfd) at its deadline.
//
// Lock order: Timers::mu_ is a leaf; callbacks run without it held and may
// take any kernel lock.
#ifndef SENTRY_KERNEL_TIMERS_H_
#define SENTRY_KERNEL_TIMERS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace sentry {

class Timers {
 public:
  Timers();
  ~Timers();
  using Callback = std::function<void()>;
  // Runs `cb` at `deadline` (host CLOCK_REALTIME-based absl::Time) unless
  // cancelled first. Returns an id for Cancel.
  uint64_t Add(absl::Time deadline, Callback cb);
  // Returns true if the timer had not fired yet.
  bool Cancel(uint64_t id);
  // Time left before `id` fires (zero if gone).
  absl::Duration Remaining(uint64_t id);

 private:
  void Loop();
  struct Entry {
    absl::Time deadline;
    Callback cb;
  };
  absl::Mutex mu_;
  std::map<uint64_t, Entry> timers_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace sentry

#endif  // SENTRY_KERNEL_TIMERS_H_
