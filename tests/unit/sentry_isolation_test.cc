// The Sentry's isolation, step by step, in forked children: after the
// pivot no host path resolves, and under the Sentry's seccomp filter an
// attempt to open a host path kills the process.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gtest/gtest.h"
#include "runsc/isolation.h"
#include "runsc/seccomp.h"

namespace runsc {
namespace {

// Runs `body` in a child with a private mount namespace; returns its wait
// status. Exit codes: 0 success, others name the failing step.
template <typename F>
int InChild(F body) {
  pid_t p = fork();
  if (p == 0) {
    if (unshare(CLONE_NEWNS) != 0) _exit(100);
    _exit(body());
  }
  int st = 0;
  waitpid(p, &st, 0);
  return st;
}

bool CanUnshare() {
  int st = InChild([] { return 0; });
  return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

TEST(SentryIsolationTest, NoHostPathAfterPivot) {
  if (!CanUnshare()) GTEST_SKIP() << "needs CAP_SYS_ADMIN for a mount namespace";
  int st = InChild([] {
    if (access("/etc/passwd", F_OK) != 0) return 1;  // visible before
    if (!PivotToEmptyRoot().ok()) return 2;
    if (open("/etc/passwd", O_RDONLY) >= 0 || errno != ENOENT) return 3;
    if (open("/proc/self/maps", O_RDONLY) >= 0) return 4;
    if (open("..", O_RDONLY | O_DIRECTORY) < 0) return 5;  // ".." of the root is the root
    if (mkdir("/x", 0755) == 0) return 6;                     // read-only
    return 0;
  });
  ASSERT_TRUE(WIFEXITED(st)) << st;
  EXPECT_EQ(WEXITSTATUS(st), 0);
}

TEST(SentryIsolationTest, CapabilitiesAreGone) {
  if (!CanUnshare()) GTEST_SKIP() << "needs CAP_SYS_ADMIN for a mount namespace";
  int st = InChild([] {
    if (!DropAllCapabilities().ok()) return 1;
    // A new mount namespace needs CAP_SYS_ADMIN, which is gone.
    if (unshare(CLONE_NEWNS) == 0) return 2;
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) return 3;
    return 0;
  });
  ASSERT_TRUE(WIFEXITED(st)) << st;
  EXPECT_EQ(WEXITSTATUS(st), 0);
}

TEST(SentryIsolationTest, SeccompKillsHostOpen) {
  pid_t p = fork();
  if (p == 0) {
    if (!InstallSeccomp(SentryRules("ptrace")).ok()) _exit(1);
    // Allowed syscalls still work...
    if (syscall(SYS_getpid) <= 0) _exit(2);
    // ...but opening any host path is not in the allowlist.
    syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY);
    _exit(3);
  }
  int st = 0;
  waitpid(p, &st, 0);
  ASSERT_TRUE(WIFSIGNALED(st)) << "status " << st;
  EXPECT_EQ(WTERMSIG(st), SIGSYS);
}

TEST(SentryIsolationTest, SeccompRestrictsArguments) {
  pid_t p = fork();
  if (p == 0) {
    if (!InstallSeccomp(SentryRules("ptrace")).ok()) _exit(1);
    // Executable memory is not something the Sentry ever needs.
    syscall(SYS_mmap, 0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    _exit(3);
  }
  int st = 0;
  waitpid(p, &st, 0);
  ASSERT_TRUE(WIFSIGNALED(st)) << "status " << st;
  EXPECT_EQ(WTERMSIG(st), SIGSYS);
}

TEST(SentryIsolationTest, AllowlistIsSmallAndExplained) {
  auto rules = SentryRules("ptrace");
  for (const auto& r : rules) EXPECT_FALSE(r.reason.empty()) << r.name;
  EXPECT_LT(CountSyscalls(rules), 75u);  // gVisor's Sentry needs about 75
}

}  // namespace
}  // namespace runsc
