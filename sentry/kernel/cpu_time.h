// CPU-time accounting and the timers that run on CPU time.
//
// A task's CPU time is the application's time in its platform context
// ("user") plus its Sentry host thread's time serving it ("sys"). Only the
// task's own thread can read those exactly (Context belongs to it), so
// each task samples them itself every time the application stops (a
// syscall, a fault, an interrupt) and publishes the result in atomics; the
// difference is charged to its thread group at the same moment. Other
// threads read the published values: exact up to the owner's last sample.
//
// A thread that computes without making syscalls would never sample, so
// while anything waits on a process's CPU time (ITIMER_VIRTUAL/PROF, a
// clock_nanosleep on a CPU clock) the kernel's CPU tick (cpu_tick.cc)
// interrupts that process's running threads every kCpuTickNs, which makes
// them sample and check the process's CPU timers — as Linux checks them
// from its scheduler tick.
//
// Lock order: CpuTimers::mu_ is a leaf (waking a task takes no lock).
#ifndef SENTRY_KERNEL_CPU_TIME_H_
#define SENTRY_KERNEL_CPU_TIME_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace sentry {

class Task;

// Linux samples CPU timers at each tick (CONFIG_HZ=250: 4 ms).
inline constexpr uint64_t kCpuTickNs = 4000000;

struct CpuTimes {
  uint64_t user_ns = 0;
  uint64_t sys_ns = 0;
  uint64_t total() const { return user_ns + sys_ns; }
};

// Which CPU clock a timer or a sleeper follows.
enum class CpuClockKind {
  kVirtual,  // user time (ITIMER_VIRTUAL)
  kProf,     // user + sys (ITIMER_PROF, CLOCK_PROCESS_CPUTIME_ID)
};

// The CPU-time timers of one thread group.
class CpuTimers {
 public:
  struct Itimer {
    uint64_t value_ns = 0;     // time left; 0: disarmed
    uint64_t interval_ns = 0;
  };
  // A task sleeping until a CPU clock reaches `target_ns`. `thread`, when
  // set, is the thread whose own clock counts; else the whole group's.
  struct Sleeper {
    std::shared_ptr<Task> thread;
    CpuClockKind kind = CpuClockKind::kProf;
    uint64_t target_ns = 0;
    Task* waiter = nullptr;
    bool reached = false;  // guarded by mu_
  };

  // setitimer(ITIMER_VIRTUAL/ITIMER_PROF): `now` is the group's current
  // sample of that clock. Returns the previous setting.
  Itimer Set(CpuClockKind which, const CpuTimes& now, Itimer v);
  Itimer Get(CpuClockKind which, const CpuTimes& now);

  void AddSleeper(Sleeper* s);
  void RemoveSleeper(Sleeper* s);
  bool Reached(Sleeper* s);
  // A clock that stops for good (its thread, or with nullptr the whole
  // group, exited) ends the sleeps on it, as Linux does when it detaches
  // the timers of an exiting task.
  void ClockGone(const Task* thread);

  // Whether anything waits on this group's CPU time (wants CPU ticks).
  bool armed() const { return armed_.load(std::memory_order_acquire); }

  // Fires what `now` (the group's totals) reached: wakes sleepers and
  // returns the signals to send to the group (SIGVTALRM, SIGPROF).
  std::vector<int> Check(const CpuTimes& now);

 private:
  struct Armed {
    uint64_t expires_ns = 0;  // on the clock; 0: disarmed
    uint64_t interval_ns = 0;
  };
  static uint64_t Sample(CpuClockKind which, const CpuTimes& now);
  void UpdateArmedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  Armed virt_ ABSL_GUARDED_BY(mu_);
  Armed prof_ ABSL_GUARDED_BY(mu_);
  std::vector<Sleeper*> sleepers_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> armed_{false};
};

}  // namespace sentry

#endif  // SENTRY_KERNEL_CPU_TIME_H_
