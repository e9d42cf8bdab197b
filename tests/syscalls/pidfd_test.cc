// pidfds: pidfd_open, CLONE_PIDFD, poll readiness at exit, waitid(P_PIDFD),
// pidfd_send_signal and pidfd_getfd, and their errors.

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/sched.h>

#include <thread>

#include "tests/syscalls/test_util.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif

namespace systest {
namespace {

int PidfdOpen(pid_t pid, unsigned flags) {
  return static_cast<int>(syscall(SYS_pidfd_open, pid, flags));
}
int PidfdSendSignal(int fd, int sig, siginfo_t* info, unsigned flags) {
  return static_cast<int>(syscall(SYS_pidfd_send_signal, fd, sig, info, flags));
}
int PidfdGetfd(int fd, int target, unsigned flags) {
  return static_cast<int>(syscall(SYS_pidfd_getfd, fd, target, flags));
}

// A child that waits until it is killed.
pid_t SleepingChild() {
  pid_t pid = fork();
  if (pid == 0) {
    for (;;) pause();
  }
  return pid;
}

short PollNow(int fd) {
  pollfd p = {fd, POLLIN, 0};
  if (poll(&p, 1, 0) < 0) return -1;
  return p.revents;
}

TEST(PidfdTest, ReadableAtExitAndWaitable) {
  pid_t pid = SleepingChild();
  ASSERT_GT(pid, 0);
  ScopedChild guard(pid);
  int fd;
  ASSERT_THAT(fd = PidfdOpen(pid, 0), SyscallSucceeds());
  FileDescriptor pfd(fd);
  EXPECT_THAT(fcntl(fd, F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  EXPECT_EQ(PollNow(fd), 0);
  char c;
  EXPECT_THAT(read(fd, &c, 1), SyscallFailsWithErrno(EINVAL));

  ASSERT_THAT(PidfdSendSignal(fd, SIGTERM, nullptr, 0), SyscallSucceeds());
  pollfd p = {fd, POLLIN, 0};
  ASSERT_THAT(poll(&p, 1, 5000), SyscallSucceedsWithValue(1));
  EXPECT_EQ(p.revents, POLLIN);

  siginfo_t si = {};
  ASSERT_THAT(waitid(static_cast<idtype_t>(P_PIDFD), fd, &si, WEXITED), SyscallSucceeds());
  guard.Wait();  // already reaped: returns -1, harmless
  EXPECT_EQ(si.si_pid, pid);
  EXPECT_EQ(si.si_code, CLD_KILLED);
  EXPECT_EQ(si.si_status, SIGTERM);
  // Reaped: still readable, now hung up too; signals find nobody.
  EXPECT_EQ(PollNow(fd), POLLIN | POLLHUP);
  EXPECT_THAT(PidfdSendSignal(fd, SIGTERM, nullptr, 0), SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(waitid(static_cast<idtype_t>(P_PIDFD), fd, &si, WEXITED),
              SyscallFailsWithErrno(ECHILD));
}

TEST(PidfdTest, NonblockingWaitid) {
  pid_t pid = SleepingChild();
  ScopedChild guard(pid);
  int fd;
  ASSERT_THAT(fd = PidfdOpen(pid, PIDFD_NONBLOCK), SyscallSucceeds());
  FileDescriptor pfd(fd);
  siginfo_t si = {};
  EXPECT_THAT(waitid(static_cast<idtype_t>(P_PIDFD), fd, &si, WEXITED),
              SyscallFailsWithErrno(EAGAIN));
  kill(pid, SIGKILL);
  pollfd p = {fd, POLLIN, 0};
  ASSERT_THAT(poll(&p, 1, 5000), SyscallSucceedsWithValue(1));
  EXPECT_THAT(waitid(static_cast<idtype_t>(P_PIDFD), fd, &si, WEXITED), SyscallSucceeds());
  EXPECT_EQ(si.si_status, SIGKILL);
  guard.Wait();
}

TEST(PidfdTest, OpenErrors) {
  EXPECT_THAT(PidfdOpen(getpid(), 1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(PidfdOpen(0, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(PidfdOpen(-1, 0), SyscallFailsWithErrno(EINVAL));
  // A pid nobody has (pid_max is at most 4M).
  EXPECT_THAT(PidfdOpen(4194304 + 7, 0), SyscallFailsWithErrno(ESRCH));
  // A thread's id does not name a process.
  std::atomic<pid_t> tid{0};
  std::atomic<bool> done{false};
  std::thread th([&] {
    tid = static_cast<pid_t>(syscall(SYS_gettid));
    while (!done) usleep(1000);
  });
  while (tid == 0) usleep(1000);
  // (Linux 6.9+ says ENOENT, older kernels EINVAL.)
  EXPECT_THAT(PidfdOpen(tid, 0), SyscallFailsWithErrno(ENOENT));
  done = true;
  th.join();

  Pipe p = MakePipe();
  EXPECT_THAT(PidfdSendSignal(p.read_end.get(), SIGUSR1, nullptr, 0), SyscallFailsWithErrno(EBADF));
  int self;
  ASSERT_THAT(self = PidfdOpen(getpid(), 0), SyscallSucceeds());
  FileDescriptor sfd(self);
  EXPECT_THAT(PidfdSendSignal(self, SIGUSR1, nullptr, 1u << 20), SyscallFailsWithErrno(EINVAL));
  // Two scopes at once (PIDFD_SIGNAL_THREAD | PIDFD_SIGNAL_THREAD_GROUP).
  EXPECT_THAT(PidfdSendSignal(self, SIGUSR1, nullptr, 3), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(PidfdSendSignal(self, 65, nullptr, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(PidfdSendSignal(self, 0, nullptr, 0), SyscallSucceeds());
  siginfo_t bad = {};
  bad.si_signo = SIGUSR2;
  EXPECT_THAT(PidfdSendSignal(self, SIGUSR1, &bad, 0), SyscallFailsWithErrno(EINVAL));
}

TEST(PidfdTest, SendSignalWithInfo) {
  int ready[2];
  ASSERT_THAT(pipe(ready), SyscallSucceeds());
  pid_t pid = fork();
  if (pid == 0) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigprocmask(SIG_BLOCK, &s, nullptr);
    TEST_CHECK_VALUE(write(ready[1], "r", 1), 1);
    siginfo_t si;
    TEST_CHECK(sigwaitinfo(&s, &si) == SIGUSR1);
    TEST_CHECK(si.si_code == SI_QUEUE);
    TEST_CHECK(si.si_value.sival_int == 42);
    _exit(0);
  }
  ScopedChild guard(pid);
  close(ready[1]);
  char c;
  ASSERT_THAT(read(ready[0], &c, 1), SyscallSucceedsWithValue(1));
  close(ready[0]);
  int fd;
  ASSERT_THAT(fd = PidfdOpen(pid, 0), SyscallSucceeds());
  FileDescriptor pfd(fd);
  siginfo_t si = {};
  si.si_signo = SIGUSR1;
  si.si_code = SI_QUEUE;
  si.si_pid = getpid();
  si.si_uid = getuid();
  si.si_value.sival_int = 42;
  ASSERT_THAT(PidfdSendSignal(fd, SIGUSR1, &si, 0), SyscallSucceeds());
  EXPECT_THAT(guard.Wait(), ExitedWithCode(0));
}

TEST(PidfdTest, GetfdDuplicatesAnotherProcessesFile) {
  int to_parent[2];
  ASSERT_THAT(pipe(to_parent), SyscallSucceeds());
  int data[2];
  ASSERT_THAT(pipe(data), SyscallSucceeds());
  pid_t pid = fork();
  if (pid == 0) {
    close(to_parent[0]);
    close(data[0]);
    // Tell the parent which fd number holds the data pipe's write end.
    int n = data[1];
    TEST_CHECK_VALUE(write(to_parent[1], &n, sizeof(n)), static_cast<ssize_t>(sizeof(n)));
    for (;;) pause();
  }
  ScopedChild guard(pid);
  close(to_parent[1]);
  int child_fd;
  ASSERT_THAT(read(to_parent[0], &child_fd, sizeof(child_fd)),
              SyscallSucceedsWithValue(static_cast<ssize_t>(sizeof(child_fd))));
  close(to_parent[0]);
  close(data[1]);
  int pfd;
  ASSERT_THAT(pfd = PidfdOpen(pid, 0), SyscallSucceeds());
  FileDescriptor p(pfd);
  int got;
  ASSERT_THAT(got = PidfdGetfd(pfd, child_fd, 0), SyscallSucceeds());
  EXPECT_THAT(fcntl(got, F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  EXPECT_THAT(write(got, "dup", 3), SyscallSucceedsWithValue(3));
  close(got);
  char buf[4] = {};
  EXPECT_THAT(read(data[0], buf, 3), SyscallSucceedsWithValue(3));
  EXPECT_STREQ(buf, "dup");
  EXPECT_THAT(PidfdGetfd(pfd, 1000, 0), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(PidfdGetfd(pfd, child_fd, 1), SyscallFailsWithErrno(EINVAL));
  kill(pid, SIGKILL);
  guard.Wait();
  EXPECT_THAT(PidfdGetfd(pfd, child_fd, 0), SyscallFailsWithErrno(ESRCH));
  close(data[0]);
}

TEST(PidfdTest, ClonePidfd) {
  int pidfd = -1;
  long pid = syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, nullptr, &pidfd, nullptr, nullptr);
  if (pid == 0) _exit(7);
  ASSERT_GT(pid, 0);
  ASSERT_GE(pidfd, 0);
  FileDescriptor p(pidfd);
  EXPECT_THAT(fcntl(pidfd, F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  siginfo_t si = {};
  ASSERT_THAT(waitid(static_cast<idtype_t>(P_PIDFD), pidfd, &si, WEXITED), SyscallSucceeds());
  EXPECT_EQ(si.si_pid, pid);
  EXPECT_EQ(si.si_status, 7);

  // clone(2) passes the pidfd through parent_tid: both at once is EINVAL.
  EXPECT_THAT(syscall(SYS_clone, CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD, nullptr, &pidfd,
                      nullptr, nullptr),
              SyscallFailsWithErrno(EINVAL));
  // clone3 writes it to its own field.
  clone_args ca = {};
  ca.flags = CLONE_PIDFD;
  ca.exit_signal = SIGCHLD;
  int fd3 = -1;
  ca.pidfd = reinterpret_cast<uint64_t>(&fd3);
  long pid3 = syscall(SYS_clone3, &ca, sizeof(ca));
  if (pid3 == 0) _exit(3);
  ASSERT_GT(pid3, 0);
  FileDescriptor p3(fd3);
  ASSERT_THAT(waitid(static_cast<idtype_t>(P_PIDFD), fd3, &si, WEXITED), SyscallSucceeds());
  EXPECT_EQ(si.si_status, 3);
}

}  // namespace
}  // namespace systest
