// Clocks, sleeps and CPU usage. Interval timers are in itimer.cc.
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>

#include <cstring>

#include "syscalls/clocks.h"
#include "syscalls/handlers.h"
#include "syscalls/util.h"

namespace sentry::sys {
namespace {

constexpr uint64_t kNsPerSec = 1000000000;

struct timespec TsOf(uint64_t ns) {
  return {static_cast<time_t>(ns / kNsPerSec), static_cast<long>(ns % kNsPerSec)};
}

uint64_t NsOf(const struct timespec& ts) {
  return static_cast<uint64_t>(ts.tv_sec) * kNsPerSec + static_cast<uint64_t>(ts.tv_nsec);
}

ErrorOr<struct timespec> CopyInValidTimespec(Task& t, uint64_t addr) {
  struct timespec ts;
  TRY(t.CopyInBytes(UserAddr(addr), &ts, sizeof(ts)));
  if (ts.tv_nsec < 0 || ts.tv_nsec >= static_cast<long>(kNsPerSec) || ts.tv_sec < 0) {
    return Err(EINVAL);
  }
  return ts;
}

SysRet SleepUntil(Task& t, absl::Time deadline) {
  BlockResult r = t.Sleep(deadline);
  if (r == BlockResult::kTimedOut) return 0;
  return SysRet::Err(EINTR);  // the caller decides on restart
}

// nanosleep / relative clock_nanosleep: sleep, and if interrupted report
// the time left and arrange a restart that sleeps until the same deadline.
SysRet RelativeSleep(Task& t, absl::Time deadline, uint64_t rem_addr) {
  if (SleepUntil(t, deadline).ok()) return 0;
  if (rem_addr != 0) {
    absl::Duration left = std::max(absl::ZeroDuration(), deadline - absl::Now());
    struct timespec ts = absl::ToTimespec(left);
    TRY(t.CopyOutBytes(UserAddr(rem_addr), &ts, sizeof(ts)));
  }
  t.restart_block = [deadline, rem_addr](Task& task) -> SysRet {
    return RelativeSleep(task, deadline, rem_addr);
  };
  return SysRet::Err(ERESTART_RESTARTBLOCK);
}

// clock_nanosleep on a CPU clock (posix_cpu_nsleep()): waits until the
// clock reaches `target`; the CPU tick keeps the clock's threads sampling.
SysRet CpuClockSleep(Task& t, const ClockRef& r, uint64_t target, bool abs, uint64_t rem_addr) {
  std::shared_ptr<ThreadGroup> g = r.thread ? r.thread->tg_ptr() : r.group;
  CpuTimers::Sleeper s;
  s.thread = r.thread;
  s.kind = r.which;
  s.target_ns = target;
  s.waiter = &t;
  g->cpu_timers.AddSleeper(&s);
  t.kernel().WantCpuTicks(g);
  bool interrupted = false;
  for (;;) {
    uint32_t seq = t.WakeSeq();
    // Reached: by the clock, or because its threads exited
    // (CpuTimers::ClockGone).
    if (g->cpu_timers.Reached(&s) || ReadCpuClock(t, r) >= target) break;
    if (r.thread ? r.thread->CpuClockStopped() : g->cpu_clock_stopped.load()) break;
    if (t.Block(seq) == BlockResult::kInterrupted) {
      interrupted = true;
      break;
    }
  }
  g->cpu_timers.RemoveSleeper(&s);
  if (!interrupted) return 0;
  if (abs) return SysRet::Err(ERESTARTNOHAND);
  if (rem_addr != 0) {
    uint64_t now = ReadCpuClock(t, r);
    struct timespec left = TsOf(target > now ? target - now : 0);
    TRY(t.CopyOutBytes(UserAddr(rem_addr), &left, sizeof(left)));
  }
  t.restart_block = [r, target, rem_addr](Task& task) -> SysRet {
    return CpuClockSleep(task, r, target, false, rem_addr);
  };
  return SysRet::Err(ERESTART_RESTARTBLOCK);
}

void FillRusage(struct rusage* ru, const CpuTimes& c) {
  memset(ru, 0, sizeof(*ru));
  ru->ru_utime.tv_sec = static_cast<time_t>(c.user_ns / kNsPerSec);
  ru->ru_utime.tv_usec = static_cast<suseconds_t>(c.user_ns % kNsPerSec / 1000);
  ru->ru_stime.tv_sec = static_cast<time_t>(c.sys_ns / kNsPerSec);
  ru->ru_stime.tv_usec = static_cast<suseconds_t>(c.sys_ns % kNsPerSec / 1000);
}

CpuTimes ChildrenCpuTime(ThreadGroup* g) { return {g->child_user_ns.load(), g->child_sys_ns.load()}; }

}  // namespace

SysRet ClockGettime(Task& t, const SyscallArgs& a) {
  ClockRef r = TRY_ASSIGN(ResolveClock(t, static_cast<clockid_t>(a[0]), /*gettime=*/true));
  struct timespec ts;
  if (r.cpu) {
    ts = TsOf(ReadCpuClock(t, r));
  } else {
    clock_gettime(r.host, &ts);
  }
  TRY(t.CopyOutBytes(UserAddr(a[1]), &ts, sizeof(ts)));
  return 0;
}

SysRet ClockGetres(Task& t, const SyscallArgs& a) {
  clockid_t c = static_cast<clockid_t>(a[0]);
  ClockRef r = TRY_ASSIGN(ResolveClock(t, c, /*gettime=*/false));
  // High-resolution clocks: 1 ns. The coarse clocks and the tick-sampled
  // CPU clocks (PROF, VIRT): one tick.
  struct timespec ts = {0, 1};
  if (c == CLOCK_REALTIME_COARSE || c == CLOCK_MONOTONIC_COARSE || (r.cpu && !r.sched)) {
    ts.tv_nsec = static_cast<long>(kCpuTickNs);
  }
  if (a[1] != 0) TRY(t.CopyOutBytes(UserAddr(a[1]), &ts, sizeof(ts)));
  return 0;
}

SysRet ClockSettime(Task& t, const SyscallArgs& a) {
  clockid_t c = static_cast<clockid_t>(a[0]);
  ClockRef r = TRY_ASSIGN(ResolveClock(t, c, /*gettime=*/false));
  // Only CLOCK_REALTIME and the CPU clocks have a clock_set at all.
  if (!r.cpu && c != CLOCK_REALTIME) return SysRet::Err(EINVAL);
  struct timespec ts;
  TRY(t.CopyInBytes(UserAddr(a[1]), &ts, sizeof(ts)));
  if (!r.cpu && (ts.tv_nsec < 0 || ts.tv_nsec >= static_cast<long>(kNsPerSec) || ts.tv_sec < 0)) {
    return SysRet::Err(EINVAL);
  }
  // CPU clocks can never be set; the sandbox never sets the host's clock
  // (even its root lacks CAP_SYS_TIME on the host).
  return SysRet::Err(EPERM);
}

SysRet Gettimeofday(Task& t, const SyscallArgs& a) {
  if (a[0] != 0) {
    struct timeval tv;
    gettimeofday(&tv, nullptr);
    TRY(t.CopyOutBytes(UserAddr(a[0]), &tv, sizeof(tv)));
  }
  if (a[1] != 0) {
    struct timezone tz{0, 0};
    TRY(t.CopyOutBytes(UserAddr(a[1]), &tz, sizeof(tz)));
  }
  return 0;
}

SysRet Time(Task& t, const SyscallArgs& a) {
  int64_t now = static_cast<int64_t>(::time(nullptr));
  if (a[0] != 0) TRY(t.CopyOut(UserPtr<int64_t>(a[0]), now));
  return now;
}

SysRet Nanosleep(Task& t, const SyscallArgs& a) {
  absl::Duration d = TRY_ASSIGN(CopyInTimespecDuration(t, a[0]));
  return RelativeSleep(t, absl::Now() + d, a[1]);
}

SysRet ClockNanosleep(Task& t, const SyscallArgs& a) {
  clockid_t c = static_cast<clockid_t>(a[0]);
  const bool abs = a[1] & TIMER_ABSTIME;
  // Which clocks have a nanosleep at all (clockid_to_kclock()->nsleep):
  // EINVAL for no clock, EOPNOTSUPP for a clock without timers.
  if (c >= 0) {
    bool known = c <= CLOCK_BOOTTIME_ALARM || c == CLOCK_TAI;
    if (!known) return SysRet::Err(EINVAL);
    if (c == CLOCK_THREAD_CPUTIME_ID) return SysRet::Err(EOPNOTSUPP);
    if (c != CLOCK_PROCESS_CPUTIME_ID && !HostClockCanSleep(c)) return SysRet::Err(EOPNOTSUPP);
  } else if ((c & 7) == 3) {
    return SysRet::Err(EOPNOTSUPP);  // a clock fd: dynamic clocks cannot sleep
  }
  struct timespec ts = TRY_ASSIGN(CopyInValidTimespec(t, a[2]));
  ClockRef r = TRY_ASSIGN(ResolveClock(t, c, /*gettime=*/false));
  if (r.cpu) {
    // Sleeping on one's own thread clock could never end.
    if (r.thread.get() == &t) return SysRet::Err(EINVAL);
    uint64_t target = NsOf(ts);
    if (!abs) target += ReadCpuClock(t, r);
    return CpuClockSleep(t, r, target, abs, abs ? 0 : a[3]);
  }
  if (abs) {
    // Deadline on clock c, mapped onto absl's realtime-based clock.
    struct timespec now;
    clock_gettime(r.host, &now);
    absl::Duration left = absl::DurationFromTimespec(ts) - absl::DurationFromTimespec(now);
    absl::Time deadline = absl::Now() + std::max(left, absl::ZeroDuration());
    if (SleepUntil(t, deadline).ok()) return 0;
    return SysRet::Err(ERESTARTNOHAND);
  }
  return RelativeSleep(t, absl::Now() + absl::DurationFromTimespec(ts), a[3]);
}

SysRet Times(Task& t, const SyscallArgs& a) {
  constexpr uint64_t kTickNs = 10000000;  // USER_HZ = 100
  if (a[0] != 0) {
    CpuTimes self = Kernel::ProcessCpuTime(t, t.tg());
    CpuTimes children = ChildrenCpuTime(t.tg());
    struct tms b;
    b.tms_utime = static_cast<clock_t>(self.user_ns / kTickNs);
    b.tms_stime = static_cast<clock_t>(self.sys_ns / kTickNs);
    b.tms_cutime = static_cast<clock_t>(children.user_ns / kTickNs);
    b.tms_cstime = static_cast<clock_t>(children.sys_ns / kTickNs);
    TRY(t.CopyOutBytes(UserAddr(a[0]), &b, sizeof(b)));
  }
  return static_cast<int64_t>(t.kernel().UptimeNs() / kTickNs);
}

SysRet Getrusage(Task& t, const SyscallArgs& a) {
  int who = static_cast<int>(a[0]);
  struct rusage ru;
  switch (who) {
    case RUSAGE_SELF:
      FillRusage(&ru, Kernel::ProcessCpuTime(t, t.tg()));
      break;
    case RUSAGE_THREAD:
      FillRusage(&ru, t.OwnCpuTime());
      break;
    case RUSAGE_CHILDREN:
      FillRusage(&ru, ChildrenCpuTime(t.tg()));
      break;
    default:
      return SysRet::Err(EINVAL);
  }
  ru.ru_maxrss = static_cast<long>(t.mm()->ResidentBytes() / 1024);
  TRY(t.CopyOutBytes(UserAddr(a[1]), &ru, sizeof(ru)));
  return 0;
}

}  // namespace sentry::sys
