// Clocks, sleeps and timers: clock_gettime(2), clock_getres(2),
// nanosleep(2), clock_nanosleep(2), gettimeofday(2), time(2), alarm(2),
// setitimer(2)/getitimer(2), times(2) and getrusage(2).
//
// Timing assertions only check lower bounds (a sleep never ends early) and
// generous upper bounds, so a loaded machine does not make them flaky.

#include <sys/resource.h>
#include <sys/time.h>
#include <sys/times.h>

#include <atomic>
#include <string>
#include <thread>

#include "tests/syscalls/test_util.h"

namespace systest {
namespace {

using ::testing::Ge;

constexpr int64_t kMillis = 1000 * 1000;
constexpr int64_t kSecond = 1000 * kMillis;

int64_t Nanos(const struct timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * kSecond + ts.tv_nsec;
}

int64_t Now(clockid_t clock) {
  struct timespec ts;
  if (clock_gettime(clock, &ts) != 0) ThrowErrno("clock_gettime");
  return Nanos(ts);
}

int64_t NanosOf(const struct timeval& tv) {
  return static_cast<int64_t>(tv.tv_sec) * kSecond + tv.tv_usec * 1000;
}

// Uses CPU until the process CPU clock has advanced by `nanos`.
void BurnCpu(int64_t nanos) {
  const int64_t until = Now(CLOCK_PROCESS_CPUTIME_ID) + nanos;
  volatile uint64_t x = 0;
  while (Now(CLOCK_PROCESS_CPUTIME_ID) < until) {
    for (int i = 0; i < 10000; ++i) x = x + i;
  }
}

constexpr clockid_t kAllClocks[] = {
    CLOCK_REALTIME,         CLOCK_MONOTONIC,        CLOCK_PROCESS_CPUTIME_ID,
    CLOCK_THREAD_CPUTIME_ID, CLOCK_MONOTONIC_RAW,   CLOCK_REALTIME_COARSE,
    CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME};

constexpr clockid_t kMonotonicClocks[] = {
    CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_MONOTONIC_COARSE,
    CLOCK_BOOTTIME, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID};

// --- clock_gettime / clock_getres -----------------------------------------

TEST(ClockTest, EveryClockReadsANormalizedTime) {
  for (clockid_t clock : kAllClocks) {
    struct timespec ts = {-1, -1};
    // Through the raw syscall too: libc may answer from the vDSO.
    ASSERT_THAT(syscall(SYS_clock_gettime, clock, &ts), SyscallSucceeds())
        << clock;
    EXPECT_GE(ts.tv_sec, 0) << clock;
    EXPECT_GE(ts.tv_nsec, 0) << clock;
    EXPECT_LT(ts.tv_nsec, kSecond) << clock;
    ASSERT_THAT(clock_gettime(clock, &ts), SyscallSucceeds()) << clock;
    EXPECT_LT(ts.tv_nsec, kSecond) << clock;
  }
}

TEST(ClockTest, MonotonicClocksNeverGoBack) {
  for (clockid_t clock : kMonotonicClocks) {
    int64_t prev = Now(clock);
    for (int i = 0; i < 2000; ++i) {
      int64_t now = Now(clock);
      ASSERT_GE(now, prev) << "clock " << clock << " iteration " << i;
      prev = now;
    }
  }
}

TEST(ClockTest, RelationsBetweenClocks) {
  // BOOTTIME includes suspend time that MONOTONIC does not.
  EXPECT_GE(Now(CLOCK_BOOTTIME) + 10 * kMillis, Now(CLOCK_MONOTONIC));
  // The realtime clock is well past 2020.
  EXPECT_GT(Now(CLOCK_REALTIME), int64_t{1577836800} * kSecond);
  // The coarse clocks lag the fine ones by at most a few ticks.
  const int64_t fine = Now(CLOCK_MONOTONIC);
  const int64_t coarse = Now(CLOCK_MONOTONIC_COARSE);
  EXPECT_LE(coarse, Now(CLOCK_MONOTONIC));
  EXPECT_LT(fine - coarse, 1 * kSecond);
  // Raw syscall and libc agree on the realtime clock.
  struct timespec raw;
  ASSERT_THAT(syscall(SYS_clock_gettime, CLOCK_REALTIME, &raw),
              SyscallSucceeds());
  EXPECT_LT(std::abs(Now(CLOCK_REALTIME) - Nanos(raw)), 5 * kSecond);
}

TEST(ClockTest, Errors) {
  struct timespec ts;
  EXPECT_THAT(syscall(SYS_clock_gettime, 100, &ts),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, nullptr),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(syscall(SYS_clock_getres, 100, &ts),
              SyscallFailsWithErrno(EINVAL));
  // Setting the monotonic clock is never allowed.
  struct timespec one = {1, 0};
  EXPECT_THAT(syscall(SYS_clock_settime, CLOCK_MONOTONIC, &one),
              SyscallFailsWithErrno(EINVAL));
}

TEST(ClockTest, Resolutions) {
  for (clockid_t clock : kAllClocks) {
    struct timespec res = {-1, -1};
    ASSERT_THAT(syscall(SYS_clock_getres, clock, &res), SyscallSucceeds())
        << clock;
    EXPECT_EQ(res.tv_sec, 0) << clock;
    EXPECT_GT(res.tv_nsec, 0) << clock;
    EXPECT_LE(res.tv_nsec, 10 * kMillis) << clock;
    // A null result pointer is allowed.
    EXPECT_THAT(syscall(SYS_clock_getres, clock, nullptr), SyscallSucceeds());
  }
  // High-resolution timers: the fine clocks have nanosecond resolution.
  struct timespec res;
  ASSERT_THAT(clock_getres(CLOCK_MONOTONIC, &res), SyscallSucceeds());
  EXPECT_EQ(res.tv_nsec, 1);
}

TEST(ClockTest, CpuClocksCountCpuTime) {
  const int64_t wall0 = Now(CLOCK_MONOTONIC);
  const int64_t proc0 = Now(CLOCK_PROCESS_CPUTIME_ID);
  const int64_t thread0 = Now(CLOCK_THREAD_CPUTIME_ID);
  BurnCpu(50 * kMillis);
  const int64_t proc = Now(CLOCK_PROCESS_CPUTIME_ID) - proc0;
  const int64_t thread = Now(CLOCK_THREAD_CPUTIME_ID) - thread0;
  const int64_t wall = Now(CLOCK_MONOTONIC) - wall0;
  EXPECT_GE(proc, 50 * kMillis);
  EXPECT_GE(thread, 40 * kMillis);
  EXPECT_LE(thread, wall + kMillis);
  // A sleeping thread uses (almost) no CPU.
  const int64_t before = Now(CLOCK_THREAD_CPUTIME_ID);
  struct timespec ts = {0, 100 * kMillis};
  nanosleep(&ts, nullptr);
  EXPECT_LT(Now(CLOCK_THREAD_CPUTIME_ID) - before, 50 * kMillis);
}

TEST(ClockTest, ProcessCpuClockIncludesOtherThreads) {
  const int64_t proc0 = Now(CLOCK_PROCESS_CPUTIME_ID);
  const int64_t mine0 = Now(CLOCK_THREAD_CPUTIME_ID);
  std::thread t([] {
    const int64_t until = Now(CLOCK_THREAD_CPUTIME_ID) + 60 * kMillis;
    volatile uint64_t x = 0;
    while (Now(CLOCK_THREAD_CPUTIME_ID) < until) x = x + 1;
  });
  t.join();
  const int64_t mine = Now(CLOCK_THREAD_CPUTIME_ID) - mine0;
  EXPECT_GE(Now(CLOCK_PROCESS_CPUTIME_ID) - proc0, 60 * kMillis + mine / 2);
}

// --- nanosleep / clock_nanosleep ------------------------------------------

TEST(SleepTest, NanosleepSleepsAtLeastTheRequest) {
  for (int64_t ms : {1, 20, 100}) {
    const int64_t start = Now(CLOCK_MONOTONIC);
    struct timespec req = {0, static_cast<long>(ms * kMillis)};
    ASSERT_THAT(nanosleep(&req, nullptr), SyscallSucceeds());
    const int64_t slept = Now(CLOCK_MONOTONIC) - start;
    EXPECT_GE(slept, ms * kMillis);
    EXPECT_LT(slept, ms * kMillis + 5 * kSecond);
  }
  struct timespec zero = {0, 0};
  EXPECT_THAT(nanosleep(&zero, nullptr), SyscallSucceeds());
}

TEST(SleepTest, NanosleepErrors) {
  struct timespec bad = {0, 1000000000};
  EXPECT_THAT(nanosleep(&bad, nullptr), SyscallFailsWithErrno(EINVAL));
  struct timespec neg_nsec = {0, -1};
  EXPECT_THAT(nanosleep(&neg_nsec, nullptr), SyscallFailsWithErrno(EINVAL));
  struct timespec neg_sec = {-1, 0};
  EXPECT_THAT(nanosleep(&neg_sec, nullptr), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_nanosleep, nullptr, nullptr),
              SyscallFailsWithErrno(EFAULT));
}

long RawClockNanosleep(clockid_t clock, int flags, const struct timespec* req,
                       struct timespec* rem = nullptr) {
  return syscall(SYS_clock_nanosleep, clock, flags, req, rem);
}

TEST(SleepTest, ClockNanosleepAbsolute) {
  for (clockid_t clock : {CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME}) {
    struct timespec now;
    clock_gettime(clock, &now);
    const int64_t target = Nanos(now) + 50 * kMillis;
    struct timespec req = {static_cast<time_t>(target / kSecond),
                           static_cast<long>(target % kSecond)};
    ASSERT_THAT(RawClockNanosleep(clock, TIMER_ABSTIME, &req),
                SyscallSucceeds());
    EXPECT_GE(Now(clock), target) << clock;
  }
}

TEST(SleepTest, ClockNanosleepAbsoluteInThePastReturnsAtOnce) {
  struct timespec past = {1, 0};
  const int64_t start = Now(CLOCK_MONOTONIC);
  EXPECT_THAT(RawClockNanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &past),
              SyscallSucceeds());
  EXPECT_LT(Now(CLOCK_MONOTONIC) - start, 1 * kSecond);
}

TEST(SleepTest, ClockNanosleepRelative) {
  const int64_t start = Now(CLOCK_MONOTONIC);
  struct timespec req = {0, 30 * kMillis};
  ASSERT_THAT(RawClockNanosleep(CLOCK_MONOTONIC, 0, &req), SyscallSucceeds());
  EXPECT_GE(Now(CLOCK_MONOTONIC) - start, 30 * kMillis);
}

TEST(SleepTest, ClockNanosleepErrors) {
  struct timespec req = {0, 1000};
  // The man page says EINVAL; Linux (since 5.x) says a clock that cannot
  // be slept on is EOPNOTSUPP.
  EXPECT_THAT(RawClockNanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &req),
              SyscallFailsWithErrno(EOPNOTSUPP));
  EXPECT_THAT(RawClockNanosleep(100, 0, &req), SyscallFailsWithErrno(EINVAL));
  struct timespec bad = {0, 1000000000};
  EXPECT_THAT(RawClockNanosleep(CLOCK_MONOTONIC, 0, &bad),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(RawClockNanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &bad),
              SyscallFailsWithErrno(EINVAL));
  // libc's wrapper returns the error instead of setting errno.
  EXPECT_EQ(clock_nanosleep(CLOCK_MONOTONIC, 0, &bad, nullptr), EINVAL);
}

TEST(SleepTest, ClockNanosleepOnTheProcessCpuClock) {
  // Sleeping on our own CPU clock needs CPU time to pass: a second thread
  // burns it.
  std::atomic<bool> done{false};
  std::thread burner([&] {
    volatile uint64_t x = 0;
    while (!done.load()) x = x + 1;
  });
  const int64_t start = Now(CLOCK_PROCESS_CPUTIME_ID);
  struct timespec req = {0, 30 * kMillis};
  EXPECT_THAT(RawClockNanosleep(CLOCK_PROCESS_CPUTIME_ID, 0, &req),
              SyscallSucceeds());
  done = true;
  burner.join();
  EXPECT_GE(Now(CLOCK_PROCESS_CPUTIME_ID) - start, 30 * kMillis);
}

// --- gettimeofday / time --------------------------------------------------

TEST(TimeOfDayTest, AgreesWithTheRealtimeClock) {
  struct timeval tv;
  ASSERT_THAT(gettimeofday(&tv, nullptr), SyscallSucceeds());
  EXPECT_GE(tv.tv_usec, 0);
  EXPECT_LT(tv.tv_usec, 1000000);
  EXPECT_LT(std::abs(Now(CLOCK_REALTIME) - NanosOf(tv)), 5 * kSecond);
  struct timeval raw;
  ASSERT_THAT(syscall(SYS_gettimeofday, &raw, nullptr), SyscallSucceeds());
  EXPECT_LT(std::abs(NanosOf(raw) - NanosOf(tv)), 5 * kSecond);
  struct timezone tz;
  EXPECT_THAT(syscall(SYS_gettimeofday, nullptr, &tz), SyscallSucceeds());
  EXPECT_THAT(syscall(SYS_gettimeofday, nullptr, nullptr), SyscallSucceeds());
}

TEST(TimeOfDayTest, Time) {
  time_t t = 0;
  const long r = syscall(SYS_time, &t);
  ASSERT_THAT(r, SyscallSucceeds());
  EXPECT_EQ(r, t);
  EXPECT_LT(std::abs(static_cast<int64_t>(t) * kSecond - Now(CLOCK_REALTIME)),
            5 * kSecond);
  EXPECT_THAT(syscall(SYS_time, nullptr), SyscallSucceedsWithValue(Ge(t)));
}

TEST(TimeOfDayTest, SettingTheClockNeedsPrivilege) {
  EXPECT_THAT(ForkAndWait([] {
    DropPrivilegesInChild();
    struct timeval tv;
    gettimeofday(&tv, nullptr);
    TEST_CHECK_ERRNO(settimeofday(&tv, nullptr), EPERM);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    TEST_CHECK_ERRNO(clock_settime(CLOCK_REALTIME, &ts), EPERM);
  }),
              ExitedWithCode(0));
}

// --- alarm ----------------------------------------------------------------

// Blocks SIGALRM and restores mask and disposition afterwards.
class AlarmSignalBlocked {
 public:
  AlarmSignalBlocked() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGALRM);
    sigaddset(&set, SIGVTALRM);
    sigaddset(&set, SIGPROF);
    sigprocmask(SIG_BLOCK, &set, &old_);
  }
  ~AlarmSignalBlocked() {
    struct itimerval zero = {};
    setitimer(ITIMER_REAL, &zero, nullptr);
    setitimer(ITIMER_VIRTUAL, &zero, nullptr);
    setitimer(ITIMER_PROF, &zero, nullptr);
    alarm(0);
    // Drop anything still pending before unblocking.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGALRM);
    sigaddset(&set, SIGVTALRM);
    sigaddset(&set, SIGPROF);
    struct timespec zero_ts = {0, 0};
    while (sigtimedwait(&set, nullptr, &zero_ts) > 0) {
    }
    sigprocmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t old_;
};

int WaitForSignal(int sig, int64_t timeout_nanos) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  struct timespec ts = {static_cast<time_t>(timeout_nanos / kSecond),
                        static_cast<long>(timeout_nanos % kSecond)};
  return sigtimedwait(&set, nullptr, &ts);
}

TEST(AlarmTest, ReturnsTheSecondsLeftOnThePreviousAlarm) {
  AlarmSignalBlocked blocked;
  EXPECT_EQ(alarm(0), 0u);
  EXPECT_EQ(alarm(100), 0u);
  unsigned left = alarm(50);
  EXPECT_GE(left, 99u);
  EXPECT_LE(left, 100u);
  left = alarm(0);
  EXPECT_GE(left, 49u);
  EXPECT_LE(left, 50u);
  EXPECT_EQ(alarm(0), 0u);
}

TEST(AlarmTest, DeliversSigalrm) {
  AlarmSignalBlocked blocked;
  const int64_t start = Now(CLOCK_MONOTONIC);
  alarm(1);
  EXPECT_THAT(WaitForSignal(SIGALRM, 30 * kSecond),
              SyscallSucceedsWithValue(SIGALRM));
  EXPECT_GE(Now(CLOCK_MONOTONIC) - start, 1 * kSecond - 10 * kMillis);
  EXPECT_EQ(alarm(0), 0u);  // one-shot
}

TEST(AlarmTest, DefaultActionKills) {
  EXPECT_THAT(ForkAndWait([] {
    signal(SIGALRM, SIG_DFL);
    struct itimerval it = {{0, 0}, {0, 10 * 1000}};
    setitimer(ITIMER_REAL, &it, nullptr);
    for (;;) pause();
  }),
              KilledBySignal(SIGALRM));
}

// --- setitimer / getitimer ------------------------------------------------

TEST(ItimerTest, RealPeriodicTimer) {
  AlarmSignalBlocked blocked;
  struct itimerval it = {{0, 20 * 1000}, {0, 20 * 1000}};
  const int64_t start = Now(CLOCK_MONOTONIC);
  ASSERT_THAT(setitimer(ITIMER_REAL, &it, nullptr), SyscallSucceeds());
  for (int i = 0; i < 5; ++i) {
    ASSERT_THAT(WaitForSignal(SIGALRM, 30 * kSecond),
                SyscallSucceedsWithValue(SIGALRM))
        << "expiry " << i;
  }
  EXPECT_GE(Now(CLOCK_MONOTONIC) - start, 5 * 20 * kMillis - kMillis);
  struct itimerval old;
  struct itimerval zero = {};
  ASSERT_THAT(setitimer(ITIMER_REAL, &zero, &old), SyscallSucceeds());
  // The old setting: the period, and the time to the next expiry (never 0
  // for an armed timer).
  EXPECT_EQ(old.it_interval.tv_sec, 0);
  EXPECT_EQ(old.it_interval.tv_usec, 20 * 1000);
  EXPECT_GT(NanosOf(old.it_value), 0);
  EXPECT_LE(NanosOf(old.it_value), 20 * kMillis);
  struct itimerval now;
  ASSERT_THAT(getitimer(ITIMER_REAL, &now), SyscallSucceeds());
  EXPECT_EQ(now.it_value.tv_sec, 0);
  EXPECT_EQ(now.it_value.tv_usec, 0);
  EXPECT_EQ(now.it_interval.tv_sec, 0);
  EXPECT_EQ(now.it_interval.tv_usec, 0);
}

TEST(ItimerTest, GetitimerCountsDown) {
  AlarmSignalBlocked blocked;
  struct itimerval it = {{7, 0}, {10, 0}};
  ASSERT_THAT(setitimer(ITIMER_REAL, &it, nullptr), SyscallSucceeds());
  struct itimerval now;
  ASSERT_THAT(getitimer(ITIMER_REAL, &now), SyscallSucceeds());
  EXPECT_EQ(now.it_interval.tv_sec, 7);
  EXPECT_EQ(now.it_interval.tv_usec, 0);
  const int64_t left = NanosOf(now.it_value);
  EXPECT_GT(left, 5 * kSecond);
  EXPECT_LE(left, 10 * kSecond);
  // alarm() shares the ITIMER_REAL timer.
  const unsigned secs = alarm(0);
  EXPECT_GE(secs, 9u);
  EXPECT_LE(secs, 10u);
  ASSERT_THAT(getitimer(ITIMER_REAL, &now), SyscallSucceeds());
  EXPECT_EQ(NanosOf(now.it_value), 0);
}

TEST(ItimerTest, Errors) {
  struct itimerval it = {};
  EXPECT_THAT(setitimer(static_cast<__itimer_which>(5), &it, nullptr),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(getitimer(static_cast<__itimer_which>(5), &it),
              SyscallFailsWithErrno(EINVAL));
  struct itimerval bad = {{0, 0}, {0, 1000000}};
  EXPECT_THAT(setitimer(ITIMER_REAL, &bad, nullptr),
              SyscallFailsWithErrno(EINVAL));
  struct itimerval negative = {{0, 0}, {0, -1}};
  EXPECT_THAT(setitimer(ITIMER_REAL, &negative, nullptr),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_getitimer, ITIMER_REAL, nullptr),
              SyscallFailsWithErrno(EFAULT));
}

TEST(ItimerTest, VirtualAndProfTimersCountCpuTime) {
  for (auto [which, sig] : {std::pair{ITIMER_VIRTUAL, SIGVTALRM},
                            std::pair{ITIMER_PROF, SIGPROF}}) {
    AlarmSignalBlocked blocked;
    struct itimerval it = {{0, 0}, {0, 50 * 1000}};
    ASSERT_THAT(setitimer(which, &it, nullptr), SyscallSucceeds());
    const int64_t cpu0 = Now(CLOCK_PROCESS_CPUTIME_ID);
    // Burn CPU until the signal is pending, for at most 10 s of CPU.
    bool fired = false;
    while (!fired && Now(CLOCK_PROCESS_CPUTIME_ID) - cpu0 < 10 * kSecond) {
      BurnCpu(kMillis);
      sigset_t pending;
      sigemptyset(&pending);
      sigpending(&pending);
      fired = sigismember(&pending, sig);
    }
    EXPECT_TRUE(fired) << "which " << which;
    // These timers are checked against tick-sampled CPU time, which can run
    // a tick or two ahead of the precise process clock: a loose bound.
    EXPECT_GE(Now(CLOCK_PROCESS_CPUTIME_ID) - cpu0, 25 * kMillis);
  }
}

TEST(ItimerTest, SleepingDoesNotAdvanceTheVirtualTimer) {
  AlarmSignalBlocked blocked;
  struct itimerval it = {{0, 0}, {0, 50 * 1000}};
  ASSERT_THAT(setitimer(ITIMER_VIRTUAL, &it, nullptr), SyscallSucceeds());
  struct timespec ts = {0, 150 * kMillis};
  nanosleep(&ts, nullptr);
  sigset_t pending;
  sigemptyset(&pending);
  sigpending(&pending);
  EXPECT_FALSE(sigismember(&pending, SIGVTALRM));
  struct itimerval now;
  ASSERT_THAT(getitimer(ITIMER_VIRTUAL, &now), SyscallSucceeds());
  EXPECT_GT(NanosOf(now.it_value), 0);
}

// --- times / getrusage ----------------------------------------------------

TEST(UsageTest, TimesCountsUserTime) {
  struct tms before, after;
  const clock_t t0 = times(&before);
  ASSERT_NE(t0, static_cast<clock_t>(-1));
  BurnCpu(100 * kMillis);
  const clock_t t1 = times(&after);
  const long hz = sysconf(_SC_CLK_TCK);
  EXPECT_GT(hz, 0);
  EXPECT_GE(t1, t0);
  EXPECT_GE((after.tms_utime + after.tms_stime) -
                (before.tms_utime + before.tms_stime),
            hz * 50 / 1000);
  // A null buffer is allowed on Linux.
  EXPECT_NE(syscall(SYS_times, nullptr), -1);
}

TEST(UsageTest, GetrusageSelfThreadAndChildren) {
  struct rusage before, after;
  ASSERT_THAT(getrusage(RUSAGE_SELF, &before), SyscallSucceeds());
  BurnCpu(100 * kMillis);
  ASSERT_THAT(getrusage(RUSAGE_SELF, &after), SyscallSucceeds());
  const int64_t used = (NanosOf(after.ru_utime) + NanosOf(after.ru_stime)) -
                       (NanosOf(before.ru_utime) + NanosOf(before.ru_stime));
  EXPECT_GE(used, 50 * kMillis);
  EXPECT_GT(after.ru_maxrss, 0);
  struct rusage thread;
  EXPECT_THAT(getrusage(RUSAGE_THREAD, &thread), SyscallSucceeds());
  EXPECT_GE(NanosOf(thread.ru_utime) + NanosOf(thread.ru_stime), 50 * kMillis);

  struct rusage children_before, children_after;
  ASSERT_THAT(getrusage(RUSAGE_CHILDREN, &children_before), SyscallSucceeds());
  EXPECT_THAT(ForkAndWait([] { BurnCpu(100 * kMillis); }), ExitedWithCode(0));
  ASSERT_THAT(getrusage(RUSAGE_CHILDREN, &children_after), SyscallSucceeds());
  const int64_t child_used =
      (NanosOf(children_after.ru_utime) + NanosOf(children_after.ru_stime)) -
      (NanosOf(children_before.ru_utime) + NanosOf(children_before.ru_stime));
  EXPECT_GE(child_used, 50 * kMillis);
}

TEST(UsageTest, GetrusageErrors) {
  struct rusage ru;
  EXPECT_THAT(getrusage(static_cast<__rusage_who>(5), &ru),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_getrusage, RUSAGE_SELF, nullptr),
              SyscallFailsWithErrno(EFAULT));
}

}  // namespace
}  // namespace systest
