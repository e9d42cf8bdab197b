// POSIX timers: timer_create with SIGEV_SIGNAL, SIGEV_NONE and
// SIGEV_THREAD_ID, one-shot and periodic, relative and absolute,
// overruns, and the errors of each call.

#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "tests/syscalls/test_util.h"

namespace systest {
namespace {

using Clock = std::chrono::steady_clock;

// The kernel's timer id (glibc's timer_t wraps it); raw syscalls keep the
// test on the kernel interface.
int Create(clockid_t c, sigevent* ev, int* id) {
  return static_cast<int>(syscall(SYS_timer_create, c, ev, id));
}
int Settime(int id, int flags, const itimerspec* nv, itimerspec* ov) {
  return static_cast<int>(syscall(SYS_timer_settime, id, flags, nv, ov));
}
int Gettime(int id, itimerspec* v) { return static_cast<int>(syscall(SYS_timer_gettime, id, v)); }
int Getoverrun(int id) { return static_cast<int>(syscall(SYS_timer_getoverrun, id)); }
int Delete(int id) { return static_cast<int>(syscall(SYS_timer_delete, id)); }

itimerspec Spec(int64_t value_ns, int64_t interval_ns) {
  itimerspec s = {};
  s.it_value = {static_cast<time_t>(value_ns / 1000000000), static_cast<long>(value_ns % 1000000000)};
  s.it_interval = {static_cast<time_t>(interval_ns / 1000000000),
                   static_cast<long>(interval_ns % 1000000000)};
  return s;
}

int64_t Ns(const timespec& ts) { return ts.tv_sec * 1000000000LL + ts.tv_nsec; }

// Blocks `sig` for the test's duration (and the process), restoring after.
class BlockSignal {
 public:
  explicit BlockSignal(int sig) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    pthread_sigmask(SIG_BLOCK, &s, &old_);
    sig_ = sig;
  }
  ~BlockSignal() {
    // Drop what the test left pending before unblocking.
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig_);
    timespec zero = {0, 0};
    while (sigtimedwait(&s, nullptr, &zero) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t old_;
  int sig_;
};

siginfo_t WaitFor(int sig, int timeout_ms = 5000) {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, sig);
  timespec to = {timeout_ms / 1000, (timeout_ms % 1000) * 1000000L};
  siginfo_t si = {};
  if (sigtimedwait(&s, &si, &to) != sig) si.si_signo = -1;
  return si;
}

TEST(PosixTimerTest, OneShotSignalCarriesValueAndId) {
  BlockSignal b(SIGUSR1);
  sigevent ev = {};
  ev.sigev_notify = SIGEV_SIGNAL;
  ev.sigev_signo = SIGUSR1;
  ev.sigev_value.sival_int = 77;
  int id;
  ASSERT_THAT(Create(CLOCK_MONOTONIC, &ev, &id), SyscallSucceeds());
  itimerspec s = Spec(50000000, 0);
  auto start = Clock::now();
  ASSERT_THAT(Settime(id, 0, &s, nullptr), SyscallSucceeds());
  siginfo_t si = WaitFor(SIGUSR1);
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(50));
  ASSERT_EQ(si.si_signo, SIGUSR1);
  EXPECT_EQ(si.si_code, SI_TIMER);
  EXPECT_EQ(si.si_value.sival_int, 77);
  EXPECT_EQ(si.si_timerid, id);
  EXPECT_EQ(si.si_overrun, 0);
  itimerspec cur;
  ASSERT_THAT(Gettime(id, &cur), SyscallSucceeds());
  EXPECT_EQ(Ns(cur.it_value), 0);
  EXPECT_EQ(Ns(cur.it_interval), 0);
  EXPECT_THAT(Delete(id), SyscallSucceeds());
  EXPECT_THAT(Delete(id), SyscallFailsWithErrno(EINVAL));
}

TEST(PosixTimerTest, WithoutSigeventSendsSigalrmWithTheId) {
  BlockSignal b(SIGALRM);
  int id;
  ASSERT_THAT(Create(CLOCK_REALTIME, nullptr, &id), SyscallSucceeds());
  itimerspec s = Spec(10000000, 0);
  ASSERT_THAT(Settime(id, 0, &s, nullptr), SyscallSucceeds());
  siginfo_t si = WaitFor(SIGALRM);
  ASSERT_EQ(si.si_signo, SIGALRM);
  EXPECT_EQ(si.si_value.sival_int, id);
  EXPECT_THAT(Delete(id), SyscallSucceeds());
}

TEST(PosixTimerTest, PeriodicOverruns) {
  BlockSignal b(SIGUSR2);
  sigevent ev = {};
  ev.sigev_notify = SIGEV_SIGNAL;
  ev.sigev_signo = SIGUSR2;
  int id;
  ASSERT_THAT(Create(CLOCK_MONOTONIC, &ev, &id), SyscallSucceeds());
  itimerspec s = Spec(10000000, 10000000);
  ASSERT_THAT(Settime(id, 0, &s, nullptr), SyscallSucceeds());
  // While the first signal stays pending, later expiries are overruns.
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  siginfo_t si = WaitFor(SIGUSR2);
  ASSERT_EQ(si.si_signo, SIGUSR2);
  EXPECT_GE(si.si_overrun, 5);
  EXPECT_LE(si.si_overrun, 20);
  EXPECT_EQ(Getoverrun(id), si.si_overrun);
  // The next expiry queues a fresh signal.
  si = WaitFor(SIGUSR2);
  ASSERT_EQ(si.si_signo, SIGUSR2);
  EXPECT_LE(si.si_overrun, 3);
  itimerspec cur;
  ASSERT_THAT(Gettime(id, &cur), SyscallSucceeds());
  EXPECT_EQ(Ns(cur.it_interval), 10000000);
  EXPECT_GT(Ns(cur.it_value), 0);
  EXPECT_LE(Ns(cur.it_value), 10000000);
  EXPECT_THAT(Delete(id), SyscallSucceeds());
}

TEST(PosixTimerTest, SettimeReturnsTheOldSettingAndAbsoluteTimes) {
  sigevent ev = {};
  ev.sigev_notify = SIGEV_NONE;
  int id;
  ASSERT_THAT(Create(CLOCK_MONOTONIC, &ev, &id), SyscallSucceeds());
  itimerspec s = Spec(10000000000LL, 2000000000LL);
  ASSERT_THAT(Settime(id, 0, &s, nullptr), SyscallSucceeds());
  itimerspec old;
  itimerspec off = Spec(0, 0);
  ASSERT_THAT(Settime(id, 0, &off, &old), SyscallSucceeds());
  EXPECT_GT(Ns(old.it_value), 9000000000LL);
  EXPECT_LE(Ns(old.it_value), 10000000000LL);
  EXPECT_EQ(Ns(old.it_interval), 2000000000LL);

  // SIGEV_NONE counts down without any signal; an absolute time already
  // past expires at once.
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  itimerspec abs = {};
  abs.it_value = now;
  abs.it_value.tv_sec += 5;
  ASSERT_THAT(Settime(id, TIMER_ABSTIME, &abs, nullptr), SyscallSucceeds());
  itimerspec cur;
  ASSERT_THAT(Gettime(id, &cur), SyscallSucceeds());
  EXPECT_GT(Ns(cur.it_value), 4000000000LL);
  EXPECT_LE(Ns(cur.it_value), 5000000000LL);
  abs.it_value.tv_sec -= 10;
  ASSERT_THAT(Settime(id, TIMER_ABSTIME, &abs, nullptr), SyscallSucceeds());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_THAT(Gettime(id, &cur), SyscallSucceeds());
  EXPECT_EQ(Ns(cur.it_value), 0);
  EXPECT_THAT(Delete(id), SyscallSucceeds());
}

TEST(PosixTimerTest, ThreadIdTargetsOneThread) {
  BlockSignal b(SIGUSR1);  // blocked in every thread created from here
  std::atomic<pid_t> tid{0};
  std::atomic<int> got{0};
  std::thread th([&] {
    tid = static_cast<pid_t>(syscall(SYS_gettid));
    siginfo_t si = WaitFor(SIGUSR1);
    got = si.si_code == SI_TIMER ? 1 : -1;
  });
  while (tid == 0) usleep(1000);
  sigevent ev = {};
  ev.sigev_notify = SIGEV_THREAD_ID;
  ev.sigev_signo = SIGUSR1;
  ev._sigev_un._tid = tid;
  int id;
  ASSERT_THAT(Create(CLOCK_MONOTONIC, &ev, &id), SyscallSucceeds());
  itimerspec s = Spec(20000000, 0);
  ASSERT_THAT(Settime(id, 0, &s, nullptr), SyscallSucceeds());
  th.join();
  EXPECT_EQ(got.load(), 1);
  // The main thread got nothing.
  sigset_t pend;
  sigpending(&pend);
  EXPECT_FALSE(sigismember(&pend, SIGUSR1));
  EXPECT_THAT(Delete(id), SyscallSucceeds());
}

TEST(PosixTimerTest, Errors) {
  int id;
  sigevent ev = {};
  EXPECT_THAT(Create(12345, nullptr, &id), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Create(CLOCK_MONOTONIC_RAW, nullptr, &id), SyscallFailsWithErrno(EOPNOTSUPP));
  ev.sigev_notify = SIGEV_SIGNAL;
  ev.sigev_signo = 0;
  EXPECT_THAT(Create(CLOCK_MONOTONIC, &ev, &id), SyscallFailsWithErrno(EINVAL));
  ev.sigev_signo = 65;
  EXPECT_THAT(Create(CLOCK_MONOTONIC, &ev, &id), SyscallFailsWithErrno(EINVAL));
  ev.sigev_signo = SIGUSR1;
  ev.sigev_notify = 99;
  EXPECT_THAT(Create(CLOCK_MONOTONIC, &ev, &id), SyscallFailsWithErrno(EINVAL));
  ev.sigev_notify = SIGEV_THREAD_ID;
  ev._sigev_un._tid = 1;  // not one of our threads
  EXPECT_THAT(Create(CLOCK_MONOTONIC, &ev, &id), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Create(CLOCK_MONOTONIC, Opaque<sigevent*>(reinterpret_cast<sigevent*>(8)), &id),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(Create(CLOCK_MONOTONIC, nullptr, Opaque<int*>(nullptr)),
              SyscallFailsWithErrno(EFAULT));

  itimerspec s = Spec(1000000, 0);
  EXPECT_THAT(Settime(123456, 0, &s, nullptr), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Getoverrun(123456), SyscallFailsWithErrno(EINVAL));
  ev.sigev_notify = SIGEV_NONE;
  ASSERT_THAT(Create(CLOCK_MONOTONIC, &ev, &id), SyscallSucceeds());
  EXPECT_THAT(Settime(id, 0, nullptr, nullptr), SyscallFailsWithErrno(EINVAL));
  s.it_value.tv_nsec = 1000000000;
  EXPECT_THAT(Settime(id, 0, &s, nullptr), SyscallFailsWithErrno(EINVAL));
  s.it_value.tv_nsec = 0;
  s.it_value.tv_sec = -1;
  EXPECT_THAT(Settime(id, 0, &s, nullptr), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Gettime(id, Opaque<itimerspec*>(nullptr)), SyscallFailsWithErrno(EFAULT));

  // Ids count up; a child of fork has none of its parent's timers.
  int id2;
  ASSERT_THAT(Create(CLOCK_MONOTONIC, &ev, &id2), SyscallSucceeds());
  EXPECT_EQ(id2, id + 1);
  EXPECT_THAT(ForkAndWait([&] {
                itimerspec v;
                TEST_CHECK_ERRNO(Gettime(id, &v), EINVAL);
              }),
              ExitedWithCode(0));
  EXPECT_THAT(Delete(id), SyscallSucceeds());
  EXPECT_THAT(Delete(id2), SyscallSucceeds());
}

}  // namespace
}  // namespace systest
