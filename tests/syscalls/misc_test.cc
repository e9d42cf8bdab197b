// Miscellaneous process state: uname(2), getrandom(2), sysinfo(2),
// getrlimit(2)/setrlimit(2)/prlimit(2), prctl(2), arch_prctl(2),
// sched_getaffinity(2), getpriority(2)/setpriority(2), getcpu(2) and
// credentials (setresuid(2), setgroups(2), capget(2)).

#include <asm/prctl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "tests/syscalls/test_util.h"

namespace systest {
namespace {

using ::testing::Ge;

// --- uname ----------------------------------------------------------------

TEST(UnameTest, Fields) {
  struct utsname u;
  ASSERT_THAT(uname(&u), SyscallSucceeds());
  EXPECT_STREQ(u.sysname, "Linux");
  EXPECT_STREQ(u.machine, "x86_64");
  EXPECT_GT(strlen(u.release), 0u);
  EXPECT_GT(strlen(u.version), 0u);
  char host[HOST_NAME_MAX + 1];
  ASSERT_THAT(gethostname(host, sizeof(host)), SyscallSucceeds());
  EXPECT_STREQ(u.nodename, host);
  // The release starts with a version number.
  int major = 0, minor = 0;
  EXPECT_EQ(sscanf(u.release, "%d.%d", &major, &minor), 2) << u.release;
  EXPECT_GE(major, 3);
  EXPECT_THAT(uname(Opaque<struct utsname*>(nullptr)),
              SyscallFailsWithErrno(EFAULT));
}

TEST(UnameTest, SethostnameNeedsPrivilege) {
  EXPECT_THAT(ForkAndWait([] {
    DropPrivilegesInChild();
    TEST_CHECK_ERRNO(sethostname("x", 1), EPERM);
  }),
              ExitedWithCode(0));
}

// --- getrandom ------------------------------------------------------------

TEST(GetrandomTest, FillsTheBuffer) {
  std::vector<uint8_t> a(256), b(256);
  ASSERT_THAT(getrandom(a.data(), a.size(), 0), SyscallSucceedsWithValue(256));
  ASSERT_THAT(getrandom(b.data(), b.size(), GRND_NONBLOCK),
              SyscallSucceedsWithValue(256));
  EXPECT_NE(a, b);
  // Not all zeros (the chance of that is 2^-2048).
  EXPECT_NE(a, std::vector<uint8_t>(256, 0));
  EXPECT_THAT(getrandom(a.data(), 16, GRND_RANDOM | GRND_NONBLOCK),
              SyscallSucceedsWithValue(Ge(1)));
  EXPECT_THAT(getrandom(a.data(), 16, GRND_INSECURE),
              SyscallSucceedsWithValue(16));
  EXPECT_THAT(getrandom(a.data(), 0, 0), SyscallSucceedsWithValue(0));
}

TEST(GetrandomTest, Errors) {
  uint8_t buf[16];
  EXPECT_THAT(getrandom(buf, sizeof(buf), 0x80), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(getrandom(buf, sizeof(buf), GRND_INSECURE | GRND_RANDOM),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(getrandom(Opaque<void*>(nullptr), 16, 0),
              SyscallFailsWithErrno(EFAULT));
}

// --- sysinfo --------------------------------------------------------------

TEST(SysinfoTest, Sanity) {
  struct sysinfo si;
  ASSERT_THAT(sysinfo(&si), SyscallSucceeds());
  EXPECT_GT(si.uptime, 0);
  EXPECT_GT(si.totalram, 0u);
  EXPECT_LE(si.freeram, si.totalram);
  EXPECT_GE(si.mem_unit, 1u);
  EXPECT_GE(si.procs, 1);
  struct timespec boot;
  clock_gettime(CLOCK_BOOTTIME, &boot);
  EXPECT_LE(std::abs(si.uptime - boot.tv_sec), 2);
  EXPECT_THAT(sysinfo(Opaque<struct sysinfo*>(nullptr)),
              SyscallFailsWithErrno(EFAULT));
}

// --- rlimits --------------------------------------------------------------

TEST(RlimitTest, LoweringTheSoftLimit) {
  EXPECT_THAT(ForkAndWait([] {
    struct rlimit rl;
    TEST_CHECK_SUCCESS(getrlimit(RLIMIT_NOFILE, &rl));
    TEST_CHECK(rl.rlim_cur <= rl.rlim_max);
    struct rlimit lower = {64, rl.rlim_max};
    TEST_CHECK_SUCCESS(setrlimit(RLIMIT_NOFILE, &lower));
    struct rlimit got;
    TEST_CHECK_SUCCESS(getrlimit(RLIMIT_NOFILE, &got));
    TEST_CHECK(got.rlim_cur == 64 && got.rlim_max == rl.rlim_max);
    // Raising the soft limit back up to the hard one needs no privilege.
    TEST_CHECK_SUCCESS(setrlimit(RLIMIT_NOFILE, &rl));
  }),
              ExitedWithCode(0));
}

TEST(RlimitTest, SoftAboveHardIsEinval) {
  struct rlimit rl;
  ASSERT_THAT(getrlimit(RLIMIT_CORE, &rl), SyscallSucceeds());
  struct rlimit bad = {200, 100};
  EXPECT_THAT(setrlimit(RLIMIT_CORE, &bad), SyscallFailsWithErrno(EINVAL));
  struct rlimit now;
  ASSERT_THAT(getrlimit(RLIMIT_CORE, &now), SyscallSucceeds());
  EXPECT_EQ(now.rlim_cur, rl.rlim_cur);
  EXPECT_EQ(now.rlim_max, rl.rlim_max);
}

TEST(RlimitTest, InvalidResource) {
  struct rlimit rl;
  EXPECT_THAT(getrlimit(static_cast<__rlimit_resource>(100), &rl),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(setrlimit(static_cast<__rlimit_resource>(100), &rl),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_getrlimit, RLIMIT_NOFILE, nullptr),
              SyscallFailsWithErrno(EFAULT));
}

TEST(RlimitTest, RaisingTheHardLimitNeedsPrivilege) {
  EXPECT_THAT(ForkAndWait([] {
    DropPrivilegesInChild();
    struct rlimit rl;
    TEST_CHECK_SUCCESS(getrlimit(RLIMIT_NOFILE, &rl));
    struct rlimit lower = {rl.rlim_cur / 2, rl.rlim_max / 2};
    TEST_CHECK_SUCCESS(setrlimit(RLIMIT_NOFILE, &lower));
    // Lowering the hard limit is one-way for an unprivileged process.
    TEST_CHECK_ERRNO(setrlimit(RLIMIT_NOFILE, &rl), EPERM);
    struct rlimit got;
    TEST_CHECK_SUCCESS(getrlimit(RLIMIT_NOFILE, &got));
    TEST_CHECK(got.rlim_max == rl.rlim_max / 2);
  }),
              ExitedWithCode(0));
}

TEST(RlimitTest, Prlimit) {
  EXPECT_THAT(ForkAndWait([] {
    struct rlimit orig;
    TEST_CHECK_SUCCESS(getrlimit(RLIMIT_STACK, &orig));
    struct rlimit set = {1 << 20, orig.rlim_max};
    struct rlimit old;
    TEST_CHECK_SUCCESS(prlimit(0, RLIMIT_STACK, &set, &old));
    TEST_CHECK(old.rlim_cur == orig.rlim_cur && old.rlim_max == orig.rlim_max);
    struct rlimit got;
    TEST_CHECK_SUCCESS(prlimit(getpid(), RLIMIT_STACK, nullptr, &got));
    TEST_CHECK(got.rlim_cur == (1 << 20));
    TEST_CHECK_SUCCESS(getrlimit(RLIMIT_STACK, &got));
    TEST_CHECK(got.rlim_cur == (1 << 20));
  }),
              ExitedWithCode(0));
}

TEST(RlimitTest, PrlimitOfOtherProcesses) {
  SKIP_IF_NOT_ROOT();
  Pipe p = MakePipe();
  pid_t child = fork();
  ASSERT_THAT(child, SyscallSucceeds());
  if (child == 0) {
    alarm(kChildWatchdogSeconds);
    close(p.write_end.get());
    char c;
    while (read(p.read_end.get(), &c, 1) > 0) {
    }
    struct rlimit rl;
    getrlimit(RLIMIT_CORE, &rl);
    _exit(rl.rlim_cur == 0 ? 0 : 1);
  }
  // Set the child's limit from here; it checks it before exiting.
  struct rlimit zero = {0, 0};
  EXPECT_THAT(prlimit(child, RLIMIT_CORE, &zero, nullptr), SyscallSucceeds());
  const pid_t target = child;
  EXPECT_THAT(ForkAndWait([target] {
    DropPrivilegesInChild();
    struct rlimit rl;
    TEST_CHECK_ERRNO(prlimit(target, RLIMIT_CORE, nullptr, &rl), EPERM);
  }),
              ExitedWithCode(0));
  p.write_end.reset();
  EXPECT_THAT(WaitForStatus(child), ExitedWithCode(0));
  struct rlimit rl;
  pid_t gone = fork();
  if (gone == 0) _exit(0);
  WaitForStatus(gone);
  EXPECT_THAT(prlimit(gone, RLIMIT_CORE, nullptr, &rl),
              SyscallFailsWithErrno(ESRCH));
}

TEST(RlimitTest, InheritedByChildren) {
  EXPECT_THAT(ForkAndWait([] {
    struct rlimit rl = {7, 7};
    TEST_CHECK_SUCCESS(setrlimit(RLIMIT_CORE, &rl));
    pid_t pid = fork();
    if (pid == 0) {
      struct rlimit got;
      getrlimit(RLIMIT_CORE, &got);
      _exit(got.rlim_cur == 7 && got.rlim_max == 7 ? 0 : 1);
    }
    TEST_CHECK(WIFEXITED(WaitForStatus(pid)));
  }),
              ExitedWithCode(0));
}

// --- prctl ----------------------------------------------------------------

TEST(PrctlTest, Name) {
  char saved[16] = {};
  ASSERT_THAT(prctl(PR_GET_NAME, saved), SyscallSucceeds());
  ASSERT_THAT(prctl(PR_SET_NAME, "systest-name"), SyscallSucceeds());
  char got[16] = {};
  ASSERT_THAT(prctl(PR_GET_NAME, got), SyscallSucceeds());
  EXPECT_STREQ(got, "systest-name");
  // Names are cut to 15 bytes plus the terminator.
  ASSERT_THAT(prctl(PR_SET_NAME, "0123456789abcdefghij"), SyscallSucceeds());
  memset(got, 'x', sizeof(got));
  ASSERT_THAT(prctl(PR_GET_NAME, got), SyscallSucceeds());
  EXPECT_EQ(std::string(got, 16), std::string("0123456789abcde\0", 16));
  // The name is per thread.
  std::string in_thread;
  std::thread t([&] {
    char buf[16] = {};
    prctl(PR_GET_NAME, buf);
    in_thread = buf;
    prctl(PR_SET_NAME, "other");
  });
  t.join();
  EXPECT_EQ(in_thread, "0123456789abcde");
  ASSERT_THAT(prctl(PR_GET_NAME, got), SyscallSucceeds());
  EXPECT_STREQ(got, "0123456789abcde");
  ASSERT_THAT(prctl(PR_SET_NAME, saved), SyscallSucceeds());
}

TEST(PrctlTest, UnknownOptionIsEinval) {
  EXPECT_THAT(prctl(0x7fff0000, 0, 0, 0, 0), SyscallFailsWithErrno(EINVAL));
}

TEST(PrctlTest, NoNewPrivsIsOneWay) {
  EXPECT_THAT(ForkAndWait([] {
    TEST_CHECK_VALUE(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 0);
    TEST_CHECK_ERRNO(prctl(PR_SET_NO_NEW_PRIVS, 2, 0, 0, 0), EINVAL);
    TEST_CHECK_ERRNO(prctl(PR_SET_NO_NEW_PRIVS, 1, 1, 0, 0), EINVAL);
    TEST_CHECK_SUCCESS(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
    TEST_CHECK_VALUE(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 1);
    TEST_CHECK_ERRNO(prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0), EINVAL);
    // Inherited across fork.
    pid_t pid = fork();
    if (pid == 0) _exit(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? 0 : 1);
    int status = WaitForStatus(pid);
    TEST_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }),
              ExitedWithCode(0));
}

TEST(PrctlTest, Dumpable) {
  EXPECT_THAT(ForkAndWait([] {
    TEST_CHECK_VALUE(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 1);
    TEST_CHECK_SUCCESS(prctl(PR_SET_DUMPABLE, 0, 0, 0, 0));
    TEST_CHECK_VALUE(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
    TEST_CHECK_ERRNO(prctl(PR_SET_DUMPABLE, 3, 0, 0, 0), EINVAL);
    TEST_CHECK_SUCCESS(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0));
  }),
              ExitedWithCode(0));
}

TEST(PrctlTest, PdeathsigGetSetAndClearedByFork) {
  EXPECT_THAT(ForkAndWait([] {
    int sig = -1;
    TEST_CHECK_SUCCESS(prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0));
    TEST_CHECK(sig == 0);
    TEST_CHECK_SUCCESS(prctl(PR_SET_PDEATHSIG, SIGUSR2, 0, 0, 0));
    TEST_CHECK_SUCCESS(prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0));
    TEST_CHECK(sig == SIGUSR2);
    TEST_CHECK_ERRNO(prctl(PR_SET_PDEATHSIG, 65, 0, 0, 0), EINVAL);
    pid_t pid = fork();
    if (pid == 0) {
      int s = -1;
      prctl(PR_GET_PDEATHSIG, &s, 0, 0, 0);
      _exit(s == 0 ? 0 : 1);
    }
    int status = WaitForStatus(pid);
    TEST_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }),
              ExitedWithCode(0));
}

std::atomic<int> g_got_pdeathsig{0};

TEST(PrctlTest, PdeathsigAndSubreaper) {
  // reaper (subreaper) -> middle -> orphan. When middle exits, orphan gets
  // its death signal and is reparented to the reaper.
  EXPECT_THAT(ForkAndWait([] {
    TEST_CHECK_SUCCESS(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
    int is_reaper = 0;
    TEST_CHECK_SUCCESS(prctl(PR_GET_CHILD_SUBREAPER, &is_reaper, 0, 0, 0));
    TEST_CHECK(is_reaper == 1);
    const pid_t reaper = getpid();
    int ready[2];
    TEST_CHECK_SUCCESS(pipe(ready));
    pid_t middle = fork();
    TEST_CHECK(middle >= 0);
    if (middle == 0) {
      pid_t orphan = fork();
      if (orphan < 0) _exit(2);
      if (orphan == 0) {
        alarm(kChildWatchdogSeconds);
        close(ready[0]);
        sigset_t block;
        sigemptyset(&block);
        sigaddset(&block, SIGUSR1);
        sigprocmask(SIG_BLOCK, &block, nullptr);
        struct sigaction sa = {};
        sa.sa_handler = [](int) { g_got_pdeathsig = 1; };
        sigaction(SIGUSR1, &sa, nullptr);
        if (prctl(PR_SET_PDEATHSIG, SIGUSR1, 0, 0, 0) != 0) _exit(3);
        const pid_t parent_before = getppid();
        close(ready[1]);  // tells middle it may exit
        sigset_t none;
        sigemptyset(&none);
        while (g_got_pdeathsig.load() == 0) sigsuspend(&none);
        // Reparented to the subreaper, not to init.
        _exit(getppid() == reaper && parent_before != reaper ? 77 : 4);
      }
      close(ready[1]);
      char c;
      while (read(ready[0], &c, 1) > 0) {
      }
      _exit(5);
    }
    close(ready[0]);
    close(ready[1]);
    int status = WaitForStatus(middle);
    TEST_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 5);
    // The orphan is now our child.
    status = 0;
    pid_t reaped = waitpid(-1, &status, 0);
    TEST_CHECK(reaped > 0);
    TEST_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 77);
  }),
              ExitedWithCode(0));
}

// --- arch_prctl -----------------------------------------------------------

long RawArchPrctl(int code, unsigned long addr) {
  long ret;
  asm volatile("syscall"
               : "=a"(ret)
               : "a"(SYS_arch_prctl), "D"(code), "S"(addr)
               : "rcx", "r11", "memory");
  return ret;
}

TEST(ArchPrctlTest, GetFsIsTheThreadPointer) {
  unsigned long fs = 0;
  ASSERT_THAT(syscall(SYS_arch_prctl, ARCH_GET_FS, &fs), SyscallSucceeds());
  // glibc's pthread_self() is the TCB, which %fs points at.
  EXPECT_EQ(fs, static_cast<unsigned long>(pthread_self()));
  unsigned long self_ptr;
  asm volatile("mov %%fs:0, %0" : "=r"(self_ptr));
  EXPECT_EQ(self_ptr, fs);
  // Each thread has its own.
  unsigned long thread_fs = 0;
  std::thread t([&] { syscall(SYS_arch_prctl, ARCH_GET_FS, &thread_fs); });
  t.join();
  EXPECT_NE(thread_fs, 0u);
  EXPECT_NE(thread_fs, fs);
}

TEST(ArchPrctlTest, SetFsChangesWhatFsPointsAt) {
  EXPECT_THAT(ForkAndWait([] {
    unsigned long old_fs = 0;
    TEST_CHECK(RawArchPrctl(ARCH_GET_FS,
                            reinterpret_cast<unsigned long>(&old_fs)) == 0);
    // A copy of the TCB's first words (stack canary included), with a
    // recognizable self-pointer slot. No libc call runs while %fs is moved.
    alignas(64) static unsigned long fake[16];
    memcpy(fake, reinterpret_cast<void*>(old_fs), sizeof(fake));
    fake[0] = 0x5eedf00d;
    long set = RawArchPrctl(ARCH_SET_FS, reinterpret_cast<unsigned long>(fake));
    unsigned long seen = 0, got = 0;
    asm volatile("mov %%fs:0, %0" : "=r"(seen));
    long get = RawArchPrctl(ARCH_GET_FS, reinterpret_cast<unsigned long>(&got));
    long restore = RawArchPrctl(ARCH_SET_FS, old_fs);
    TEST_CHECK(set == 0 && get == 0 && restore == 0);
    TEST_CHECK(seen == 0x5eedf00d);
    TEST_CHECK(got == reinterpret_cast<unsigned long>(fake));
  }),
              ExitedWithCode(0));
}

TEST(ArchPrctlTest, Errors) {
  EXPECT_THAT(syscall(SYS_arch_prctl, 0x9999, 0), SyscallFailsWithErrno(EINVAL));
  // A non-canonical base is refused and nothing changes.
  EXPECT_THAT(syscall(SYS_arch_prctl, ARCH_SET_FS, 0x8000000000000000UL),
              SyscallFailsWithErrno(EPERM));
  EXPECT_THAT(syscall(SYS_arch_prctl, ARCH_GET_FS, nullptr),
              SyscallFailsWithErrno(EFAULT));
  unsigned long gs = 1;
  EXPECT_THAT(syscall(SYS_arch_prctl, ARCH_GET_GS, &gs), SyscallSucceeds());
}

// --- scheduling -----------------------------------------------------------

TEST(AffinityTest, GetAffinity) {
  cpu_set_t set;
  CPU_ZERO(&set);
  long n = syscall(SYS_sched_getaffinity, 0, sizeof(set), &set);
  ASSERT_THAT(n, SyscallSucceedsWithValue(Ge(8)));
  // The kernel returns its mask size, a multiple of sizeof(long).
  EXPECT_EQ(n % sizeof(long), 0u);
  EXPECT_GE(CPU_COUNT(&set), 1);
  EXPECT_LE(CPU_COUNT(&set), sysconf(_SC_NPROCESSORS_CONF));
  cpu_set_t other;
  ASSERT_THAT(sched_getaffinity(getpid(), sizeof(other), &other),
              SyscallSucceeds());
  EXPECT_TRUE(CPU_EQUAL(&set, &other));
}

TEST(AffinityTest, Errors) {
  cpu_set_t set;
  // Not a multiple of sizeof(long).
  EXPECT_THAT(syscall(SYS_sched_getaffinity, 0, 4, &set),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_sched_getaffinity, 0, sizeof(set), nullptr),
              SyscallFailsWithErrno(EFAULT));
  pid_t gone = fork();
  if (gone == 0) _exit(0);
  WaitForStatus(gone);
  EXPECT_THAT(sched_getaffinity(gone, sizeof(set), &set),
              SyscallFailsWithErrno(ESRCH));
  cpu_set_t empty;
  CPU_ZERO(&empty);
  EXPECT_THAT(sched_setaffinity(0, sizeof(empty), &empty),
              SyscallFailsWithErrno(EINVAL));
}

TEST(AffinityTest, SetAffinityToOneCpu) {
  EXPECT_THAT(ForkAndWait([] {
    cpu_set_t set;
    TEST_CHECK_SUCCESS(sched_getaffinity(0, sizeof(set), &set));
    int first = -1;
    for (int i = 0; i < CPU_SETSIZE; ++i) {
      if (CPU_ISSET(i, &set)) {
        first = i;
        break;
      }
    }
    TEST_CHECK(first >= 0);
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    TEST_CHECK_SUCCESS(sched_setaffinity(0, sizeof(one), &one));
    cpu_set_t got;
    TEST_CHECK_SUCCESS(sched_getaffinity(0, sizeof(got), &got));
    TEST_CHECK(CPU_EQUAL(&one, &got));
    unsigned cpu = 1000;
    TEST_CHECK_SUCCESS(syscall(SYS_getcpu, &cpu, nullptr, nullptr));
    TEST_CHECK(cpu == static_cast<unsigned>(first));
  }),
              ExitedWithCode(0));
}

TEST(SchedTest, GetcpuAndPolicy) {
  unsigned cpu = 1000, node = 1000;
  ASSERT_THAT(syscall(SYS_getcpu, &cpu, &node, nullptr), SyscallSucceeds());
  EXPECT_LT(cpu, static_cast<unsigned>(sysconf(_SC_NPROCESSORS_CONF)));
  EXPECT_THAT(sched_getscheduler(0), SyscallSucceedsWithValue(SCHED_OTHER));
  struct sched_param param = {};
  ASSERT_THAT(sched_getparam(0, &param), SyscallSucceeds());
  EXPECT_EQ(param.sched_priority, 0);
  EXPECT_THAT(sched_yield(), SyscallSucceeds());
  EXPECT_THAT(sched_get_priority_max(SCHED_FIFO), SyscallSucceedsWithValue(99));
  EXPECT_THAT(sched_get_priority_min(SCHED_FIFO), SyscallSucceedsWithValue(1));
  EXPECT_THAT(sched_get_priority_max(SCHED_OTHER), SyscallSucceedsWithValue(0));
  EXPECT_THAT(sched_get_priority_max(42), SyscallFailsWithErrno(EINVAL));
}

TEST(PriorityTest, NiceValues) {
  EXPECT_THAT(ForkAndWait([] {
    errno = 0;
    int prio = getpriority(PRIO_PROCESS, 0);
    TEST_CHECK(errno == 0);
    // The raw syscall reports 20 - nice so that it is never negative.
    TEST_CHECK_VALUE(syscall(SYS_getpriority, PRIO_PROCESS, 0), 20 - prio);
    TEST_CHECK_SUCCESS(setpriority(PRIO_PROCESS, 0, 5));
    errno = 0;
    TEST_CHECK(getpriority(PRIO_PROCESS, 0) == 5 && errno == 0);
    // Values beyond the range are clamped.
    TEST_CHECK_SUCCESS(setpriority(PRIO_PROCESS, 0, 100));
    errno = 0;
    TEST_CHECK(getpriority(PRIO_PROCESS, 0) == 19 && errno == 0);
    DropPrivilegesInChild();
    struct rlimit rl = {0, 0};
    setrlimit(RLIMIT_NICE, &rl);
    // Lowering the nice value (raising priority) needs privilege.
    TEST_CHECK_ERRNO(setpriority(PRIO_PROCESS, 0, 10), EACCES);
    TEST_CHECK_SUCCESS(setpriority(PRIO_PROCESS, 0, 19));
  }),
              ExitedWithCode(0));
}

TEST(PriorityTest, Errors) {
  SKIP_IF_NOT_ROOT();
  EXPECT_THAT(getpriority(static_cast<__priority_which>(7), 0),
              SyscallFailsWithErrno(EINVAL));
  pid_t gone = fork();
  if (gone == 0) _exit(0);
  WaitForStatus(gone);
  EXPECT_THAT(getpriority(PRIO_PROCESS, gone), SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(setpriority(PRIO_PROCESS, gone, 1), SyscallFailsWithErrno(ESRCH));
  const pid_t parent = getpid();
  EXPECT_THAT(ForkAndWait([parent] {
    DropPrivilegesInChild();
    TEST_CHECK_ERRNO(setpriority(PRIO_PROCESS, parent, 1), EPERM);
  }),
              ExitedWithCode(0));
}

// --- credentials ----------------------------------------------------------

TEST(CredentialsTest, Consistency) {
  uid_t r, e, s;
  ASSERT_THAT(getresuid(&r, &e, &s), SyscallSucceeds());
  EXPECT_EQ(r, getuid());
  EXPECT_EQ(e, geteuid());
  gid_t rg, eg, sg;
  ASSERT_THAT(getresgid(&rg, &eg, &sg), SyscallSucceeds());
  EXPECT_EQ(rg, getgid());
  EXPECT_EQ(eg, getegid());
  int n = getgroups(0, nullptr);
  ASSERT_THAT(n, SyscallSucceeds());
  std::vector<gid_t> groups(n + 1);
  EXPECT_THAT(getgroups(n + 1, groups.data()), SyscallSucceedsWithValue(n));
  if (n > 0) {
    EXPECT_THAT(getgroups(n - 1, groups.data()), SyscallFailsWithErrno(EINVAL));
  }
  EXPECT_THAT(getgroups(Opaque(-1), groups.data()), SyscallFailsWithErrno(EINVAL));
}

TEST(CredentialsTest, SetresuidRules) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to pick arbitrary ids";
  EXPECT_THAT(ForkAndWait([] {
    // Root may set any triple (raw syscalls: glibc would apply them to all
    // threads, which is the same here but hides the per-thread semantics).
    TEST_CHECK_SUCCESS(syscall(SYS_setresgid, 2000, 2001, 2002));
    TEST_CHECK_SUCCESS(syscall(SYS_setresuid, 1000, 1001, 1002));
    uid_t r, e, s;
    TEST_CHECK_SUCCESS(getresuid(&r, &e, &s));
    TEST_CHECK(r == 1000 && e == 1001 && s == 1002);
    gid_t rg, eg, sg;
    TEST_CHECK_SUCCESS(getresgid(&rg, &eg, &sg));
    TEST_CHECK(rg == 2000 && eg == 2001 && sg == 2002);
    // Now unprivileged: only permutations of the current ids are allowed.
    TEST_CHECK_ERRNO(syscall(SYS_setresuid, 0, -1, -1), EPERM);
    TEST_CHECK_ERRNO(syscall(SYS_setresuid, -1, 1003, -1), EPERM);
    TEST_CHECK_SUCCESS(syscall(SYS_setresuid, 1002, 1000, -1));
    TEST_CHECK_SUCCESS(getresuid(&r, &e, &s));
    TEST_CHECK(r == 1002 && e == 1000 && s == 1002);
    // setuid to the saved id changes only the effective id when not root.
    TEST_CHECK_SUCCESS(syscall(SYS_setuid, 1002));
    TEST_CHECK_SUCCESS(getresuid(&r, &e, &s));
    TEST_CHECK(r == 1002 && e == 1002 && s == 1002);
    TEST_CHECK_ERRNO(syscall(SYS_setuid, 1000), EPERM);
  }),
              ExitedWithCode(0));
}

TEST(CredentialsTest, RootSetuidSetsAllThree) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  EXPECT_THAT(ForkAndWait([] {
    TEST_CHECK_SUCCESS(syscall(SYS_setuid, 1234));
    uid_t r, e, s;
    TEST_CHECK_SUCCESS(getresuid(&r, &e, &s));
    TEST_CHECK(r == 1234 && e == 1234 && s == 1234);
    // No way back.
    TEST_CHECK_ERRNO(syscall(SYS_setuid, 0), EPERM);
  }),
              ExitedWithCode(0));
}

TEST(CredentialsTest, Setgroups) {
  if (geteuid() != 0) GTEST_SKIP() << "needs CAP_SETGID";
  EXPECT_THAT(ForkAndWait([] {
    gid_t want[] = {10, 20, 30};
    TEST_CHECK_SUCCESS(setgroups(3, want));
    gid_t got[8];
    TEST_CHECK_VALUE(getgroups(8, got), 3);
    TEST_CHECK(got[0] == 10 && got[1] == 20 && got[2] == 30);
    TEST_CHECK_ERRNO(syscall(SYS_setgroups, -1, want), EINVAL);
    TEST_CHECK_ERRNO(syscall(SYS_setgroups, 1 << 20, want), EINVAL);
    DropPrivilegesInChild();
    TEST_CHECK_ERRNO(setgroups(0, nullptr), EPERM);
    TEST_CHECK_ERRNO(syscall(SYS_setgroups, 1, want), EPERM);
  }),
              ExitedWithCode(0));
}

TEST(CredentialsTest, Capget) {
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {};
  ASSERT_THAT(syscall(SYS_capget, &hdr, data), SyscallSucceeds());
  if (geteuid() == 0) {
    const uint32_t setuid_bit = 1u << CAP_SETUID;
    EXPECT_TRUE(data[0].effective & setuid_bit);
    EXPECT_TRUE(data[0].permitted & setuid_bit);
  }
  // Effective is always a subset of permitted.
  EXPECT_EQ(data[0].effective & ~data[0].permitted, 0u);
  EXPECT_EQ(data[1].effective & ~data[1].permitted, 0u);
  // An unknown version is EINVAL and the kernel writes back its own.
  hdr = {0x12345678, 0};
  EXPECT_THAT(syscall(SYS_capget, &hdr, data), SyscallFailsWithErrno(EINVAL));
  EXPECT_EQ(hdr.version, static_cast<uint32_t>(_LINUX_CAPABILITY_VERSION_3));
  // A null data pointer just probes the version.
  hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  EXPECT_THAT(syscall(SYS_capget, &hdr, nullptr), SyscallSucceeds());
  pid_t gone = fork();
  if (gone == 0) _exit(0);
  WaitForStatus(gone);
  hdr = {_LINUX_CAPABILITY_VERSION_3, gone};
  EXPECT_THAT(syscall(SYS_capget, &hdr, data), SyscallFailsWithErrno(ESRCH));
}

TEST(CredentialsTest, UnprivilegedHasNoCapabilitiesAndCannotGainThem) {
  EXPECT_THAT(ForkAndWait([] {
    DropPrivilegesInChild();
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2] = {};
    TEST_CHECK_SUCCESS(syscall(SYS_capget, &hdr, data));
    TEST_CHECK(data[0].effective == 0 && data[0].permitted == 0);
    TEST_CHECK(data[1].effective == 0 && data[1].permitted == 0);
    data[0].effective = data[0].permitted = 1u << CAP_SETUID;
    TEST_CHECK_ERRNO(syscall(SYS_capset, &hdr, data), EPERM);
  }),
              ExitedWithCode(0));
}

}  // namespace
}  // namespace systest
