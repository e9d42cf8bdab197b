// Interval timers: alarm(2), setitimer(2), getitimer(2).
//
// ITIMER_REAL runs on the kernel's timer thread; ITIMER_VIRTUAL and
// ITIMER_PROF count the process's CPU time (user, user+sys) and fire
// from its own threads' CPU sampling (sentry/kernel/cpu_time.h).
#include <sys/time.h>

#include "syscalls/handlers.h"
#include "syscalls/util.h"

namespace sentry::sys {
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

uint64_t NsOf(const struct timeval& tv) {
  return static_cast<uint64_t>(tv.tv_sec) * 1000000000ull + static_cast<uint64_t>(tv.tv_usec) * 1000;
}

struct timeval TvOfNs(uint64_t ns) {
  // Round up to whole microseconds so an armed timer never reads as 0.
  uint64_t us = (ns + 999) / 1000;
  return {static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
}

CpuClockKind CpuKindOf(int which) {
  return which == ITIMER_VIRTUAL ? CpuClockKind::kVirtual : CpuClockKind::kProf;
}

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
  // A null new value disarms, as Linux still allows.
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
  } else {
    CpuTimers::Itimer set{NsOf(nv.it_value), NsOf(nv.it_interval)};
    CpuTimers::Itimer old =
        t.tg()->cpu_timers.Set(CpuKindOf(which), Kernel::ProcessCpuTime(t, t.tg()), set);
    if (set.value_ns != 0) t.kernel().WantCpuTicks(t.tg_ptr());
    ov.it_value = TvOfNs(old.value_ns);
    ov.it_interval = TvOfNs(old.interval_ns);
  }
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
  } else {
    CpuTimers::Itimer cur =
        t.tg()->cpu_timers.Get(CpuKindOf(which), Kernel::ProcessCpuTime(t, t.tg()));
    v.it_value = TvOfNs(cur.value_ns);
    v.it_interval = TvOfNs(cur.interval_ns);
  }
  TRY(t.CopyOutBytes(UserAddr(a[1]), &v, sizeof(v)));
  return 0;
}

}  // namespace sentry::sys
