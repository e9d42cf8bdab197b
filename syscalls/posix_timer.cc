// timer_create(2), timer_settime, timer_gettime, timer_getoverrun,
// timer_delete: POSIX per-process timers (sentry/kernel/posix_timers.h).
#include <linux/capability.h>
#include <signal.h>
#include <time.h>

#include "syscalls/handlers.h"
#include "syscalls/util.h"

namespace sentry::sys {
namespace {

// The kernel's struct sigevent on x86-64: value, signo, notify, then a
// union whose first member is the thread id.
struct KSigevent {
  sigval_t value;
  int32_t signo;
  int32_t notify;
  int32_t tid;
  int32_t pad[11];
};
static_assert(sizeof(KSigevent) == 64);

// Which clocks take timers here. CPU-time clocks are not supported yet
// (EINVAL); clocks Linux has no timers for are EOPNOTSUPP.
Errno CheckTimerClock(Task& t, clockid_t c) {
  switch (c) {
    case CLOCK_REALTIME:
    case CLOCK_MONOTONIC:
    case CLOCK_BOOTTIME:
      return 0;
    case CLOCK_REALTIME_ALARM:
    case CLOCK_BOOTTIME_ALARM:
      return t.creds().HasCap(CAP_WAKE_ALARM) ? 0 : EPERM;
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_REALTIME_COARSE:
    case CLOCK_MONOTONIC_COARSE:
      return EOPNOTSUPP;
    default:
      return EINVAL;
  }
}

clockid_t TimerHostClock(clockid_t c) {
  // The alarm variants only differ in waking a suspended machine.
  if (c == CLOCK_REALTIME_ALARM) return CLOCK_REALTIME;
  if (c == CLOCK_BOOTTIME_ALARM) return CLOCK_BOOTTIME;
  return c;
}

ErrorOr<std::shared_ptr<PosixTimer>> GetTimer(Task& t, uint64_t id) {
  if (static_cast<int64_t>(static_cast<int32_t>(id)) != static_cast<int64_t>(id)) return Err(EINVAL);
  auto timer = t.tg()->posix_timers.Get(static_cast<int>(id));
  if (!timer) return Err(EINVAL);
  return timer;
}

struct itimerspec ToItimerspec(const PosixTimer::Setting& s) {
  struct itimerspec v;
  v.it_value = absl::ToTimespec(absl::Nanoseconds(s.value_ns));
  v.it_interval = absl::ToTimespec(absl::Nanoseconds(s.interval_ns));
  return v;
}

}  // namespace

SysRet TimerCreate(Task& t, const SyscallArgs& a) {
  clockid_t clock = static_cast<clockid_t>(a[0]);
  TRY(CheckTimerClock(t, clock));
  PosixTimer::Notify n;
  bool value_is_id = a[1] == 0;
  if (!value_is_id) {
    KSigevent ev;
    TRY(t.CopyInBytes(UserAddr(a[1]), &ev, sizeof(ev)));
    n.value = ev.value;
    n.signo = ev.signo;
    n.kind = ev.notify;
    // good_sigevent().
    switch (ev.notify) {
      case SIGEV_SIGNAL | SIGEV_THREAD_ID: {
        std::shared_ptr<Task> target = t.kernel().TaskByTid(ev.tid);
        if (!target || target->tg() != t.tg()) return SysRet::Err(EINVAL);
        n.tid = ev.tid;
        n.kind = SIGEV_THREAD_ID;
        [[fallthrough]];
      }
      case SIGEV_SIGNAL:
      case SIGEV_THREAD:
        if (ev.signo <= 0 || ev.signo > kNumSignals) return SysRet::Err(EINVAL);
        if (ev.notify == SIGEV_THREAD) n.kind = SIGEV_SIGNAL;  // a library's affair
        break;
      case SIGEV_NONE:
        break;
      default:
        return SysRet::Err(EINVAL);
    }
  }
  int id = TRY_ASSIGN(t.tg()->posix_timers.Create(&t.kernel(), t.tg_ptr(), TimerHostClock(clock), n,
                                                  value_is_id));
  int32_t out = id;
  if (Errno e = t.CopyOut(UserPtr<int32_t>(a[2]), out); e != 0) {
    t.tg()->posix_timers.Delete(id);
    return SysRet::Err(e);
  }
  return 0;
}

SysRet TimerSettime(Task& t, const SyscallArgs& a) {
  auto timer = TRY_ASSIGN(GetTimer(t, a[0]));
  int flags = static_cast<int>(a[1]);
  if (a[2] == 0) return SysRet::Err(EINVAL);
  struct itimerspec nv;
  TRY(t.CopyInBytes(UserAddr(a[2]), &nv, sizeof(nv)));
  for (const struct timespec& ts : {nv.it_value, nv.it_interval}) {
    if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000) return SysRet::Err(EINVAL);
  }
  int64_t value = absl::ToInt64Nanoseconds(absl::DurationFromTimespec(nv.it_value));
  int64_t interval = absl::ToInt64Nanoseconds(absl::DurationFromTimespec(nv.it_interval));
  PosixTimer::Setting old = timer->Set(value, value == 0 ? 0 : interval, flags & TIMER_ABSTIME);
  if (a[3] != 0) {
    struct itimerspec ov = ToItimerspec(old);
    TRY(t.CopyOutBytes(UserAddr(a[3]), &ov, sizeof(ov)));
  }
  return 0;
}

SysRet TimerGettime(Task& t, const SyscallArgs& a) {
  auto timer = TRY_ASSIGN(GetTimer(t, a[0]));
  struct itimerspec v = ToItimerspec(timer->Get());
  TRY(t.CopyOutBytes(UserAddr(a[1]), &v, sizeof(v)));
  return 0;
}

SysRet TimerGetoverrun(Task& t, const SyscallArgs& a) {
  auto timer = TRY_ASSIGN(GetTimer(t, a[0]));
  return timer->Overrun();
}

SysRet TimerDelete(Task& t, const SyscallArgs& a) {
  auto timer = TRY_ASSIGN(GetTimer(t, a[0]));
  if (!t.tg()->posix_timers.Delete(static_cast<int>(a[0]))) return SysRet::Err(EINVAL);
  return 0;
}

}  // namespace sentry::sys
