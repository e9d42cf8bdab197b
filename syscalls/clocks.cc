#include "syscalls/clocks.h"

#include "sentry/kernel/kernel.h"

namespace sentry::sys {
namespace {

// linux/posix-timers.h: the encoding of CPU clock ids.
constexpr clockid_t kCpuClockPerThreadMask = 4;
constexpr clockid_t kCpuClockWhichMask = 3;
constexpr clockid_t kCpuClockVirt = 1;
constexpr clockid_t kCpuClockSched = 2;
constexpr clockid_t kClockFd = 3;
int32_t CpuClockPid(clockid_t c) { return ~(c >> 3); }

bool IsHostClock(clockid_t c) {
  switch (c) {
    case CLOCK_REALTIME: case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW:
    case CLOCK_REALTIME_COARSE: case CLOCK_MONOTONIC_COARSE: case CLOCK_BOOTTIME:
    case CLOCK_TAI: case CLOCK_REALTIME_ALARM: case CLOCK_BOOTTIME_ALARM:
      return true;
    default:
      return false;
  }
}

}  // namespace

bool HostClockCanSleep(clockid_t c) {
  switch (c) {
    case CLOCK_REALTIME: case CLOCK_MONOTONIC: case CLOCK_BOOTTIME: case CLOCK_TAI:
    case CLOCK_REALTIME_ALARM: case CLOCK_BOOTTIME_ALARM:
      return true;
    default:
      return false;
  }
}

clockid_t HostClockFor(clockid_t c) {
  if (c == CLOCK_REALTIME_ALARM) return CLOCK_REALTIME;
  if (c == CLOCK_BOOTTIME_ALARM) return CLOCK_BOOTTIME;
  return c;
}

ErrorOr<ClockRef> ResolveClock(Task& t, clockid_t c, bool gettime) {
  ClockRef r;
  if (IsHostClock(c)) {
    r.host = HostClockFor(c);
    return r;
  }
  if (c == CLOCK_PROCESS_CPUTIME_ID || c == CLOCK_THREAD_CPUTIME_ID) {
    // The caller's own clocks: pid 0, CPUCLOCK_SCHED.
    clockid_t self = static_cast<clockid_t>(~0u << 3) | kCpuClockSched;
    c = c == CLOCK_PROCESS_CPUTIME_ID ? self : self | kCpuClockPerThreadMask;
  }
  if (c >= 0) return Err(EINVAL);
  if ((c & (kCpuClockPerThreadMask | kCpuClockWhichMask)) == kClockFd) return Err(EINVAL);
  clockid_t which = c & kCpuClockWhichMask;
  if (which == kClockFd) return Err(EINVAL);
  r.cpu = true;
  r.sched = which == kCpuClockSched;
  r.which = which == kCpuClockVirt ? CpuClockKind::kVirtual : CpuClockKind::kProf;
  const bool thread = c & kCpuClockPerThreadMask;
  const int32_t pid = CpuClockPid(c);
  Kernel& k = t.kernel();
  if (thread) {
    if (pid == 0 || pid == t.tid()) {
      r.thread = k.TaskByTid(t.tid());
      if (!r.thread) return Err(EINVAL);
      return r;
    }
    // Only threads of the caller's own process (pid_for_clock()).
    r.thread = k.TaskByTid(pid);
    if (!r.thread || r.thread->tg() != t.tg()) return Err(EINVAL);
    return r;
  }
  if (pid == 0 || (gettime && pid == t.tid())) {
    r.group = t.tg_ptr();
    return r;
  }
  r.group = k.GroupByTgid(pid);
  if (!r.group) return Err(EINVAL);
  return r;
}

uint64_t ReadCpuClock(Task& t, const ClockRef& r) {
  CpuTimes c = r.thread ? Kernel::ThreadCpuTime(t, r.thread.get())
                        : Kernel::ProcessCpuTime(t, r.group.get());
  return r.which == CpuClockKind::kVirtual ? c.user_ns : c.total();
}

}  // namespace sentry::sys
