// Clock ids as the time syscalls resolve them: a host clock, or the CPU
// clock of a thread or a process (clock_getcpuclockid(3),
// pthread_getcpuclockid(3), CLOCK_{PROCESS,THREAD}_CPUTIME_ID).
#ifndef SYSCALLS_CLOCKS_H_
#define SYSCALLS_CLOCKS_H_

#include <time.h>

#include <memory>

#include "sentry/base/error.h"
#include "sentry/kernel/cpu_time.h"
#include "sentry/kernel/task.h"

namespace sentry::sys {

struct ClockRef {
  bool cpu = false;
  clockid_t host = CLOCK_REALTIME;   // !cpu: the host clock to read
  // cpu: CPUCLOCK_PROF (user+sys), CPUCLOCK_VIRT (user) or CPUCLOCK_SCHED
  // (all run time, which here is user+sys too).
  CpuClockKind which = CpuClockKind::kProf;
  bool sched = false;
  std::shared_ptr<Task> thread;       // a per-thread CPU clock
  std::shared_ptr<ThreadGroup> group; // a process CPU clock
};

// Linux's clock ids: EINVAL for unknown clocks, for per-thread clocks of
// threads outside the caller's process and for processes that do not
// exist; clock fds (dynamic POSIX clocks) do not exist in the sandbox.
// `gettime`: reading the clock, which also accepts the caller's own tid as
// a process clock (pid_for_clock()).
ErrorOr<ClockRef> ResolveClock(Task& t, clockid_t c, bool gettime);

// The current value of a CPU clock in nanoseconds.
uint64_t ReadCpuClock(Task& t, const ClockRef& r);

// Host clocks that have timers (clock_nanosleep works on them).
bool HostClockCanSleep(clockid_t c);

// The host clock to read for a sandbox clock id (alarm clocks read as
// their base clock: the sandbox has no wake-up alarms).
clockid_t HostClockFor(clockid_t c);

}  // namespace sentry::sys

#endif  // SYSCALLS_CLOCKS_H_
