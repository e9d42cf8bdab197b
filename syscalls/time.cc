// Clocks, sleeps, interval timers and CPU usage.
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>

#include <cstring>

#include "syscalls/handlers.h"
#include "syscalls/util.h"

namespace sentry::sys {
namespace {

uint64_t NsOf(const struct timespec& ts) {
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

struct timespec TsOf(uint64_t ns) {
  return {static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
}

uint64_t SentryThreadCpuNs() {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return NsOf(ts);
}

// CPU time of the calling thread: the application's time in its platform
// context plus the Sentry's time serving it.
uint64_t ThreadCpuNs(Task& t) { return t.platform_context()->AppCpuTimeNs() + SentryThreadCpuNs(); }

uint64_t ProcessCpuNs(Task& t) {
  // Live threads other than the caller are not summed yet: their contexts
  // belong to other host threads. Dead threads are in the group's totals.
  return ThreadCpuNs(t) + t.tg()->user_ns + t.tg()->sys_ns;
}

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

ErrorOr<struct timespec> ReadClock(Task& t, clockid_t c) {
  struct timespec ts;
  if (IsHostClock(c)) {
    clockid_t h = c == CLOCK_REALTIME_ALARM ? CLOCK_REALTIME
                  : c == CLOCK_BOOTTIME_ALARM ? CLOCK_BOOTTIME : c;
    clock_gettime(h, &ts);
    return ts;
  }
  if (c == CLOCK_PROCESS_CPUTIME_ID) return TsOf(ProcessCpuNs(t));
  if (c == CLOCK_THREAD_CPUTIME_ID) return TsOf(ThreadCpuNs(t));
  if (c < 0) {
    // Dynamic CPU clocks of another thread/process: only our own are
    // available for now.
    int32_t pid = ~(c >> 3);
    bool thread = c & 4;
    if ((c & 7) == 7) return Err(EINVAL);  // clock fds are not supported
    if (pid == 0 || pid == (thread ? t.tid() : t.tgid())) {
      return TsOf(thread ? ThreadCpuNs(t) : ProcessCpuNs(t));
    }
    if (!t.kernel().TaskByTid(pid)) return Err(EINVAL);
    return Err(EINVAL);
  }
  return Err(EINVAL);
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

void FillRusage(struct rusage* ru, uint64_t user, uint64_t sys) {
  memset(ru, 0, sizeof(*ru));
  ru->ru_utime.tv_sec = static_cast<time_t>(user / 1000000000);
  ru->ru_utime.tv_usec = static_cast<suseconds_t>(user % 1000000000 / 1000);
  ru->ru_stime.tv_sec = static_cast<time_t>(sys / 1000000000);
  ru->ru_stime.tv_usec = static_cast<suseconds_t>(sys % 1000000000 / 1000);
}

}  // namespace

SysRet ClockGettime(Task& t, const SyscallArgs& a) {
  struct timespec ts = TRY_ASSIGN(ReadClock(t, static_cast<clockid_t>(a[0])));
  TRY(t.CopyOutBytes(UserAddr(a[1]), &ts, sizeof(ts)));
  return 0;
}

SysRet ClockGetres(Task& t, const SyscallArgs& a) {
  clockid_t c = static_cast<clockid_t>(a[0]);
  TRY_ASSIGN(ReadClock(t, c));
  struct timespec ts = {0, 1};
  if (c == CLOCK_REALTIME_COARSE || c == CLOCK_MONOTONIC_COARSE) ts.tv_nsec = 4000000;
  if (a[1] != 0) TRY(t.CopyOutBytes(UserAddr(a[1]), &ts, sizeof(ts)));
  return 0;
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
  uint64_t flags = a[1];
  if (c == CLOCK_THREAD_CPUTIME_ID) return SysRet::Err(EINVAL);
  if (!IsHostClock(c) || c == CLOCK_MONOTONIC_RAW || c == CLOCK_REALTIME_COARSE ||
      c == CLOCK_MONOTONIC_COARSE) {
    return SysRet::Err(c == CLOCK_PROCESS_CPUTIME_ID ? ENOTSUP : EINVAL);
  }
  struct timespec ts;
  TRY(t.CopyInBytes(UserAddr(a[2]), &ts, sizeof(ts)));
  if (ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000 || ts.tv_sec < 0) return SysRet::Err(EINVAL);
  if (flags & TIMER_ABSTIME) {
    // Deadline on clock c, mapped onto absl's realtime-based clock.
    struct timespec now;
    clock_gettime(c == CLOCK_REALTIME_ALARM ? CLOCK_REALTIME
                  : c == CLOCK_BOOTTIME_ALARM ? CLOCK_BOOTTIME : c, &now);
    absl::Duration left = absl::DurationFromTimespec(ts) - absl::DurationFromTimespec(now);
    absl::Time deadline = absl::Now() + std::max(left, absl::ZeroDuration());
    if (SleepUntil(t, deadline).ok()) return 0;
    return SysRet::Err(ERESTARTNOHAND);
  }
  return RelativeSleep(t, absl::Now() + absl::DurationFromTimespec(ts), a[3]);
}

SysRet Times(Task& t, const SyscallArgs& a) {
  if (a[0] != 0) {
    constexpr uint64_t kTickNs = 10000000;  // USER_HZ = 100
    struct tms b;
    b.tms_utime = static_cast<clock_t>((t.platform_context()->AppCpuTimeNs() + t.tg()->user_ns) / kTickNs);
    b.tms_stime = static_cast<clock_t>((SentryThreadCpuNs() + t.tg()->sys_ns) / kTickNs);
    b.tms_cutime = static_cast<clock_t>(t.tg()->child_user_ns / kTickNs);
    b.tms_cstime = static_cast<clock_t>(t.tg()->child_sys_ns / kTickNs);
    TRY(t.CopyOutBytes(UserAddr(a[0]), &b, sizeof(b)));
  }
  return static_cast<int64_t>(t.kernel().UptimeNs() / 10000000);
}

SysRet Getrusage(Task& t, const SyscallArgs& a) {
  int who = static_cast<int>(a[0]);
  struct rusage ru;
  switch (who) {
    case RUSAGE_SELF:
      FillRusage(&ru, t.platform_context()->AppCpuTimeNs() + t.tg()->user_ns,
                 SentryThreadCpuNs() + t.tg()->sys_ns);
      break;
    case RUSAGE_THREAD:
      FillRusage(&ru, t.platform_context()->AppCpuTimeNs(), SentryThreadCpuNs());
      break;
    case RUSAGE_CHILDREN:
      FillRusage(&ru, t.tg()->child_user_ns, t.tg()->child_sys_ns);
      break;
    default:
      return SysRet::Err(EINVAL);
  }
  ru.ru_maxrss = static_cast<long>(t.mm()->ResidentBytes() / 1024);
  TRY(t.CopyOutBytes(UserAddr(a[1]), &ru, sizeof(ru)));
  return 0;
}

namespace {

// Arms ITIMER_REAL; returns the old value and interval.
void ArmRealTimer(Task& t, absl::Duration value, absl::Duration interval, absl::Duration* old_value,
                  absl::Duration* old_interval) {
  ThreadGroup* g = t.tg();
  Kernel* k = &t.kernel();
  std::shared_ptr<ThreadGroup> keep = t.tg_ptr();
  absl::MutexLock l(&g->itimer_mu);
  *old_value = g->itimer_real_id ? k->timers().Remaining(g->itimer_real_id) : absl::ZeroDuration();
  *old_interval = g->itimer_real_interval;
  if (g->itimer_real_id) k->timers().Cancel(g->itimer_real_id);
  g->itimer_real_id = 0;
  g->itimer_real_interval = interval;
  if (value <= absl::ZeroDuration()) return;
  // The timer re-arms itself for periodic intervals.
  struct Fire {
    static void Arm(Kernel* k, std::shared_ptr<ThreadGroup> g, absl::Time when)
        ABSL_EXCLUSIVE_LOCKS_REQUIRED(g->itimer_mu) {
      std::weak_ptr<ThreadGroup> wg = g;
      g->itimer_real_id = k->timers().Add(when, [k, wg, when] {
        auto g = wg.lock();
        if (!g) return;
        {
          absl::MutexLock tl(&k->tasks_mu_);
          if (!g->zombie) {
            siginfo_t si = MakeSigInfo(SIGALRM, SI_KERNEL);
            k->SendSignalLocked(g.get(), nullptr, si);
          }
        }
        absl::MutexLock l(&g->itimer_mu);
        g->itimer_real_id = 0;
        if (g->itimer_real_interval > absl::ZeroDuration()) {
          Arm(k, g, when + g->itimer_real_interval);
        }
      });
    }
  };
  Fire::Arm(k, keep, absl::Now() + value);
}

struct timeval Tv(absl::Duration d) { return absl::ToTimeval(d); }

}  // namespace

SysRet Alarm(Task& t, const SyscallArgs& a) {
  absl::Duration ov, oi;
  ArmRealTimer(t, absl::Seconds(static_cast<int64_t>(static_cast<uint32_t>(a[0]))),
               absl::ZeroDuration(), &ov, &oi);
  // Remaining seconds, rounded to nearest (at least 1 if any time was left).
  int64_t s = absl::ToInt64Seconds(ov + absl::Milliseconds(500));
  if (s == 0 && ov > absl::ZeroDuration()) s = 1;
  return s;
}

SysRet Setitimer(Task& t, const SyscallArgs& a) {
  int which = static_cast<int>(a[0]);
  if (which != ITIMER_REAL && which != ITIMER_VIRTUAL && which != ITIMER_PROF) {
    return SysRet::Err(EINVAL);
  }
  struct itimerval nv{};
  if (a[1] != 0) TRY(t.CopyInBytes(UserAddr(a[1]), &nv, sizeof(nv)));
  for (const struct timeval& tv : {nv.it_value, nv.it_interval}) {
    if (tv.tv_usec < 0 || tv.tv_usec >= 1000000 || tv.tv_sec < 0) return SysRet::Err(EINVAL);
  }
  struct itimerval ov{};
  if (which == ITIMER_REAL) {
    absl::Duration oval, oint;
    ArmRealTimer(t, absl::DurationFromTimeval(nv.it_value),
                 absl::DurationFromTimeval(nv.it_interval), &oval, &oint);
    ov.it_value = Tv(oval);
    ov.it_interval = Tv(oint);
  }
  // ITIMER_VIRTUAL/ITIMER_PROF are accepted but do not fire yet (see table).
  if (a[2] != 0) TRY(t.CopyOutBytes(UserAddr(a[2]), &ov, sizeof(ov)));
  return 0;
}

SysRet Getitimer(Task& t, const SyscallArgs& a) {
  int which = static_cast<int>(a[0]);
  if (which != ITIMER_REAL && which != ITIMER_VIRTUAL && which != ITIMER_PROF) {
    return SysRet::Err(EINVAL);
  }
  struct itimerval v{};
  if (which == ITIMER_REAL) {
    ThreadGroup* g = t.tg();
    absl::MutexLock l(&g->itimer_mu);
    if (g->itimer_real_id) v.it_value = Tv(t.kernel().timers().Remaining(g->itimer_real_id));
    v.it_interval = Tv(g->itimer_real_interval);
  }
  TRY(t.CopyOutBytes(UserAddr(a[1]), &v, sizeof(v)));
  return 0;
}

}  // namespace sentry::sys
