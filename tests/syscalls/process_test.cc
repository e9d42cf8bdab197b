// Processes and threads: fork(2), vfork(2), wait4(2), waitid(2),
// execve(2), getpid(2)/getppid(2)/gettid(2), setsid(2), setpgid(2),
// getpgid(2), getsid(2), exit_group(2), pthreads and clone(2) flags.

#include <linux/futex.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "tests/syscalls/test_util.h"

namespace systest {
namespace {

constexpr char kHelper[] = SYSCALL_EXEC_HELPER;

// A NULL-terminated argv/envp built from strings.
class CStrings {
 public:
  CStrings(std::initializer_list<std::string> items) : strings_(items) {
    for (auto& s : strings_) ptrs_.push_back(s.data());
    ptrs_.push_back(nullptr);
  }
  char* const* get() { return ptrs_.data(); }

 private:
  std::vector<std::string> strings_;
  std::vector<char*> ptrs_;
};

struct ExecResult {
  int status = -1;
  std::string out;
};

// Forks; the child runs `setup`, points stdout at a pipe and execs `path`.
// If execve fails the child exits with 200 + errno.
ExecResult RunExec(const std::string& path, CStrings argv, CStrings envp,
                   const std::function<void()>& setup = {}) {
  Pipe out = MakePipe(O_CLOEXEC);
  fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) ThrowErrno("fork");
  if (pid == 0) {
    alarm(kChildWatchdogSeconds);
    if (setup) {
      try {
        setup();
      } catch (...) {
        _exit(198);
      }
    }
    if (dup2(out.write_end.get(), STDOUT_FILENO) < 0) _exit(199);
    execve(path.c_str(), argv.get(), envp.get());
    _exit(200 + errno);
  }
  out.write_end.reset();
  ExecResult r;
  r.out = ReadAll(out.read_end.get());
  r.status = WaitForStatus(pid);
  return r;
}

// The errno of a failing execve (run in a child, in case it succeeds).
int ExecErrno(const std::string& path) {
  ExecResult r = RunExec(path, {path}, {});
  if (!WIFEXITED(r.status) || WEXITSTATUS(r.status) < 200) return -1;
  return WEXITSTATUS(r.status) - 200;
}

std::string HelperOutput(std::initializer_list<std::string> argv,
                         std::initializer_list<std::string> env) {
  std::string out;
  for (const auto& a : argv) out += a + "\n";
  out += "--env--\n";
  for (const auto& e : env) out += e + "\n";
  return out;
}

// A pid that no process has right now (a reaped child's).
pid_t UnusedPid() {
  pid_t pid = fork();
  if (pid < 0) ThrowErrno("fork");
  if (pid == 0) _exit(0);
  WaitForStatus(pid);
  return pid;
}

// --- fork and wait --------------------------------------------------------

TEST(ForkTest, ReturnsZeroInTheChildAndThePidInTheParent) {
  const pid_t parent = getpid();
  Pipe p = MakePipe();
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    pid_t me = getpid();
    bool ok = getppid() == parent && me != parent;
    ssize_t n = write(p.write_end.get(), &me, sizeof(me));
    _exit(ok && n == sizeof(me) ? 0 : 1);
  }
  pid_t reported = 0;
  ASSERT_THAT(read(p.read_end.get(), &reported, sizeof(reported)),
              SyscallSucceedsWithValue(sizeof(reported)));
  EXPECT_EQ(reported, pid);
  int status;
  EXPECT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  EXPECT_THAT(status, ExitedWithCode(0));
}

TEST(ForkTest, ChildGetsACopyOfMemoryAndDescriptors) {
  int value = 1;
  Pipe p = MakePipe();
  EXPECT_THAT(ForkAndWait([&] {
    TEST_CHECK(value == 1);
    value = 2;
    TEST_CHECK(write(p.write_end.get(), "c", 1) == 1);
  }),
              ExitedWithCode(0));
  EXPECT_EQ(value, 1);
  char c;
  EXPECT_THAT(read(p.read_end.get(), &c, 1), SyscallSucceedsWithValue(1));
}

TEST(WaitTest, ExitCodes) {
  for (int code : {0, 1, 42, 255}) {
    EXPECT_THAT(ForkAndWait([code] { _exit(code); }), ExitedWithCode(code));
  }
  // Only the low 8 bits survive.
  EXPECT_THAT(ForkAndWait([] { _exit(256 + 3); }), ExitedWithCode(3));
}

TEST(WaitTest, KilledBySignal) {
  EXPECT_THAT(ForkAndWait([] { raise(SIGKILL); }), KilledBySignal(SIGKILL));
  EXPECT_THAT(ForkAndWait([] {
    signal(SIGTERM, SIG_DFL);
    raise(SIGTERM);
  }),
              KilledBySignal(SIGTERM));
  int status = ForkAndWait([] {
    signal(SIGUSR1, SIG_DFL);
    kill(getpid(), SIGUSR1);
  });
  EXPECT_THAT(status, KilledBySignal(SIGUSR1));
  EXPECT_FALSE(WCOREDUMP(status));
}

// A child that waits until every write end of `p` held by the parent is
// closed, then exits 0.
pid_t ForkBlockedChild(Pipe& p) {
  pid_t pid = fork();
  if (pid < 0) ThrowErrno("fork");
  if (pid == 0) {
    alarm(kChildWatchdogSeconds);
    close(p.write_end.get());
    char c;
    while (read(p.read_end.get(), &c, 1) > 0) {
    }
    _exit(0);
  }
  return pid;
}

TEST(WaitTest, StoppedAndContinued) {
  Pipe p = MakePipe();
  ScopedChild child(ForkBlockedChild(p));
  const pid_t pid = child.pid();
  int status;
  ASSERT_THAT(kill(pid, SIGSTOP), SyscallSucceeds());
  ASSERT_THAT(waitpid(pid, &status, WUNTRACED), SyscallSucceedsWithValue(pid));
  EXPECT_TRUE(WIFSTOPPED(status));
  EXPECT_EQ(WSTOPSIG(status), SIGSTOP);
  // The stop is reported once.
  EXPECT_THAT(waitpid(pid, &status, WUNTRACED | WNOHANG),
              SyscallSucceedsWithValue(0));
  ASSERT_THAT(kill(pid, SIGCONT), SyscallSucceeds());
  ASSERT_THAT(waitpid(pid, &status, WCONTINUED), SyscallSucceedsWithValue(pid));
  EXPECT_TRUE(WIFCONTINUED(status));
  p.write_end.reset();
  EXPECT_THAT(child.Wait(), ExitedWithCode(0));
}

TEST(WaitTest, WnohangReturnsZeroWhileTheChildRuns) {
  Pipe p = MakePipe();
  pid_t pid = ForkBlockedChild(p);
  int status;
  EXPECT_THAT(waitpid(pid, &status, WNOHANG), SyscallSucceedsWithValue(0));
  EXPECT_THAT(waitpid(-1, &status, WNOHANG), SyscallSucceedsWithValue(0));
  p.write_end.reset();
  EXPECT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  EXPECT_THAT(status, ExitedWithCode(0));
}

TEST(WaitTest, Wait4FillsRusage) {
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) _exit(5);
  struct rusage ru;
  memset(&ru, 0xff, sizeof(ru));
  int status;
  ASSERT_THAT(wait4(pid, &status, 0, &ru), SyscallSucceedsWithValue(pid));
  EXPECT_THAT(status, ExitedWithCode(5));
  EXPECT_GE(ru.ru_utime.tv_usec, 0);
  EXPECT_LT(ru.ru_utime.tv_usec, 1000000);
  EXPECT_GE(ru.ru_stime.tv_sec, 0);
}

TEST(WaitTest, Errors) {
  EXPECT_THAT(ForkAndWait([] {
    int status;
    // No children at all.
    TEST_CHECK_ERRNO(waitpid(-1, &status, 0), ECHILD);
    TEST_CHECK_ERRNO(waitpid(getppid(), &status, 0), ECHILD);
    TEST_CHECK_ERRNO(waitpid(getpid(), &status, WNOHANG), ECHILD);
  }),
              ExitedWithCode(0));
  int status;
  EXPECT_THAT(waitpid(-1, &status, 0x10000000), SyscallFailsWithErrno(EINVAL));
}

TEST(WaitTest, WaitForAnyChildInTheProcessGroup) {
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) _exit(8);
  int status;
  EXPECT_THAT(waitpid(0, &status, 0), SyscallSucceedsWithValue(pid));
  EXPECT_THAT(status, ExitedWithCode(8));
}

// --- waitid ---------------------------------------------------------------

TEST(WaitidTest, ExitedChild) {
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) _exit(7);
  siginfo_t info = {};
  ASSERT_THAT(waitid(P_PID, pid, &info, WEXITED), SyscallSucceeds());
  EXPECT_EQ(info.si_signo, SIGCHLD);
  EXPECT_EQ(info.si_code, CLD_EXITED);
  EXPECT_EQ(info.si_pid, pid);
  EXPECT_EQ(info.si_uid, getuid());
  EXPECT_EQ(info.si_status, 7);
}

TEST(WaitidTest, KilledChild) {
  Pipe p = MakePipe();
  pid_t pid = ForkBlockedChild(p);
  ASSERT_THAT(kill(pid, SIGKILL), SyscallSucceeds());
  siginfo_t info = {};
  ASSERT_THAT(waitid(P_PID, pid, &info, WEXITED), SyscallSucceeds());
  EXPECT_EQ(info.si_code, CLD_KILLED);
  EXPECT_EQ(info.si_status, SIGKILL);
}

TEST(WaitidTest, StoppedAndContinuedChild) {
  Pipe p = MakePipe();
  ScopedChild child(ForkBlockedChild(p));
  const pid_t pid = child.pid();
  ASSERT_THAT(kill(pid, SIGSTOP), SyscallSucceeds());
  siginfo_t info = {};
  ASSERT_THAT(waitid(P_PID, pid, &info, WSTOPPED), SyscallSucceeds());
  EXPECT_EQ(info.si_code, CLD_STOPPED);
  EXPECT_EQ(info.si_status, SIGSTOP);
  ASSERT_THAT(kill(pid, SIGCONT), SyscallSucceeds());
  info = {};
  ASSERT_THAT(waitid(P_PID, pid, &info, WCONTINUED), SyscallSucceeds());
  EXPECT_EQ(info.si_code, CLD_CONTINUED);
  EXPECT_EQ(info.si_status, SIGCONT);
  p.write_end.reset();
  EXPECT_THAT(child.Wait(), ExitedWithCode(0));
}

TEST(WaitidTest, WnohangWithNothingToReport) {
  Pipe p = MakePipe();
  pid_t pid = ForkBlockedChild(p);
  siginfo_t info = {};
  info.si_pid = 12345;
  ASSERT_THAT(waitid(P_PID, pid, &info, WEXITED | WNOHANG),
              SyscallSucceedsWithValue(0));
  EXPECT_EQ(info.si_pid, 0);
  p.write_end.reset();
  EXPECT_THAT(WaitForStatus(pid), ExitedWithCode(0));
}

TEST(WaitidTest, WnowaitLeavesTheChildWaitable) {
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) _exit(4);
  siginfo_t info = {};
  ASSERT_THAT(waitid(P_PID, pid, &info, WEXITED | WNOWAIT), SyscallSucceeds());
  EXPECT_EQ(info.si_pid, pid);
  info = {};
  ASSERT_THAT(waitid(P_ALL, 0, &info, WEXITED | WNOWAIT), SyscallSucceeds());
  EXPECT_EQ(info.si_pid, pid);
  EXPECT_EQ(info.si_status, 4);
  int status;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  EXPECT_THAT(status, ExitedWithCode(4));
  EXPECT_THAT(waitid(P_PID, pid, &info, WEXITED), SyscallFailsWithErrno(ECHILD));
}

TEST(WaitidTest, ByProcessGroup) {
  Pipe p = MakePipe();
  pid_t a = ForkBlockedChild(p);
  pid_t b = ForkBlockedChild(p);
  // Put b into a's new group; both parent and child may do it, so do it here.
  ASSERT_THAT(setpgid(a, a), SyscallSucceeds());
  ASSERT_THAT(setpgid(b, a), SyscallSucceeds());
  EXPECT_THAT(getpgid(b), SyscallSucceedsWithValue(a));
  p.write_end.reset();
  std::vector<pid_t> seen;
  for (int i = 0; i < 2; ++i) {
    siginfo_t info = {};
    ASSERT_THAT(waitid(P_PGID, a, &info, WEXITED), SyscallSucceeds());
    seen.push_back(info.si_pid);
  }
  EXPECT_THAT(seen, ::testing::UnorderedElementsAre(a, b));
  siginfo_t info;
  EXPECT_THAT(waitid(P_PGID, a, &info, WEXITED), SyscallFailsWithErrno(ECHILD));
}

TEST(WaitidTest, Errors) {
  siginfo_t info;
  // No state selected.
  EXPECT_THAT(waitid(P_ALL, 0, &info, WNOHANG), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(waitid(static_cast<idtype_t>(42), 0, &info, WEXITED),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(waitid(P_PID, UnusedPid(), &info, WEXITED),
              SyscallFailsWithErrno(ECHILD));
}

// --- vfork ----------------------------------------------------------------

TEST(VforkTest, ExitStatusAndSharedMemory) {
  static volatile int shared = 0;
  shared = 0;
  pid_t pid = vfork();
  if (pid == 0) {
    // Linux runs the child in the parent's memory until it exits or execs.
    shared = 1;
    _exit(42);
  }
  ASSERT_THAT(pid, SyscallSucceeds());
  // The parent resumes only after the child is gone.
  EXPECT_EQ(shared, 1);
  int status;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  EXPECT_THAT(status, ExitedWithCode(42));
}

TEST(VforkTest, ChildExecs) {
  char* argv[] = {const_cast<char*>(kHelper), const_cast<char*>("exit"),
                  const_cast<char*>("17"), nullptr};
  char* envp[] = {nullptr};
  pid_t pid = vfork();
  if (pid == 0) {
    execve(kHelper, argv, envp);
    _exit(127);
  }
  ASSERT_THAT(pid, SyscallSucceeds());
  EXPECT_THAT(WaitForStatus(pid), ExitedWithCode(17));
}

// --- execve ---------------------------------------------------------------

TEST(ExecveTest, PassesArgvAndEnvp) {
  ExecResult r = RunExec(kHelper, {"argv0-is-free", "one", "", "three four"},
                         {"A=1", "EMPTY=", "B=two words"});
  EXPECT_THAT(r.status, ExitedWithCode(0));
  EXPECT_EQ(r.out, HelperOutput({"argv0-is-free", "one", "", "three four"},
                                {"A=1", "EMPTY=", "B=two words"}));
}

TEST(ExecveTest, EmptyEnvironment) {
  ExecResult r = RunExec(kHelper, {"x"}, {});
  EXPECT_THAT(r.status, ExitedWithCode(0));
  EXPECT_EQ(r.out, HelperOutput({"x"}, {}));
}

TEST(ExecveTest, LargeArguments) {
  std::string big(100000, 'a');
  ExecResult r = RunExec(kHelper, {"x", big}, {"BIG=" + big});
  EXPECT_THAT(r.status, ExitedWithCode(0));
  EXPECT_EQ(r.out, HelperOutput({"x", big}, {"BIG=" + big}));
}

TEST(ExecveTest, KeepsPidAndParent) {
  ExecResult r = RunExec(kHelper, {"h", "ids"}, {});
  EXPECT_THAT(r.status, ExitedWithCode(0));
  // The helper was started by RunExec's fork: its pid is the one waited on,
  // which we cannot see here, but its parent must be us.
  pid_t pid = 0, ppid = 0;
  ASSERT_EQ(sscanf(r.out.c_str(), "%d %d", &pid, &ppid), 2) << r.out;
  EXPECT_EQ(ppid, getpid());
  EXPECT_NE(pid, getpid());
}

TEST(ExecveTest, CloseOnExec) {
  TempPath f = TempPath::File("x");
  FileDescriptor keep = OpenOrThrow(f.path(), O_RDONLY);
  FileDescriptor drop = OpenOrThrow(f.path(), O_RDONLY | O_CLOEXEC);
  FileDescriptor later = OpenOrThrow(f.path(), O_RDONLY);
  const int later_fd = later.get();
  ExecResult r = RunExec(
      kHelper,
      {"h", "fds", std::to_string(keep.get()), std::to_string(drop.get()),
       std::to_string(later.get())},
      {}, [later_fd] { fcntl(later_fd, F_SETFD, FD_CLOEXEC); });
  // bit 0: keep is open; bit 1: drop closed; bit 2: later closed.
  EXPECT_THAT(r.status, ExitedWithCode(1));
}

TEST(ExecveTest, SignalDispositionsMaskAndPendingSignals) {
  // Handled signals reset to default, ignored ones stay ignored, and the
  // mask and pending set carry over.
  ExecResult r = RunExec(kHelper, {"h", "sigs"}, {}, [] {
    signal(SIGUSR1, SIG_IGN);
    struct sigaction sa = {};
    sa.sa_handler = [](int) {};
    sigaction(SIGUSR2, &sa, nullptr);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    raise(SIGINT);
  });
  EXPECT_THAT(r.status, ExitedWithCode(1 | 2 | 4 | 8));
}

TEST(ExecveTest, Errors) {
  TempPath dir = TempPath::Dir();
  EXPECT_EQ(ExecErrno(dir.Child("missing")), ENOENT);
  EXPECT_EQ(ExecErrno(dir.path()), EACCES);
  TempPath noexec = TempPath::File("#!/bin/sh\n", dir.path(), 0644);
  EXPECT_EQ(ExecErrno(noexec.path()), EACCES);
  TempPath garbage = TempPath::File(std::string(512, '\x01'), dir.path(), 0755);
  EXPECT_EQ(ExecErrno(garbage.path()), ENOEXEC);
  TempPath empty = TempPath::File("", dir.path(), 0755);
  EXPECT_EQ(ExecErrno(empty.path()), ENOEXEC);
  EXPECT_EQ(ExecErrno(garbage.path() + "/x"), ENOTDIR);
  EXPECT_EQ(ExecErrno(dir.Child(std::string(NAME_MAX + 1, 'n'))), ENAMETOOLONG);
  EXPECT_THAT(ForkAndWait([] {
    char* argv[] = {nullptr};
    TEST_CHECK_ERRNO(execve(Opaque<const char*>(nullptr), argv, argv), EFAULT);
  }),
              ExitedWithCode(0));
}

TEST(ExecveTest, FileOpenForWritingIsEtxtbsy) {
  TempPath dir = TempPath::Dir();
  const std::string path = dir.Child("busy");
  FileDescriptor w = OpenOrThrow(path, O_CREAT | O_WRONLY, 0755);
  WriteAll(w.get(), std::string(64, '\x01'));
  EXPECT_EQ(ExecErrno(path), ETXTBSY);
  w.reset();
  EXPECT_EQ(ExecErrno(path), ENOEXEC);
}

TEST(ExecveTest, InterpreterScript) {
  TempPath dir = TempPath::Dir();
  TempPath script = TempPath::File(
      std::string("#!") + kHelper + " one-arg\nignored body\n", dir.path(),
      0755);
  ExecResult r = RunExec(script.path(), {"argv0", "x", "y"}, {"E=1"});
  EXPECT_THAT(r.status, ExitedWithCode(0));
  // argv[0] is replaced by the interpreter, then its argument, then the
  // script path, then the original argv[1..].
  EXPECT_EQ(r.out, HelperOutput({kHelper, "one-arg", script.path(), "x", "y"},
                                {"E=1"}));
}

TEST(ExecveTest, InterpreterScriptWithoutArgumentAndWithSpaces) {
  TempPath dir = TempPath::Dir();
  TempPath bare = TempPath::File(std::string("#!") + kHelper + "\n",
                                 dir.path(), 0755);
  ExecResult r = RunExec(bare.path(), {"argv0"}, {});
  EXPECT_THAT(r.status, ExitedWithCode(0));
  EXPECT_EQ(r.out, HelperOutput({kHelper, bare.path()}, {}));
  // Everything after the interpreter is one argument, with surrounding
  // blanks stripped and inner ones kept.
  TempPath spaced = TempPath::File(
      std::string("#!  ") + kHelper + "  a  b \t\n", dir.path(), 0755);
  r = RunExec(spaced.path(), {"argv0"}, {});
  EXPECT_THAT(r.status, ExitedWithCode(0));
  EXPECT_EQ(r.out, HelperOutput({kHelper, "a  b", spaced.path()}, {}));
}

TEST(ExecveTest, ScriptWithAMissingInterpreterIsEnoent) {
  TempPath dir = TempPath::Dir();
  TempPath script = TempPath::File("#!" + dir.Child("no-such-interpreter") +
                                       "\n",
                                   dir.path(), 0755);
  EXPECT_EQ(ExecErrno(script.path()), ENOENT);
}

TEST(ExecveTest, ThroughASymlinkAndARelativePath) {
  TempPath dir = TempPath::Dir();
  const std::string link = dir.Child("helper-link");
  ASSERT_THAT(symlink(kHelper, link.c_str()), SyscallSucceeds());
  ExecResult r = RunExec(link, {"l", "exit", "5"}, {});
  EXPECT_THAT(r.status, ExitedWithCode(5));
  r = RunExec("helper-link", {"l", "exit", "6"}, {},
              [&] { TEST_CHECK_SUCCESS(chdir(dir.c_str())); });
  EXPECT_THAT(r.status, ExitedWithCode(6));
}

TEST(ExecveTest, ExecveatEmptyPathRunsTheDescriptor) {
  FileDescriptor fd = OpenOrThrow(kHelper, O_RDONLY | O_CLOEXEC);
  const int f = fd.get();
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    alarm(kChildWatchdogSeconds);
    char* argv[] = {const_cast<char*>("fexec"), const_cast<char*>("exit"),
                    const_cast<char*>("11"), nullptr};
    char* envp[] = {nullptr};
    syscall(SYS_execveat, f, "", argv, envp, AT_EMPTY_PATH);
    _exit(200 + errno);
  }
  EXPECT_THAT(WaitForStatus(pid), ExitedWithCode(11));
  // Without AT_EMPTY_PATH an empty name is ENOENT.
  EXPECT_THAT(ForkAndWait([f] {
    char* argv[] = {nullptr};
    TEST_CHECK_ERRNO(syscall(SYS_execveat, f, "", argv, argv, 0), ENOENT);
  }),
              ExitedWithCode(0));
}

TEST(ExecveTest, ExecFromASecondThreadKeepsTheProcessId) {
  // The exec'ing thread takes over the thread group id; other threads die.
  Pipe out = MakePipe(O_CLOEXEC);
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    alarm(kChildWatchdogSeconds);
    dup2(out.write_end.get(), STDOUT_FILENO);
    std::thread t([] {
      char* argv[] = {const_cast<char*>(kHelper), const_cast<char*>("ids"),
                      nullptr};
      char* envp[] = {nullptr};
      execve(kHelper, argv, envp);
      _exit(127);
    });
    for (;;) pause();
  }
  out.write_end.reset();
  std::string got = ReadAll(out.read_end.get());
  EXPECT_THAT(WaitForStatus(pid), ExitedWithCode(0));
  pid_t seen_pid = 0, seen_ppid = 0;
  ASSERT_EQ(sscanf(got.c_str(), "%d %d", &seen_pid, &seen_ppid), 2) << got;
  EXPECT_EQ(seen_pid, pid);
  EXPECT_EQ(seen_ppid, getpid());
}

TEST(ForkTest, OnlyTheCallingThreadIsCopied) {
  std::atomic<pid_t> other_tid{0};
  Pipe hold = MakePipe();
  std::thread t([&] {
    other_tid = gettid();
    char c;
    while (read(hold.read_end.get(), &c, 1) > 0) {
    }
  });
  while (other_tid.load() == 0) sched_yield();
  const pid_t tid = other_tid.load();
  // In the parent the thread exists...
  EXPECT_THAT(syscall(SYS_tgkill, getpid(), tid, 0), SyscallSucceeds());
  // ...in the child it does not.
  EXPECT_THAT(ForkAndWait([tid] {
    TEST_CHECK_ERRNO(syscall(SYS_tgkill, getpid(), tid, 0), ESRCH);
    TEST_CHECK_VALUE(gettid(), getpid());
  }),
              ExitedWithCode(0));
  hold.write_end.reset();
  t.join();
}

// --- ids ------------------------------------------------------------------

TEST(IdsTest, MainThreadTidIsThePid) {
  EXPECT_EQ(gettid(), getpid());
  EXPECT_EQ(syscall(SYS_getpid), getpid());
  EXPECT_GT(getppid(), 0);
}

TEST(IdsTest, ThreadsShareThePidButNotTheTid) {
  pid_t thread_pid = 0, thread_tid = 0;
  std::thread t([&] {
    thread_pid = getpid();
    thread_tid = gettid();
  });
  t.join();
  EXPECT_EQ(thread_pid, getpid());
  EXPECT_NE(thread_tid, getpid());
  EXPECT_GT(thread_tid, 0);
}

// --- sessions and process groups ------------------------------------------

TEST(SessionTest, SetsidMakesANewSessionAndGroup) {
  EXPECT_THAT(ForkAndWait([] {
    const pid_t me = getpid();
    TEST_CHECK(getpgrp() != me);  // a forked child joins its parent's group
    TEST_CHECK_VALUE(setsid(), me);
    TEST_CHECK_VALUE(getsid(0), me);
    TEST_CHECK_VALUE(getpgrp(), me);
    TEST_CHECK_VALUE(getpgid(0), me);
    // A group leader (and now session leader) cannot do it again.
    TEST_CHECK_ERRNO(setsid(), EPERM);
    // A session leader cannot change its group.
    TEST_CHECK_ERRNO(setpgid(0, 0), EPERM);
  }),
              ExitedWithCode(0));
}

TEST(SessionTest, GroupLeaderCannotSetsid) {
  EXPECT_THAT(ForkAndWait([] {
    TEST_CHECK_SUCCESS(setpgid(0, 0));
    TEST_CHECK_VALUE(getpgrp(), getpid());
    TEST_CHECK_ERRNO(setsid(), EPERM);
  }),
              ExitedWithCode(0));
}

TEST(SessionTest, GetsidAndGetpgidOfOthers) {
  Pipe p = MakePipe();
  pid_t child = ForkBlockedChild(p);
  EXPECT_THAT(getpgid(child), SyscallSucceedsWithValue(getpgrp()));
  EXPECT_THAT(getsid(child), SyscallSucceedsWithValue(getsid(0)));
  p.write_end.reset();
  WaitForStatus(child);
  const pid_t gone = UnusedPid();
  EXPECT_THAT(getpgid(gone), SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(getsid(gone), SyscallFailsWithErrno(ESRCH));
}

TEST(SessionTest, SetpgidRules) {
  EXPECT_THAT(ForkAndWait([] {
    const pid_t parent_group = getpgrp();
    TEST_CHECK_ERRNO(setpgid(0, -1), EINVAL);
    TEST_CHECK_ERRNO(setpgid(-1, 0), EINVAL);
    // Neither self nor a child.
    TEST_CHECK_ERRNO(setpgid(getppid(), 0), ESRCH);
    // Joining a group that does not exist in this session.
    pid_t gone = UnusedPid();
    TEST_CHECK_ERRNO(setpgid(0, gone), EPERM);
    // Own group, then back to the original one (same session): both fine.
    TEST_CHECK_SUCCESS(setpgid(0, 0));
    TEST_CHECK_SUCCESS(setpgid(0, parent_group));
    TEST_CHECK_VALUE(getpgrp(), parent_group);
  }),
              ExitedWithCode(0));
}

TEST(SessionTest, SetpgidOfAChildInAnotherSessionIsEperm) {
  Pipe ready = MakePipe();
  Pipe hold = MakePipe();
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    alarm(kChildWatchdogSeconds);
    setsid();
    close(hold.write_end.get());
    ready.write_end.reset();
    char c;
    while (read(hold.read_end.get(), &c, 1) > 0) {
    }
    _exit(0);
  }
  ready.write_end.reset();
  hold.read_end.reset();
  char c;
  ASSERT_THAT(read(ready.read_end.get(), &c, 1), SyscallSucceedsWithValue(0));
  EXPECT_THAT(setpgid(pid, pid), SyscallFailsWithErrno(EPERM));
  hold.write_end.reset();
  EXPECT_THAT(WaitForStatus(pid), ExitedWithCode(0));
}

TEST(SessionTest, SetpgidOfAChildAfterExecIsEacces) {
  Pipe exec_done = MakePipe(O_CLOEXEC);
  Pipe in = MakePipe(O_CLOEXEC);
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    alarm(kChildWatchdogSeconds);
    dup2(in.read_end.get(), STDIN_FILENO);
    char* argv[] = {const_cast<char*>(kHelper), const_cast<char*>("wait"),
                    nullptr};
    char* envp[] = {nullptr};
    execve(kHelper, argv, envp);
    _exit(127);
  }
  exec_done.write_end.reset();
  in.read_end.reset();
  // EOF on the close-on-exec pipe means the child has exec'd.
  char c;
  ASSERT_THAT(read(exec_done.read_end.get(), &c, 1),
              SyscallSucceedsWithValue(0));
  EXPECT_THAT(setpgid(pid, pid), SyscallFailsWithErrno(EACCES));
  in.write_end.reset();
  EXPECT_THAT(WaitForStatus(pid), ExitedWithCode(0));
}

// --- exit -----------------------------------------------------------------

TEST(ExitTest, ExitGroupFromAThreadEndsTheProcess) {
  EXPECT_THAT(ForkAndWait([] {
    std::thread t([] { syscall(SYS_exit_group, 7); });
    for (;;) pause();
  }),
              ExitedWithCode(7));
}

TEST(ExitTest, ProcessOutlivesItsMainThread) {
  EXPECT_THAT(ForkAndWait([] {
    std::thread t([] {
      // Give the main thread time to exit first; the status must come from
      // here either way.
      struct timespec ts = {0, 100 * 1000 * 1000};
      nanosleep(&ts, nullptr);
      syscall(SYS_exit_group, 3);
    });
    t.detach();
    syscall(SYS_exit, 0);  // only the main thread
  }),
              ExitedWithCode(3));
}

TEST(ExitTest, ExitFromTheLastThreadUsesItsCode) {
  EXPECT_THAT(ForkAndWait([] { syscall(SYS_exit, 9); }), ExitedWithCode(9));
}

// --- threads --------------------------------------------------------------

thread_local int t_value = 1;

TEST(ThreadTest, JoinReturnsTheValueAndTlsIsPerThread) {
  t_value = 10;
  pthread_t th;
  ASSERT_EQ(pthread_create(
                &th, nullptr,
                [](void*) -> void* {
                  if (t_value != 1) return nullptr;
                  t_value = 20;
                  return reinterpret_cast<void*>(static_cast<intptr_t>(t_value));
                },
                nullptr),
            0);
  void* ret = nullptr;
  ASSERT_EQ(pthread_join(th, &ret), 0);
  EXPECT_EQ(reinterpret_cast<intptr_t>(ret), 20);
  EXPECT_EQ(t_value, 10);
}

TEST(ThreadTest, ManyThreadsShareMemory) {
  std::atomic<int> counter{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 32; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 1000; ++j) counter.fetch_add(1);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter.load(), 32 * 1000);
}

TEST(ThreadTest, ThreadsShareDescriptorsAndCwd) {
  Pipe p = MakePipe();
  int fd = -1;
  std::thread t([&] { fd = dup(p.write_end.get()); });
  t.join();
  ASSERT_GE(fd, 0);
  FileDescriptor owned(fd);
  EXPECT_THAT(write(fd, "t", 1), SyscallSucceedsWithValue(1));
}

// A raw CLONE_THREAD child: it only touches its arguments, never TLS.
struct RawThreadArgs {
  std::atomic<int> ran{0};
};

int RawThreadMain(void* arg) {
  static_cast<RawThreadArgs*>(arg)->ran.store(1);
  return 0;
}

TEST(ThreadTest, ChildCleartidIsClearedAndWokenOnExit) {
  const size_t stack_size = 256 * 1024;
  void* stack = mmap(nullptr, stack_size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  ASSERT_THAT(stack, SyscallSucceeds());
  RawThreadArgs args;
  volatile pid_t ptid = 0;
  volatile pid_t ctid = -1;
  const int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
                    CLONE_THREAD | CLONE_SYSVSEM | CLONE_PARENT_SETTID |
                    CLONE_CHILD_CLEARTID;
  int tid = clone(RawThreadMain, static_cast<char*>(stack) + stack_size, flags,
                  &args, &ptid, nullptr, &ctid);
  ASSERT_THAT(tid, SyscallSucceeds());
  EXPECT_EQ(ptid, tid);
  EXPECT_NE(tid, getpid());
  // Wait for the kernel to clear ctid and wake us, as pthread_join does.
  for (;;) {
    pid_t v = ctid;
    if (v == 0) break;
    long r = syscall(SYS_futex, &ctid, FUTEX_WAIT, v, nullptr, nullptr, 0);
    ASSERT_TRUE(r == 0 || errno == EAGAIN || errno == EINTR) << errno;
  }
  EXPECT_EQ(args.ran.load(), 1);
  munmap(stack, stack_size);
}

// --- clone flag errors ----------------------------------------------------

// Calls clone with `flags` and no new stack; a child, should one be created
// by mistake, exits at once.
long RawClone(unsigned long flags) {
  long r = syscall(SYS_clone, flags, nullptr, nullptr, nullptr, 0);
  if (r == 0) _exit(0);
  if (r > 0) WaitForStatus(static_cast<pid_t>(r));
  return r;
}

TEST(CloneTest, InvalidFlagCombinations) {
  EXPECT_THAT(ForkAndWait([] {
    TEST_CHECK_ERRNO(RawClone(CLONE_SIGHAND | SIGCHLD), EINVAL);
    TEST_CHECK_ERRNO(RawClone(CLONE_THREAD | CLONE_VM), EINVAL);
    TEST_CHECK_ERRNO(RawClone(CLONE_NEWNS | CLONE_FS | SIGCHLD), EINVAL);
    TEST_CHECK_ERRNO(RawClone(CLONE_NEWUSER | CLONE_FS | SIGCHLD), EINVAL);
  }),
              ExitedWithCode(0));
}

TEST(CloneTest, Clone3SizeRules) {
  struct clone_args args = {};
  args.exit_signal = SIGCHLD;
  EXPECT_THAT(syscall(SYS_clone3, &args, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_clone3, &args, CLONE_ARGS_SIZE_VER0 - 8),
              SyscallFailsWithErrno(EINVAL));
  // Unknown flags are rejected.
  args.flags = 1ULL << 40;
  EXPECT_THAT(syscall(SYS_clone3, &args, sizeof(args)),
              SyscallFailsWithErrno(EINVAL));
}

TEST(CloneTest, Clone3CreatesAChild) {
  struct clone_args args = {};
  args.exit_signal = SIGCHLD;
  long pid = syscall(SYS_clone3, &args, CLONE_ARGS_SIZE_VER0);
  if (pid == 0) _exit(12);
  ASSERT_THAT(pid, SyscallSucceeds());
  EXPECT_THAT(WaitForStatus(static_cast<pid_t>(pid)), ExitedWithCode(12));
}

}  // namespace
}  // namespace systest
