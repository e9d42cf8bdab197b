// epoll(7): epoll_create/create1/ctl/wait/pwait/pwait2 on pipes, eventfds
// and nested epolls (level- and edge-triggered, one-shot, errors), and
// eventfd(2).

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "tests/syscalls/test_util.h"

namespace systest {
namespace {

FileDescriptor NewEpoll() {
  int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) ADD_FAILURE() << "epoll_create1: " << strerror(errno);
  return FileDescriptor(fd);
}

int Add(int ep, int fd, uint32_t events, uint64_t data) {
  struct epoll_event ev = {};
  ev.events = events;
  ev.data.u64 = data;
  return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

// epoll_wait with a zero timeout: the events ready now.
std::vector<struct epoll_event> ReadyNow(int ep, int max = 8) {
  std::vector<struct epoll_event> evs(static_cast<size_t>(max));
  int n = epoll_wait(ep, evs.data(), max, 0);
  if (n < 0) ADD_FAILURE() << "epoll_wait: " << strerror(errno);
  evs.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return evs;
}

// --- eventfd -----------------------------------------------------------------

TEST(EventfdTest, CounterAddsAndReadTakesAll) {
  FileDescriptor fd(eventfd(3, EFD_NONBLOCK));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  uint64_t v = 4;
  EXPECT_THAT(write(fd.get(), &v, sizeof(v)), SyscallSucceedsWithValue(8));
  EXPECT_THAT(read(fd.get(), &v, sizeof(v)), SyscallSucceedsWithValue(8));
  EXPECT_EQ(v, 7u);
  EXPECT_THAT(read(fd.get(), &v, sizeof(v)), SyscallFailsWithErrno(EAGAIN));
}

TEST(EventfdTest, SemaphoreReadsOneAtATime) {
  FileDescriptor fd(eventfd(2, EFD_NONBLOCK | EFD_SEMAPHORE));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  uint64_t v = 0;
  EXPECT_THAT(read(fd.get(), &v, sizeof(v)), SyscallSucceedsWithValue(8));
  EXPECT_EQ(v, 1u);
  EXPECT_THAT(read(fd.get(), &v, sizeof(v)), SyscallSucceedsWithValue(8));
  EXPECT_EQ(v, 1u);
  EXPECT_THAT(read(fd.get(), &v, sizeof(v)), SyscallFailsWithErrno(EAGAIN));
}

TEST(EventfdTest, Errors) {
  EXPECT_THAT(eventfd(0, 0x1234), SyscallFailsWithErrno(EINVAL));
  FileDescriptor fd(eventfd(0, EFD_NONBLOCK));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  uint32_t small = 1;
  EXPECT_THAT(read(fd.get(), &small, sizeof(small)), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(write(fd.get(), &small, sizeof(small)), SyscallFailsWithErrno(EINVAL));
  uint64_t all = ~uint64_t{0};
  EXPECT_THAT(write(fd.get(), &all, sizeof(all)), SyscallFailsWithErrno(EINVAL));
  uint64_t max = 0xfffffffffffffffeull;
  EXPECT_THAT(write(fd.get(), &max, sizeof(max)), SyscallSucceedsWithValue(8));
  uint64_t one = 1;
  EXPECT_THAT(write(fd.get(), &one, sizeof(one)), SyscallFailsWithErrno(EAGAIN));
  // noop_llseek: seeking "works" and stays at 0.
  EXPECT_THAT(lseek(fd.get(), 100, SEEK_SET), SyscallSucceedsWithValue(0));
  EXPECT_THAT(read(fd.get(), Opaque<void*>(nullptr), 8), SyscallFailsWithErrno(EFAULT));
}

TEST(EventfdTest, FlagsAndStat) {
  FileDescriptor fd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_THAT(fcntl(fd.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  EXPECT_EQ(fcntl(fd.get(), F_GETFL) & (O_ACCMODE | O_NONBLOCK), O_RDWR | O_NONBLOCK);
  struct stat st;
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  // The anonymous inode: no file type, owner read-write.
  EXPECT_EQ(st.st_mode & S_IFMT, 0u);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(FdLink(fd.get()), "anon_inode:[eventfd]");
}

TEST(EventfdTest, BlockingReadWakesOnWrite) {
  FileDescriptor fd(eventfd(0, 0));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    uint64_t v = 5;
    ASSERT_EQ(write(fd.get(), &v, sizeof(v)), 8);
  });
  uint64_t v = 0;
  EXPECT_THAT(read(fd.get(), &v, sizeof(v)), SyscallSucceedsWithValue(8));
  EXPECT_EQ(v, 5u);
  writer.join();
}

TEST(EventfdTest, PollReadiness) {
  FileDescriptor fd(eventfd(0, EFD_NONBLOCK));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  struct pollfd p = {fd.get(), POLLIN | POLLOUT, 0};
  ASSERT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(p.revents, POLLOUT);
  uint64_t v = 1;
  ASSERT_THAT(write(fd.get(), &v, sizeof(v)), SyscallSucceeds());
  ASSERT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(p.revents, POLLIN | POLLOUT);
}

// --- epoll -------------------------------------------------------------------

TEST(EpollTest, CreateErrors) {
  EXPECT_THAT(epoll_create(0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(epoll_create1(0x10), SyscallFailsWithErrno(EINVAL));
  FileDescriptor ep(epoll_create(1));
  ASSERT_THAT(ep.get(), SyscallSucceeds());
  EXPECT_THAT(fcntl(ep.get(), F_GETFD), SyscallSucceedsWithValue(0));
  FileDescriptor ep2 = NewEpoll();
  EXPECT_THAT(fcntl(ep2.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  EXPECT_EQ(FdLink(ep2.get()), "anon_inode:[eventpoll]");
}

TEST(EpollTest, CtlErrors) {
  FileDescriptor ep = NewEpoll();
  Pipe p = MakePipe();
  struct epoll_event ev = {};
  ev.events = EPOLLIN;
  EXPECT_THAT(epoll_ctl(ep.get(), EPOLL_CTL_ADD, -1, &ev), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(epoll_ctl(-1, EPOLL_CTL_ADD, p.read_end.get(), &ev), SyscallFailsWithErrno(EBADF));
  // Not an epoll, or the epoll itself.
  EXPECT_THAT(epoll_ctl(p.write_end.get(), EPOLL_CTL_ADD, p.read_end.get(), &ev),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(epoll_ctl(ep.get(), EPOLL_CTL_ADD, ep.get(), &ev), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(epoll_ctl(ep.get(), 99, p.read_end.get(), &ev), SyscallFailsWithErrno(EINVAL));
  // Regular files cannot be polled.
  TempPath f = TempPath::File("x");
  FileDescriptor rf = OpenOrThrow(f.path(), O_RDONLY);
  EXPECT_THAT(epoll_ctl(ep.get(), EPOLL_CTL_ADD, rf.get(), &ev), SyscallFailsWithErrno(EPERM));
  EXPECT_THAT(epoll_ctl(ep.get(), EPOLL_CTL_MOD, p.read_end.get(), &ev),
              SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(epoll_ctl(ep.get(), EPOLL_CTL_DEL, p.read_end.get(), nullptr),
              SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(Add(ep.get(), p.read_end.get(), EPOLLIN, 1), SyscallSucceeds());
  EXPECT_THAT(Add(ep.get(), p.read_end.get(), EPOLLIN, 1), SyscallFailsWithErrno(EEXIST));
  EXPECT_THAT(epoll_ctl(ep.get(), EPOLL_CTL_ADD, p.write_end.get(),
                        Opaque<struct epoll_event*>(nullptr)),
              SyscallFailsWithErrno(EFAULT));
  // EPOLLEXCLUSIVE only when adding, and not with EPOLLONESHOT.
  ev.events = EPOLLIN | EPOLLEXCLUSIVE;
  EXPECT_THAT(epoll_ctl(ep.get(), EPOLL_CTL_MOD, p.read_end.get(), &ev),
              SyscallFailsWithErrno(EINVAL));
  ev.events = EPOLLOUT | EPOLLEXCLUSIVE | EPOLLONESHOT;
  EXPECT_THAT(epoll_ctl(ep.get(), EPOLL_CTL_ADD, p.write_end.get(), &ev),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(epoll_ctl(ep.get(), EPOLL_CTL_DEL, p.read_end.get(), nullptr), SyscallSucceeds());
}

TEST(EpollTest, WaitErrors) {
  FileDescriptor ep = NewEpoll();
  struct epoll_event ev[2];
  EXPECT_THAT(epoll_wait(ep.get(), ev, 0, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(epoll_wait(ep.get(), ev, Opaque(-1), 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(epoll_wait(-1, ev, 2, 0), SyscallFailsWithErrno(EBADF));
  Pipe p = MakePipe();
  EXPECT_THAT(epoll_wait(p.read_end.get(), ev, 2, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(epoll_wait(ep.get(), ev, 2, 0), SyscallSucceedsWithValue(0));
  // A buffer beyond the user address space.
  EXPECT_THAT(epoll_wait(ep.get(), Opaque<struct epoll_event*>(
                                       reinterpret_cast<struct epoll_event*>(0xffffffffffff0000ull)),
                         2, 0),
              SyscallFailsWithErrno(EFAULT));
}

TEST(EpollTest, LevelTriggeredReportsUntilDrained) {
  FileDescriptor ep = NewEpoll();
  Pipe p = MakePipe();
  ASSERT_THAT(Add(ep.get(), p.read_end.get(), EPOLLIN, 0x1234567890ull), SyscallSucceeds());
  EXPECT_TRUE(ReadyNow(ep.get()).empty());
  ASSERT_THAT(write(p.write_end.get(), "ab", 2), SyscallSucceeds());
  for (int i = 0; i < 2; i++) {
    auto evs = ReadyNow(ep.get());
    ASSERT_EQ(evs.size(), 1u);
    EXPECT_EQ(evs[0].events, static_cast<uint32_t>(EPOLLIN));
    EXPECT_EQ(evs[0].data.u64, 0x1234567890ull);
  }
  char buf[2];
  ASSERT_THAT(read(p.read_end.get(), buf, 2), SyscallSucceeds());
  EXPECT_TRUE(ReadyNow(ep.get()).empty());
}

TEST(EpollTest, EdgeTriggeredReportsEachChangeOnce) {
  FileDescriptor ep = NewEpoll();
  Pipe p = MakePipe();
  ASSERT_THAT(Add(ep.get(), p.read_end.get(), EPOLLIN | EPOLLET, 7), SyscallSucceeds());
  ASSERT_THAT(write(p.write_end.get(), "a", 1), SyscallSucceeds());
  EXPECT_EQ(ReadyNow(ep.get()).size(), 1u);
  EXPECT_TRUE(ReadyNow(ep.get()).empty()) << "still readable, but no new edge";
  ASSERT_THAT(write(p.write_end.get(), "b", 1), SyscallSucceeds());
  EXPECT_EQ(ReadyNow(ep.get()).size(), 1u);
  EXPECT_TRUE(ReadyNow(ep.get()).empty());
}

TEST(EpollTest, OneShotNeedsRearming) {
  FileDescriptor ep = NewEpoll();
  Pipe p = MakePipe();
  ASSERT_THAT(Add(ep.get(), p.read_end.get(), EPOLLIN | EPOLLONESHOT, 1), SyscallSucceeds());
  ASSERT_THAT(write(p.write_end.get(), "a", 1), SyscallSucceeds());
  EXPECT_EQ(ReadyNow(ep.get()).size(), 1u);
  EXPECT_TRUE(ReadyNow(ep.get()).empty());
  struct epoll_event ev = {};
  ev.events = EPOLLIN | EPOLLONESHOT;
  ev.data.u64 = 2;
  ASSERT_THAT(epoll_ctl(ep.get(), EPOLL_CTL_MOD, p.read_end.get(), &ev), SyscallSucceeds());
  auto evs = ReadyNow(ep.get());
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].data.u64, 2u);
}

TEST(EpollTest, HangupAndErrorAreAlwaysReported) {
  FileDescriptor ep = NewEpoll();
  Pipe p = MakePipe();
  // Asking for nothing still reports EPOLLHUP once the writer is gone.
  ASSERT_THAT(Add(ep.get(), p.read_end.get(), 0, 1), SyscallSucceeds());
  EXPECT_TRUE(ReadyNow(ep.get()).empty());
  p.write_end.reset();
  auto evs = ReadyNow(ep.get());
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].events, static_cast<uint32_t>(EPOLLHUP));
}

TEST(EpollTest, WriteEndReportsErrWhenReaderCloses) {
  FileDescriptor ep = NewEpoll();
  Pipe p = MakePipe();
  ASSERT_THAT(Add(ep.get(), p.write_end.get(), EPOLLOUT, 1), SyscallSucceeds());
  auto evs = ReadyNow(ep.get());
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].events, static_cast<uint32_t>(EPOLLOUT));
  p.read_end.reset();
  evs = ReadyNow(ep.get());
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].events, static_cast<uint32_t>(EPOLLOUT | EPOLLERR));
}

TEST(EpollTest, MaxEventsLimitsOneCall) {
  FileDescriptor ep = NewEpoll();
  FileDescriptor a(eventfd(1, 0)), b(eventfd(1, 0)), c(eventfd(1, 0));
  for (int fd : {a.get(), b.get(), c.get()}) {
    ASSERT_THAT(Add(ep.get(), fd, EPOLLIN, static_cast<uint64_t>(fd)), SyscallSucceeds());
  }
  EXPECT_EQ(ReadyNow(ep.get(), 2).size(), 2u);
  EXPECT_EQ(ReadyNow(ep.get(), 8).size(), 3u);
}

TEST(EpollTest, ClosingTheFileRemovesTheEntry) {
  FileDescriptor ep = NewEpoll();
  int fd = eventfd(1, 0);
  ASSERT_THAT(fd, SyscallSucceeds());
  ASSERT_THAT(Add(ep.get(), fd, EPOLLIN, 1), SyscallSucceeds());
  EXPECT_EQ(ReadyNow(ep.get()).size(), 1u);
  ASSERT_THAT(close(fd), SyscallSucceeds());
  EXPECT_TRUE(ReadyNow(ep.get()).empty());
}

TEST(EpollTest, ADupKeepsTheEntryAlive) {
  FileDescriptor ep = NewEpoll();
  int fd = eventfd(1, 0);
  ASSERT_THAT(fd, SyscallSucceeds());
  ASSERT_THAT(Add(ep.get(), fd, EPOLLIN, 5), SyscallSucceeds());
  FileDescriptor dup_fd(dup(fd));
  ASSERT_THAT(close(fd), SyscallSucceeds());
  auto evs = ReadyNow(ep.get());
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].data.u64, 5u);
}

TEST(EpollTest, BlockingWaitWakesOnWrite) {
  FileDescriptor ep = NewEpoll();
  Pipe p = MakePipe();
  ASSERT_THAT(Add(ep.get(), p.read_end.get(), EPOLLIN, 9), SyscallSucceeds());
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_EQ(write(p.write_end.get(), "x", 1), 1);
  });
  struct epoll_event ev;
  EXPECT_THAT(epoll_wait(ep.get(), &ev, 1, 5000), SyscallSucceedsWithValue(1));
  EXPECT_EQ(ev.data.u64, 9u);
  writer.join();
}

TEST(EpollTest, TimeoutExpires) {
  FileDescriptor ep = NewEpoll();
  Pipe p = MakePipe();
  ASSERT_THAT(Add(ep.get(), p.read_end.get(), EPOLLIN, 1), SyscallSucceeds());
  struct epoll_event ev;
  auto start = std::chrono::steady_clock::now();
  EXPECT_THAT(epoll_wait(ep.get(), &ev, 1, 60), SyscallSucceedsWithValue(0));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(55));
  struct timespec ts = {0, 30 * 1000 * 1000};
  EXPECT_THAT(epoll_pwait2(ep.get(), &ev, 1, &ts, nullptr), SyscallSucceedsWithValue(0));
  struct timespec bad = {0, 1000000000};
  EXPECT_THAT(epoll_pwait2(ep.get(), &ev, 1, &bad, nullptr), SyscallFailsWithErrno(EINVAL));
}

void NoopHandler(int) {}

TEST(EpollTest, SignalInterruptsWithEintrEvenWithSaRestart) {
  struct sigaction sa = {}, old;
  sa.sa_handler = NoopHandler;
  sa.sa_flags = SA_RESTART;
  ASSERT_THAT(sigaction(SIGUSR1, &sa, &old), SyscallSucceeds());
  FileDescriptor ep = NewEpoll();
  pthread_t self = pthread_self();
  std::thread killer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    pthread_kill(self, SIGUSR1);
  });
  struct epoll_event ev;
  EXPECT_THAT(epoll_wait(ep.get(), &ev, 1, 5000), SyscallFailsWithErrno(EINTR));
  killer.join();
  sigaction(SIGUSR1, &old, nullptr);
}

TEST(EpollTest, PwaitMaskBlocksTheSignalMeanwhile) {
  FileDescriptor ep = NewEpoll();
  sigset_t mask;
  sigemptyset(&mask);
  struct epoll_event ev;
  EXPECT_THAT(syscall(SYS_epoll_pwait, ep.get(), &ev, 1, 0, &mask, 4),
              SyscallFailsWithErrno(EINVAL));  // the size must be 8
  EXPECT_THAT(epoll_pwait(ep.get(), &ev, 1, 0, &mask), SyscallSucceedsWithValue(0));
}

TEST(EpollTest, NestedEpollIsReadableAndLoopsAreRefused) {
  FileDescriptor outer = NewEpoll(), inner = NewEpoll();
  FileDescriptor efd(eventfd(0, EFD_NONBLOCK));
  ASSERT_THAT(Add(inner.get(), efd.get(), EPOLLIN, 1), SyscallSucceeds());
  ASSERT_THAT(Add(outer.get(), inner.get(), EPOLLIN, 2), SyscallSucceeds());
  EXPECT_TRUE(ReadyNow(outer.get()).empty());
  uint64_t v = 1;
  ASSERT_THAT(write(efd.get(), &v, sizeof(v)), SyscallSucceeds());
  auto evs = ReadyNow(outer.get());
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].data.u64, 2u);
  struct pollfd pfd = {inner.get(), POLLIN, 0};
  EXPECT_THAT(poll(&pfd, 1, 0), SyscallSucceedsWithValue(1));
  // outer already holds inner: inner may not hold outer.
  EXPECT_THAT(Add(inner.get(), outer.get(), EPOLLIN, 3), SyscallFailsWithErrno(ELOOP));
}

TEST(EpollTest, OtherProcessWritesWakeTheWaiter) {
  FileDescriptor ep = NewEpoll();
  Pipe p = MakePipe();
  ASSERT_THAT(Add(ep.get(), p.read_end.get(), EPOLLIN, 1), SyscallSucceeds());
  pid_t child = fork();
  ASSERT_THAT(child, SyscallSucceeds());
  if (child == 0) {
    usleep(50000);
    _exit(write(p.write_end.get(), "z", 1) == 1 ? 0 : 1);
  }
  struct epoll_event ev;
  EXPECT_THAT(epoll_wait(ep.get(), &ev, 1, 5000), SyscallSucceedsWithValue(1));
  EXPECT_THAT(WaitForStatus(child), ExitedWithCode(0));
}

}  // namespace
}  // namespace systest
