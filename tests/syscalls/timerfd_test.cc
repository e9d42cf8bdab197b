// timerfd(2): one-shot and periodic timers, absolute times, reads of the
// expiration count, gettime, disarming, readiness and errors.

#include <poll.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>

#include <chrono>

#include "tests/syscalls/test_util.h"

namespace systest {
namespace {

constexpr long kMs = 1000 * 1000;

struct itimerspec Spec(long value_ns, long interval_ns) {
  struct itimerspec it = {};
  it.it_value = {value_ns / 1000000000, value_ns % 1000000000};
  it.it_interval = {interval_ns / 1000000000, interval_ns % 1000000000};
  return it;
}

int64_t ToNs(const struct timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

TEST(TimerfdTest, OneShotFiresOnce) {
  FileDescriptor fd(timerfd_create(CLOCK_MONOTONIC, 0));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  struct itimerspec it = Spec(30 * kMs, 0);
  auto start = std::chrono::steady_clock::now();
  ASSERT_THAT(timerfd_settime(fd.get(), 0, &it, nullptr), SyscallSucceeds());
  uint64_t n = 0;
  // A blocking read waits for the expiry.
  EXPECT_THAT(read(fd.get(), &n, sizeof(n)), SyscallSucceedsWithValue(8));
  EXPECT_EQ(n, 1u);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(29));
  struct itimerspec cur;
  ASSERT_THAT(timerfd_gettime(fd.get(), &cur), SyscallSucceeds());
  EXPECT_EQ(ToNs(cur.it_value), 0);
}

TEST(TimerfdTest, PeriodicCountsMissedExpirations) {
  FileDescriptor fd(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  uint64_t n = 0;
  struct itimerspec it = Spec(10 * kMs, 10 * kMs);
  auto start = std::chrono::steady_clock::now();
  ASSERT_THAT(timerfd_settime(fd.get(), 0, &it, nullptr), SyscallSucceeds());
  EXPECT_THAT(read(fd.get(), &n, sizeof(n)), SyscallFailsWithErrno(EAGAIN));
  usleep(75 * 1000);
  ASSERT_THAT(read(fd.get(), &n, sizeof(n)), SyscallSucceedsWithValue(8));
  auto elapsed = std::chrono::steady_clock::now() - start;
  // Every 10 ms that passed counts, even though nobody read in between.
  EXPECT_GE(n, 5u);
  EXPECT_LE(n, static_cast<uint64_t>(elapsed / std::chrono::milliseconds(10)));
  struct itimerspec cur;
  ASSERT_THAT(timerfd_gettime(fd.get(), &cur), SyscallSucceeds());
  EXPECT_EQ(ToNs(cur.it_interval), 10 * kMs);
  EXPECT_GT(ToNs(cur.it_value), 0);
  EXPECT_LE(ToNs(cur.it_value), 10 * kMs);
}

TEST(TimerfdTest, SettimeReturnsTheOldSettingAndDisarms) {
  FileDescriptor fd(timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  struct itimerspec it = Spec(10000 * kMs, 500 * kMs), old;
  ASSERT_THAT(timerfd_settime(fd.get(), 0, &it, nullptr), SyscallSucceeds());
  struct itimerspec off = Spec(0, 0);
  ASSERT_THAT(timerfd_settime(fd.get(), 0, &off, &old), SyscallSucceeds());
  EXPECT_GT(ToNs(old.it_value), 9000 * kMs);
  EXPECT_LE(ToNs(old.it_value), 10000 * kMs);
  EXPECT_EQ(ToNs(old.it_interval), 500 * kMs);
  struct itimerspec cur;
  ASSERT_THAT(timerfd_gettime(fd.get(), &cur), SyscallSucceeds());
  EXPECT_EQ(ToNs(cur.it_value), 0);
}

TEST(TimerfdTest, AbsoluteTimeInThePastFiresAtOnce) {
  FileDescriptor fd(timerfd_create(CLOCK_MONOTONIC, 0));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  struct itimerspec it = Spec(1, 0);  // 1 ns after boot: long past
  ASSERT_THAT(timerfd_settime(fd.get(), TFD_TIMER_ABSTIME, &it, nullptr), SyscallSucceeds());
  struct pollfd p = {fd.get(), POLLIN, 0};
  EXPECT_THAT(poll(&p, 1, 1000), SyscallSucceedsWithValue(1));
  uint64_t n = 0;
  EXPECT_THAT(read(fd.get(), &n, sizeof(n)), SyscallSucceedsWithValue(8));
  EXPECT_EQ(n, 1u);
}

TEST(TimerfdTest, WorksWithEpoll) {
  FileDescriptor fd(timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK | TFD_CLOEXEC));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_THAT(fcntl(fd.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  FileDescriptor ep(epoll_create1(0));
  struct epoll_event ev = {};
  ev.events = EPOLLIN;
  ev.data.u64 = 42;
  ASSERT_THAT(epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd.get(), &ev), SyscallSucceeds());
  struct itimerspec it = Spec(20 * kMs, 0);
  ASSERT_THAT(timerfd_settime(fd.get(), 0, &it, nullptr), SyscallSucceeds());
  struct epoll_event out;
  ASSERT_THAT(epoll_wait(ep.get(), &out, 1, 5000), SyscallSucceedsWithValue(1));
  EXPECT_EQ(out.data.u64, 42u);
}

TEST(TimerfdTest, Errors) {
  EXPECT_THAT(timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(timerfd_create(CLOCK_MONOTONIC, 0x4), SyscallFailsWithErrno(EINVAL));
  FileDescriptor fd(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  struct itimerspec bad = Spec(0, 0);
  bad.it_value.tv_nsec = 1000000000;
  EXPECT_THAT(timerfd_settime(fd.get(), 0, &bad, nullptr), SyscallFailsWithErrno(EINVAL));
  struct itimerspec ok = Spec(kMs, 0);
  EXPECT_THAT(timerfd_settime(fd.get(), 0x10, &ok, nullptr), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(timerfd_settime(fd.get(), 0, Opaque<struct itimerspec*>(nullptr), nullptr),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(timerfd_settime(-1, 0, &ok, nullptr), SyscallFailsWithErrno(EBADF));
  Pipe p = MakePipe();
  EXPECT_THAT(timerfd_settime(p.read_end.get(), 0, &ok, nullptr), SyscallFailsWithErrno(EINVAL));
  struct itimerspec cur;
  EXPECT_THAT(timerfd_gettime(p.read_end.get(), &cur), SyscallFailsWithErrno(EINVAL));
  uint32_t small;
  EXPECT_THAT(read(fd.get(), &small, sizeof(small)), SyscallFailsWithErrno(EINVAL));
  uint64_t v = 1;
  EXPECT_THAT(write(fd.get(), &v, sizeof(v)), SyscallFailsWithErrno(EINVAL));
}

}  // namespace
}  // namespace systest
