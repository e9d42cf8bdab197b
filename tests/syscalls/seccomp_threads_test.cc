// seccomp(2) kills and threads: SECCOMP_RET_KILL_PROCESS and KILL_THREAD
// wait statuses, and SECCOMP_FILTER_FLAG_TSYNC.
#include <linux/seccomp.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <atomic>
#include <fstream>
#include <string>

#include "seccomp_util.h"
#include "test_util.h"

namespace systest {
namespace {

void SetNoNewPrivs() { TEST_CHECK_SUCCESS(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)); }

void SetCoreLimit(rlim_t limit) {
  struct rlimit l = {limit, limit};
  TEST_CHECK_SUCCESS(setrlimit(RLIMIT_CORE, &l));
}

// A file core_pattern with RLIMIT_CORE 0 writes no core, so wait reports
// none; a pipe pattern (systemd-coredump) dumps whatever the limit.
bool CorePatternIsPipe() {
  std::ifstream in("/proc/sys/kernel/core_pattern");
  std::string pattern;
  std::getline(in, pattern);
  return !pattern.empty() && pattern[0] == '|';
}

TEST(SeccompKillTest, KillProcessStatus) {
  int status = ForkAndWait([] {
    SetCoreLimit(0);
    // A SIGSYS handler does not help: the process dies anyway.
    signal(SIGSYS, SIG_IGN);
    SetNoNewPrivs();
    TEST_CHECK_SUCCESS(InstallFilter(OnSyscall(SYS_getppid, SECCOMP_RET_KILL_PROCESS)));
    syscall(SYS_getppid);
    _exit(3);
  });
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_THAT(status, KilledBySignal(SIGSYS));
  if (!CorePatternIsPipe()) {
    EXPECT_FALSE(WCOREDUMP(status));
  }
}

TEST(SeccompKillTest, KillProcessDumpsCoreWhenTheLimitAllows) {
  // With a file core_pattern the kernel writes the core into the cwd and
  // sets the core flag of the wait status; the Sentry sets the flag alone.
  std::ifstream in("/proc/sys/kernel/core_pattern");
  std::string pattern;
  std::getline(in, pattern);
  if (pattern.empty() || pattern[0] == '|' || pattern.find('/') != std::string::npos) {
    GTEST_SKIP() << "core_pattern " << pattern << " is not a file in the cwd";
  }
  const std::string dir = NewTempName();
  ASSERT_THAT(mkdir(dir.c_str(), 0700), SyscallSucceeds());
  int status = ForkAndWait([&] {
    TEST_CHECK_SUCCESS(chdir(dir.c_str()));
    SetCoreLimit(RLIM_INFINITY);
    TEST_CHECK_SUCCESS(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0));
    SetNoNewPrivs();
    TEST_CHECK_SUCCESS(InstallFilter(OnSyscall(SYS_getppid, SECCOMP_RET_KILL_PROCESS)));
    syscall(SYS_getppid);
    _exit(3);
  });
  RemoveRecursively(dir);
  EXPECT_THAT(status, KilledBySignal(SIGSYS));
  EXPECT_TRUE(WCOREDUMP(status));
}

std::atomic<bool> g_thread_survived{false};

void* CallGetppid(void*) {
  syscall(SYS_getppid);
  g_thread_survived = true;
  return nullptr;
}

TEST(SeccompKillTest, KillProcessFromAThreadKillsAllThreads) {
  EXPECT_THAT(ForkAndWait([] {
    SetCoreLimit(0);
    SetNoNewPrivs();
    TEST_CHECK_SUCCESS(InstallFilter(OnSyscall(SYS_getppid, SECCOMP_RET_KILL_PROCESS)));
    pthread_t th;
    TEST_CHECK(pthread_create(&th, nullptr, CallGetppid, nullptr) == 0);
    pthread_join(th, nullptr);
    _exit(3);
  }),
              KilledBySignal(SIGSYS));
}

TEST(SeccompKillTest, KillThreadEndsOnlyThatThread) {
  EXPECT_THAT(ForkAndWait([] {
    SetCoreLimit(0);
    SetNoNewPrivs();
    TEST_CHECK_SUCCESS(InstallFilter(OnSyscall(SYS_getppid, SECCOMP_RET_KILL_THREAD)));
    pthread_t th;
    TEST_CHECK(pthread_create(&th, nullptr, CallGetppid, nullptr) == 0);
    // The kernel clears the dead thread's tid word, which ends the join.
    TEST_CHECK(pthread_join(th, nullptr) == 0);
    TEST_CHECK(!g_thread_survived);
    _exit(4);
  }),
              ExitedWithCode(4));
}

TEST(SeccompKillTest, KillThreadOfTheLastThreadKillsTheProcess) {
  int status = ForkAndWait([] {
    SetCoreLimit(0);
    SetNoNewPrivs();
    TEST_CHECK_SUCCESS(InstallFilter(OnSyscall(SYS_getppid, SECCOMP_RET_KILL_THREAD)));
    syscall(SYS_getppid);
    _exit(3);
  });
  EXPECT_THAT(status, KilledBySignal(SIGSYS));
  if (!CorePatternIsPipe()) {
    EXPECT_FALSE(WCOREDUMP(status));
  }
}

TEST(SeccompKillTest, UnknownActionKillsTheProcess) {
  EXPECT_THAT(ForkAndWait([] {
    SetCoreLimit(0);
    SetNoNewPrivs();
    TEST_CHECK_SUCCESS(InstallFilter(OnSyscall(SYS_getppid, 0x00010000)));
    syscall(SYS_getppid);
    _exit(3);
  }),
              KilledBySignal(SIGSYS));
}

// A thread that records its tid, optionally installs a filter of its own,
// then waits for `go` and calls getppid, reporting the errno it got.
struct Worker {
  std::atomic<int> tid{0};
  std::atomic<bool> go{false};
  std::atomic<int> result{-1};
  bool own_filter = false;
};

void* WorkerMain(void* arg) {
  auto* w = static_cast<Worker*>(arg);
  if (w->own_filter && InstallFilter(AllowAll()) != 0) _exit(20);
  w->tid = static_cast<int>(syscall(SYS_gettid));
  while (!w->go) sched_yield();
  w->result = syscall(SYS_getppid) == -1 ? errno : 0;
  return nullptr;
}

TEST(SeccompTsyncTest, AppliesToEveryThread) {
  EXPECT_THAT(ForkAndWait([] {
    SetNoNewPrivs();
    Worker w;
    pthread_t th;
    TEST_CHECK(pthread_create(&th, nullptr, WorkerMain, &w) == 0);
    while (w.tid == 0) sched_yield();
    TEST_CHECK(InstallFilter(OnSyscall(SYS_getppid, SECCOMP_RET_ERRNO | EPERM),
                             SECCOMP_FILTER_FLAG_TSYNC) == 0);
    w.go = true;
    TEST_CHECK(pthread_join(th, nullptr) == 0);
    TEST_CHECK(w.result == EPERM);
  }),
              ExitedWithCode(0));
}

TEST(SeccompTsyncTest, ConflictNamesTheThread) {
  EXPECT_THAT(ForkAndWait([] {
    SetNoNewPrivs();
    Worker w;
    w.own_filter = true;
    pthread_t th;
    TEST_CHECK(pthread_create(&th, nullptr, WorkerMain, &w) == 0);
    while (w.tid == 0) sched_yield();
    // The worker's filter is not one of ours: TSYNC fails and names it,
    // or says ESRCH with TSYNC_ESRCH; nothing is installed.
    const BpfProgram deny = OnSyscall(SYS_getppid, SECCOMP_RET_ERRNO | EPERM);
    TEST_CHECK(InstallFilter(deny, SECCOMP_FILTER_FLAG_TSYNC) == w.tid);
    TEST_CHECK_ERRNO(
        InstallFilter(deny, SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_TSYNC_ESRCH), ESRCH);
    TEST_CHECK(prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 0);
    // Without TSYNC only the caller gets it.
    TEST_CHECK_SUCCESS(InstallFilter(deny));
    TEST_CHECK_ERRNO(syscall(SYS_getppid), EPERM);
    w.go = true;
    TEST_CHECK(pthread_join(th, nullptr) == 0);
    TEST_CHECK(w.result == 0);
  }),
              ExitedWithCode(0));
}

TEST(SeccompTsyncTest, ThreadsCreatedAfterAFilterShareItAndCanSync) {
  EXPECT_THAT(ForkAndWait([] {
    SetNoNewPrivs();
    TEST_CHECK_SUCCESS(InstallFilter(AllowAll(), SECCOMP_FILTER_FLAG_LOG));
    Worker w;
    pthread_t th;
    TEST_CHECK(pthread_create(&th, nullptr, WorkerMain, &w) == 0);
    while (w.tid == 0) sched_yield();
    // The worker's filters are a prefix of ours: it can be synchronised.
    TEST_CHECK(InstallFilter(OnSyscall(SYS_getppid, SECCOMP_RET_ERRNO | EACCES),
                             SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_SPEC_ALLOW) == 0);
    w.go = true;
    TEST_CHECK(pthread_join(th, nullptr) == 0);
    TEST_CHECK(w.result == EACCES);
  }),
              ExitedWithCode(0));
}

}  // namespace
}  // namespace systest
