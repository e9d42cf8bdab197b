// timerfd_create, timerfd_settime, timerfd_gettime (reads go through the
// file: fs/anon/timerfd.h).
#include <sys/timerfd.h>

#include "fs/anon/timerfd.h"
#include "syscalls/handlers.h"
#include "syscalls/util.h"

namespace sentry::sys {
namespace {

constexpr int kCapWakeAlarm = 35;
constexpr int64_t kNsPerSec = 1000000000;

ErrorOr<vfs::TimerFd*> GetTimerFd(const FilePtr& f) {
  auto* tf = dynamic_cast<vfs::TimerFd*>(f.get());
  if (tf == nullptr) return Err(EINVAL);
  return tf;
}

ErrorOr<int64_t> ToNs(const struct timespec& ts) {
  if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= kNsPerSec) return Err(EINVAL);
  if (ts.tv_sec > (INT64_MAX - ts.tv_nsec) / kNsPerSec) return INT64_MAX;
  return static_cast<int64_t>(ts.tv_sec) * kNsPerSec + ts.tv_nsec;
}

struct itimerspec ToItimerspec(const vfs::TimerFd::Setting& s) {
  struct itimerspec it;
  it.it_value = {s.value_ns / kNsPerSec, s.value_ns % kNsPerSec};
  it.it_interval = {s.interval_ns / kNsPerSec, s.interval_ns % kNsPerSec};
  return it;
}

}  // namespace

SysRet TimerfdCreate(Task& t, const SyscallArgs& a) {
  int clock = static_cast<int>(a[0]);
  uint64_t flags = a[1];
  if (flags & ~uint64_t{TFD_CLOEXEC | TFD_NONBLOCK}) return SysRet::Err(EINVAL);
  switch (clock) {
    case CLOCK_REALTIME:
    case CLOCK_MONOTONIC:
    case CLOCK_BOOTTIME:
      break;
    case CLOCK_REALTIME_ALARM:
    case CLOCK_BOOTTIME_ALARM:
      // Waking a suspended machine: nothing to wake here, but the
      // permission check is Linux's.
      if (!t.creds().HasCap(kCapWakeAlarm)) return SysRet::Err(EPERM);
      clock = clock == CLOCK_REALTIME_ALARM ? CLOCK_REALTIME : CLOCK_BOOTTIME;
      break;
    default:
      return SysRet::Err(EINVAL);
  }
  auto f = vfs::NewTimerFd(&t.kernel().timers(), clock, static_cast<uint32_t>(flags));
  return InstallFile(t, std::move(f), flags & TFD_CLOEXEC);
}

SysRet TimerfdSettime(Task& t, const SyscallArgs& a) {
  uint64_t flags = a[1];
  if (flags & ~uint64_t{TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET}) return SysRet::Err(EINVAL);
  struct itimerspec nv;
  TRY(t.CopyInBytes(UserAddr(a[2]), &nv, sizeof(nv)));
  int64_t value = TRY_ASSIGN(ToNs(nv.it_value));
  int64_t interval = TRY_ASSIGN(ToNs(nv.it_interval));
  FilePtr f = TRY_ASSIGN(GetFile(t, static_cast<int>(a[0])));
  vfs::TimerFd* tf = TRY_ASSIGN(GetTimerFd(f));
  // TFD_TIMER_CANCEL_ON_SET: the sandbox's realtime clock is never set,
  // so there is nothing to cancel on.
  vfs::TimerFd::Setting old = tf->Set(value, interval, flags & TFD_TIMER_ABSTIME);
  if (a[3] != 0) {
    struct itimerspec o = ToItimerspec(old);
    TRY(t.CopyOutBytes(UserAddr(a[3]), &o, sizeof(o)));
  }
  return 0;
}

SysRet TimerfdGettime(Task& t, const SyscallArgs& a) {
  FilePtr f = TRY_ASSIGN(GetFile(t, static_cast<int>(a[0])));
  vfs::TimerFd* tf = TRY_ASSIGN(GetTimerFd(f));
  struct itimerspec cur = ToItimerspec(tf->Get());
  TRY(t.CopyOutBytes(UserAddr(a[1]), &cur, sizeof(cur)));
  return 0;
}

}  // namespace sentry::sys
