// Time for the stack. Protocol code reads a Clock and never sleeps: timers
// are deadlines the owner of the stack acts on (Stack::RunTimers), either
// a ManualClock in unit tests, which advance time explicitly and so run
// deterministically, or the TimerThread in the Sentry.
#ifndef NETSTACK_CLOCK_H_
#define NETSTACK_CLOCK_H_

#include <time.h>

#include <atomic>
#include <cstdint>

namespace netstack {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowNs() = 0;
};

class MonotonicClock : public Clock {
 public:
  int64_t NowNs() override {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
  }
};

class ManualClock : public Clock {
 public:
  int64_t NowNs() override { return now_.load(); }
  void Advance(int64_t ns) { now_ += ns; }
  void Set(int64_t ns) { now_ = ns; }

 private:
  std::atomic<int64_t> now_{1000000000};
};

inline constexpr int64_t kMillisecond = 1000000;
inline constexpr int64_t kSecond = 1000000000;

}  // namespace netstack

#endif  // NETSTACK_CLOCK_H_
