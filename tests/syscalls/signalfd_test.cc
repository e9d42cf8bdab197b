// signalfd(2): reading blocked signals as signalfd_siginfo, the mask,
// readiness for poll/epoll, blocking reads, and errors.

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>

#include <thread>

#include "tests/syscalls/test_util.h"

namespace systest {
namespace {

// Blocks `sig` for the test's duration (signalfd reads blocked signals).
class Blocked {
 public:
  explicit Blocked(int sig) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    pthread_sigmask(SIG_BLOCK, &s, &old_);
  }
  ~Blocked() {
    // Drain what is left so it cannot fire once unblocked.
    sigset_t pending;
    sigpending(&pending);
    struct timespec zero = {0, 0};
    for (int s = 1; s < NSIG; s++) {
      if (sigismember(&pending, s) == 1) {
        sigset_t one;
        sigemptyset(&one);
        sigaddset(&one, s);
        sigtimedwait(&one, nullptr, &zero);
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t old_;
};

sigset_t SetOf(int sig) {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, sig);
  return s;
}

TEST(SignalfdTest, ReadsAPendingSignalWithItsSender) {
  Blocked b(SIGUSR1);
  sigset_t s = SetOf(SIGUSR1);
  FileDescriptor fd(signalfd(-1, &s, SFD_NONBLOCK | SFD_CLOEXEC));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_THAT(fcntl(fd.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  struct signalfd_siginfo si;
  EXPECT_THAT(read(fd.get(), &si, sizeof(si)), SyscallFailsWithErrno(EAGAIN));
  ASSERT_THAT(kill(getpid(), SIGUSR1), SyscallSucceeds());
  ASSERT_THAT(read(fd.get(), &si, sizeof(si)), SyscallSucceedsWithValue(sizeof(si)));
  EXPECT_EQ(si.ssi_signo, static_cast<uint32_t>(SIGUSR1));
  EXPECT_EQ(si.ssi_code, SI_USER);
  EXPECT_EQ(si.ssi_pid, static_cast<uint32_t>(getpid()));
  EXPECT_EQ(si.ssi_uid, getuid());
  // Taken: no longer pending.
  sigset_t pending;
  sigpending(&pending);
  EXPECT_EQ(sigismember(&pending, SIGUSR1), 0);
}

TEST(SignalfdTest, QueuedValuesAndOnlyTheMask) {
  Blocked b1(SIGRTMIN), b2(SIGUSR2);
  sigset_t s = SetOf(SIGRTMIN);
  FileDescriptor fd(signalfd(-1, &s, SFD_NONBLOCK));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  union sigval v;
  v.sival_int = 77;
  ASSERT_THAT(sigqueue(getpid(), SIGRTMIN, v), SyscallSucceeds());
  v.sival_int = 78;
  ASSERT_THAT(sigqueue(getpid(), SIGRTMIN, v), SyscallSucceeds());
  ASSERT_THAT(kill(getpid(), SIGUSR2), SyscallSucceeds());
  struct signalfd_siginfo si[4];
  // Both queued real-time signals in one read; SIGUSR2 is not in the mask.
  ASSERT_THAT(read(fd.get(), si, sizeof(si)), SyscallSucceedsWithValue(2 * sizeof(si[0])));
  EXPECT_EQ(si[0].ssi_code, SI_QUEUE);
  EXPECT_EQ(si[0].ssi_int, 77);
  EXPECT_EQ(si[1].ssi_int, 78);
  // Changing the mask through signalfd(fd, ...) takes SIGUSR2 too.
  sigset_t both = SetOf(SIGUSR2);
  ASSERT_THAT(signalfd(fd.get(), &both, 0), SyscallSucceedsWithValue(fd.get()));
  ASSERT_THAT(read(fd.get(), si, sizeof(si)), SyscallSucceedsWithValue(sizeof(si[0])));
  EXPECT_EQ(si[0].ssi_signo, static_cast<uint32_t>(SIGUSR2));
}

TEST(SignalfdTest, PollEpollAndBlockingRead) {
  Blocked b(SIGUSR1);
  sigset_t s = SetOf(SIGUSR1);
  FileDescriptor fd(signalfd(-1, &s, 0));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  struct pollfd p = {fd.get(), POLLIN, 0};
  EXPECT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(0));
  FileDescriptor ep(epoll_create1(0));
  struct epoll_event ev = {};
  ev.events = EPOLLIN;
  ASSERT_THAT(epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd.get(), &ev), SyscallSucceeds());
  pthread_t self = pthread_self();
  std::thread sender([&] {
    usleep(50000);
    pthread_kill(self, SIGUSR1);
  });
  struct epoll_event out;
  EXPECT_THAT(epoll_wait(ep.get(), &out, 1, 5000), SyscallSucceedsWithValue(1));
  EXPECT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(1));
  struct signalfd_siginfo si;
  EXPECT_THAT(read(fd.get(), &si, sizeof(si)), SyscallSucceedsWithValue(sizeof(si)));
  EXPECT_EQ(si.ssi_code, SI_TKILL);
  sender.join();
  // A blocking read waits for the next one.
  std::thread later([&] {
    usleep(50000);
    pthread_kill(self, SIGUSR1);
  });
  EXPECT_THAT(read(fd.get(), &si, sizeof(si)), SyscallSucceedsWithValue(sizeof(si)));
  later.join();
}

TEST(SignalfdTest, ChildExitDetails) {
  Blocked b(SIGCHLD);
  sigset_t s = SetOf(SIGCHLD);
  FileDescriptor fd(signalfd(-1, &s, 0));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  pid_t child = fork();
  ASSERT_THAT(child, SyscallSucceeds());
  if (child == 0) _exit(7);
  struct signalfd_siginfo si;
  ASSERT_THAT(read(fd.get(), &si, sizeof(si)), SyscallSucceedsWithValue(sizeof(si)));
  EXPECT_EQ(si.ssi_signo, static_cast<uint32_t>(SIGCHLD));
  EXPECT_EQ(si.ssi_code, CLD_EXITED);
  EXPECT_EQ(si.ssi_pid, static_cast<uint32_t>(child));
  EXPECT_EQ(si.ssi_status, 7);
  EXPECT_THAT(WaitForStatus(child), ExitedWithCode(7));
}

TEST(SignalfdTest, Errors) {
  sigset_t s = SetOf(SIGUSR1);
  EXPECT_THAT(syscall(SYS_signalfd4, -1, &s, 4, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(signalfd(-1, &s, 0x4), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(signalfd(-1, Opaque<sigset_t*>(nullptr), 0), SyscallFailsWithErrno(EFAULT));
  Pipe p = MakePipe();
  EXPECT_THAT(signalfd(p.read_end.get(), &s, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(signalfd(12345, &s, 0), SyscallFailsWithErrno(EBADF));
  FileDescriptor fd(signalfd(-1, &s, SFD_NONBLOCK));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  char small[8];
  EXPECT_THAT(read(fd.get(), small, sizeof(small)), SyscallFailsWithErrno(EINVAL));
  EXPECT_EQ(FdLink(fd.get()), "anon_inode:[signalfd]");
}

}  // namespace
}  // namespace systest
