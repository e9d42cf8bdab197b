// seccomp(2) and prctl(PR_SET/GET_SECCOMP): verdicts, argument filtering,
// SIGSYS traps, strict mode, precedence, inheritance and errors. Process
// and thread kills and TSYNC are in seccomp_threads_test.cc.
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <ucontext.h>

#include <fstream>
#include <sstream>
#include <string>

#include "seccomp_util.h"
#include "test_util.h"

namespace systest {
namespace {

void SetNoNewPrivs() { TEST_CHECK_SUCCESS(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)); }

// Children expected to die of SIGSYS (a core-dumping signal) leave no core.
void NoCoreDumps() {
  struct rlimit none = {0, 0};
  TEST_CHECK_SUCCESS(setrlimit(RLIMIT_CORE, &none));
}

TEST(SeccompTest, ErrnoForOneSyscallOthersWork) {
  EXPECT_THAT(ForkAndWait([] {
    SetNoNewPrivs();
    TEST_CHECK_SUCCESS(InstallFilter(OnSyscall(SYS_getppid, SECCOMP_RET_ERRNO | ENOMSG)));
    TEST_CHECK_ERRNO(syscall(SYS_getppid), ENOMSG);
    TEST_CHECK(syscall(SYS_getpid) > 0);
    TEST_CHECK(write(STDOUT_FILENO, "", 0) == 0);
  }),
              ExitedWithCode(0));
}

TEST(SeccompTest, ErrnoDataIsCappedAndZeroSkipsTheSyscall) {
  EXPECT_THAT(ForkAndWait([] {
    SetNoNewPrivs();
    TEST_CHECK_SUCCESS(InstallFilter(OnSyscall(SYS_getppid, SECCOMP_RET_ERRNO | 0xffff)));
    TEST_CHECK_ERRNO(syscall(SYS_getppid), 4095);  // MAX_ERRNO
    // ERRNO with data 0 "succeeds" with 0 and never runs the syscall.
    TEST_CHECK_SUCCESS(InstallFilter(OnSyscall(SYS_dup, SECCOMP_RET_ERRNO | 0)));
    TEST_CHECK(syscall(SYS_dup, 0) == 0);
  }),
              ExitedWithCode(0));
}

TEST(SeccompTest, FiltersOnArguments) {
  // Only fcntl(F_SETFL) is refused: args[1] (both halves) picks it.
  const BpfProgram p = {
      BpfStmt(BPF_LD | BPF_W | BPF_ABS, kNrOffset),
      BpfJump(BPF_JMP | BPF_JEQ | BPF_K, SYS_fcntl, 0, 5),
      BpfStmt(BPF_LD | BPF_W | BPF_ABS, ArgHighOffset(1)),
      BpfJump(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 3),
      BpfStmt(BPF_LD | BPF_W | BPF_ABS, ArgLowOffset(1)),
      BpfJump(BPF_JMP | BPF_JEQ | BPF_K, F_SETFL, 0, 1),
      BpfStmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
      BpfStmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  EXPECT_THAT(ForkAndWait([&] {
    Pipe pipe = MakePipe();
    SetNoNewPrivs();
    TEST_CHECK_SUCCESS(InstallFilter(p));
    const int fd = pipe.read_end.get();
    TEST_CHECK(fcntl(fd, F_GETFD) >= 0);
    TEST_CHECK(fcntl(fd, F_GETFL) >= 0);
    TEST_CHECK_ERRNO(fcntl(fd, F_SETFL, O_NONBLOCK), EPERM);
    TEST_CHECK((fcntl(fd, F_GETFL) & O_NONBLOCK) == 0);
    // A high half that differs does not match the filter; the kernel then
    // takes only the low 32 bits of the command.
    TEST_CHECK(syscall(SYS_fcntl, fd, (1ULL << 32) | F_SETFL, O_NONBLOCK) == 0);
    TEST_CHECK((fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
  }),
              ExitedWithCode(0));
}

// si_code of a seccomp SIGSYS (asm-generic/siginfo.h; glibc lacks it).
constexpr int kSysSeccomp = 1;

struct TrapRecord {
  int signo, code, syscall_nr, errno_value;
  unsigned arch;
  void* call_addr;
  greg_t rip, rax;
};
TrapRecord g_trap;

void OnSigsys(int sig, siginfo_t* si, void* uc_void) {
  auto* uc = static_cast<ucontext_t*>(uc_void);
  g_trap = {sig, si->si_code, si->si_syscall, si->si_errno, si->si_arch, si->si_call_addr,
            uc->uc_mcontext.gregs[REG_RIP], uc->uc_mcontext.gregs[REG_RAX]};
  // Emulate the syscall: its result is whatever rax holds on return.
  uc->uc_mcontext.gregs[REG_RAX] = 12345;
}

TEST(SeccompTest, TrapDeliversSigsysAndSkipsTheSyscall) {
  EXPECT_THAT(ForkAndWait([] {
    struct sigaction sa = {};
    sa.sa_sigaction = OnSigsys;
    sa.sa_flags = SA_SIGINFO;
    TEST_CHECK_SUCCESS(sigaction(SIGSYS, &sa, nullptr));
    // The lowest free fd: dup would return it if it ran.
    int next_fd = dup(0);
    TEST_CHECK(next_fd >= 0);
    close(next_fd);
    SetNoNewPrivs();
    TEST_CHECK_SUCCESS(InstallFilter(OnSyscall(SYS_dup, SECCOMP_RET_TRAP | 77)));
    TEST_CHECK(syscall(SYS_dup, 0) == 12345);
    TEST_CHECK_ERRNO(fcntl(next_fd, F_GETFD), EBADF);
    TEST_CHECK(g_trap.signo == SIGSYS);
    TEST_CHECK(g_trap.code == kSysSeccomp);
    TEST_CHECK(g_trap.syscall_nr == SYS_dup);
    TEST_CHECK(g_trap.arch == AUDIT_ARCH_X86_64);
    TEST_CHECK(g_trap.errno_value == 77);
    // si_call_addr is the address after the syscall instruction, where the
    // handler returns to; rax was rolled back to the syscall number.
    TEST_CHECK(reinterpret_cast<greg_t>(g_trap.call_addr) == g_trap.rip);
    TEST_CHECK(g_trap.rax == SYS_dup);
  }),
              ExitedWithCode(0));
}

TEST(SeccompTest, TrapWithSigsysBlockedKills) {
  // force_sig_info(): a blocked SIGSYS is unblocked and its action reset.
  EXPECT_THAT(ForkAndWait([] {
    struct sigaction sa = {};
    sa.sa_sigaction = OnSigsys;
    sa.sa_flags = SA_SIGINFO;
    TEST_CHECK_SUCCESS(sigaction(SIGSYS, &sa, nullptr));
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGSYS);
    TEST_CHECK_SUCCESS(sigprocmask(SIG_BLOCK, &set, nullptr));
    NoCoreDumps();
    SetNoNewPrivs();
    TEST_CHECK_SUCCESS(InstallFilter(OnSyscall(SYS_getppid, SECCOMP_RET_TRAP)));
    syscall(SYS_getppid);
    _exit(3);
  }),
              KilledBySignal(SIGSYS));
}

TEST(SeccompTest, TraceWithoutTracerFailsWithEnosysAndLogAllows) {
  EXPECT_THAT(ForkAndWait([] {
    SetNoNewPrivs();
    TEST_CHECK_SUCCESS(InstallFilter(OnSyscall(SYS_getppid, SECCOMP_RET_TRACE | 5)));
    TEST_CHECK_ERRNO(syscall(SYS_getppid), ENOSYS);
    TEST_CHECK_SUCCESS(InstallFilter(OnSyscall(SYS_getpid, SECCOMP_RET_LOG)));
    TEST_CHECK(syscall(SYS_getpid) > 0);
  }),
              ExitedWithCode(0));
}

TEST(SeccompTest, PrecedenceAcrossFilters) {
  EXPECT_THAT(ForkAndWait([] {
    NoCoreDumps();
    SetNoNewPrivs();
    TEST_CHECK_SUCCESS(InstallFilter(OnSyscall(SYS_getppid, SECCOMP_RET_ERRNO | 1)));
    TEST_CHECK_ERRNO(syscall(SYS_getppid), 1);
    // Same action: the newest filter's data wins.
    TEST_CHECK_SUCCESS(InstallFilterPrctl(OnSyscall(SYS_getppid, SECCOMP_RET_ERRNO | 2)));
    TEST_CHECK_ERRNO(syscall(SYS_getppid), 2);
    // A newer ALLOW or LOG cannot undo an older ERRNO.
    TEST_CHECK_SUCCESS(InstallFilter(AllowAll()));
    TEST_CHECK_SUCCESS(InstallFilter(OnSyscall(SYS_getppid, SECCOMP_RET_LOG)));
    TEST_CHECK_ERRNO(syscall(SYS_getppid), 2);
    // ERRNO beats TRACE, whichever is newer.
    TEST_CHECK_SUCCESS(InstallFilter(OnSyscall(SYS_getppid, SECCOMP_RET_TRACE)));
    TEST_CHECK_ERRNO(syscall(SYS_getppid), 2);
    TEST_CHECK(prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == SECCOMP_MODE_FILTER);
    // KILL_PROCESS beats everything.
    TEST_CHECK_SUCCESS(InstallFilter(OnSyscall(SYS_getppid, SECCOMP_RET_KILL_PROCESS)));
    syscall(SYS_getppid);
    _exit(3);
  }),
              KilledBySignal(SIGSYS));
}

TEST(SeccompTest, InheritedByForkAndKeptAcrossExec) {
  EXPECT_THAT(ForkAndWait([] {
    SetNoNewPrivs();
    TEST_CHECK_SUCCESS(InstallFilter(OnSyscall(SYS_getppid, SECCOMP_RET_ERRNO | EPERM)));
    pid_t pid = fork();
    TEST_CHECK(pid >= 0);
    if (pid == 0) {
      _exit(syscall(SYS_getppid) == -1 && errno == EPERM ? 0 : 1);
    }
    TEST_CHECK(WaitForStatus(pid) == 0);
  }),
              ExitedWithCode(0));
  // The exec'd program cannot exit_group: the filter came along.
  EXPECT_THAT(ForkAndWait([] {
    NoCoreDumps();
    SetNoNewPrivs();
    TEST_CHECK_SUCCESS(InstallFilter(OnSyscall(SYS_exit_group, SECCOMP_RET_KILL_PROCESS)));
    execl(SYSCALL_EXEC_HELPER, SYSCALL_EXEC_HELPER, "exit", "0", nullptr);
    _exit(5);
  }),
              KilledBySignal(SIGSYS));
}

TEST(SeccompTest, RestartedSyscallsGoThroughTheFilter) {
  // A sleep stopped and continued restarts through restart_syscall(2),
  // which is filtered like any syscall: here it fails with EPERM.
  Pipe ready = MakePipe();
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    alarm(kChildWatchdogSeconds);
    SetNoNewPrivs();
    TEST_CHECK_SUCCESS(InstallFilter(OnSyscall(SYS_restart_syscall, SECCOMP_RET_ERRNO | EPERM)));
    TEST_CHECK(write(ready.write_end.get(), "x", 1) == 1);
    struct timespec ts = {20, 0};
    long r = syscall(SYS_nanosleep, &ts, nullptr);
    _exit(r == -1 && errno == EPERM ? 0 : 10 + (r == 0 ? 0 : errno % 100));
  }
  ScopedChild child(pid);
  char c;
  ASSERT_THAT(read(ready.read_end.get(), &c, 1), SyscallSucceedsWithValue(1));
  // Let the child enter nanosleep.
  usleep(200 * 1000);
  ASSERT_THAT(kill(pid, SIGSTOP), SyscallSucceeds());
  int status;
  ASSERT_THAT(waitpid(pid, &status, WUNTRACED), SyscallSucceedsWithValue(pid));
  ASSERT_TRUE(WIFSTOPPED(status));
  ASSERT_THAT(kill(pid, SIGCONT), SyscallSucceeds());
  EXPECT_THAT(child.Wait(), ExitedWithCode(0));
}

TEST(SeccompTest, GetSeccompAndProcStatus) {
  EXPECT_THAT(prctl(PR_GET_SECCOMP, 0, 0, 0, 0), SyscallSucceedsWithValue(0));
  EXPECT_THAT(ForkAndWait([] {
    SetNoNewPrivs();
    TEST_CHECK_SUCCESS(InstallFilter(AllowAll()));
    TEST_CHECK_SUCCESS(InstallFilter(AllowAll()));
    TEST_CHECK(prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == SECCOMP_MODE_FILTER);
    std::ifstream in("/proc/self/status");
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string s = ss.str();
    TEST_CHECK(s.find("\nSeccomp:\t2\n") != std::string::npos);
    TEST_CHECK(s.find("\nSeccomp_filters:\t2\n") != std::string::npos);
  }),
              ExitedWithCode(0));
}

TEST(SeccompTest, StrictMode) {
  // read, write, _exit and rt_sigreturn work.
  EXPECT_THAT(ForkAndWait([] {
    Pipe p = MakePipe();
    TEST_CHECK_SUCCESS(syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, nullptr));
    char c = 'x';
    if (write(p.write_end.get(), &c, 1) != 1) syscall(SYS_exit, 10);
    if (read(p.read_end.get(), &c, 1) != 1) syscall(SYS_exit, 11);
    syscall(SYS_exit, 7);
  }),
              ExitedWithCode(7));
  // Anything else, prctl(PR_GET_SECCOMP) included, kills with SIGKILL.
  EXPECT_THAT(ForkAndWait([] {
    TEST_CHECK_SUCCESS(prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0));
    prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
    syscall(SYS_exit, 7);
  }),
              KilledBySignal(SIGKILL));
  // A task with filters cannot switch to strict mode.
  EXPECT_THAT(ForkAndWait([] {
    SetNoNewPrivs();
    TEST_CHECK_SUCCESS(InstallFilter(AllowAll()));
    TEST_CHECK_ERRNO(syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, nullptr), EINVAL);
  }),
              ExitedWithCode(0));
}

TEST(SeccompTest, NeedsNoNewPrivsOrCapSysAdmin) {
  EXPECT_THAT(ForkAndWait([] {
    DropPrivilegesInChild();
    TEST_CHECK_ERRNO(InstallFilter(AllowAll()), EACCES);
    TEST_CHECK_ERRNO(InstallFilterPrctl(AllowAll()), EACCES);
    SetNoNewPrivs();
    TEST_CHECK_SUCCESS(InstallFilter(AllowAll()));
  }),
              ExitedWithCode(0));
  if (geteuid() == 0) {
    // CAP_SYS_ADMIN is enough without no_new_privs.
    EXPECT_THAT(ForkAndWait([] { TEST_CHECK_SUCCESS(InstallFilter(AllowAll())); }),
                ExitedWithCode(0));
  }
}

TEST(SeccompTest, BadProgramsAndArguments) {
  EXPECT_THAT(ForkAndWait([] {
    SetNoNewPrivs();
    const sock_filter allow = BpfStmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    // Not an instruction seccomp allows; loads out of bounds or unaligned.
    TEST_CHECK_ERRNO(InstallFilter({BpfStmt(BPF_LD | BPF_B | BPF_ABS, 0), allow}), EINVAL);
    TEST_CHECK_ERRNO(InstallFilter({BpfStmt(0xffff, 0), allow}), EINVAL);
    TEST_CHECK_ERRNO(InstallFilter({BpfStmt(BPF_LD | BPF_W | BPF_ABS, 64), allow}), EINVAL);
    TEST_CHECK_ERRNO(InstallFilter({BpfStmt(BPF_LD | BPF_W | BPF_ABS, 1), allow}), EINVAL);
    // Jumps past the end; no RET at the end.
    TEST_CHECK_ERRNO(InstallFilter({BpfStmt(BPF_JMP | BPF_JA, 1), allow}), EINVAL);
    TEST_CHECK_ERRNO(InstallFilter({BpfJump(BPF_JMP | BPF_JEQ | BPF_K, 0, 2, 0), allow}),
                     EINVAL);
    TEST_CHECK_ERRNO(InstallFilter({allow, BpfStmt(BPF_LD | BPF_IMM, 0)}), EINVAL);
    // Empty, one instruction too many, and a NULL program.
    TEST_CHECK_ERRNO(InstallFilter({}), EINVAL);
    TEST_CHECK_ERRNO(InstallFilter(BpfProgram(BPF_MAXINSNS + 1, allow)), EINVAL);
    sock_fprog null_prog = {1, nullptr};
    TEST_CHECK_ERRNO(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &null_prog), EINVAL);
    TEST_CHECK_ERRNO(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &null_prog, 0, 0), EINVAL);
    // Bad pointers.
    TEST_CHECK_ERRNO(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, 8), EFAULT);
    sock_fprog bad_prog = {1, reinterpret_cast<sock_filter*>(8)};
    TEST_CHECK_ERRNO(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &bad_prog), EFAULT);
    // Bad operations, modes and flags.
    TEST_CHECK_ERRNO(syscall(SYS_seccomp, 99, 0, nullptr), EINVAL);
    TEST_CHECK_ERRNO(InstallFilter({allow}, 1u << 20), EINVAL);
    TEST_CHECK_ERRNO(syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 1, nullptr), EINVAL);
    TEST_CHECK_ERRNO(prctl(PR_SET_SECCOMP, 7, 0, 0, 0), EINVAL);
    // Nothing was installed by all that.
    TEST_CHECK(prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 0);
    // 4096 is the longest program. All filters of a task together are
    // capped at 32768 instructions of their eBPF translation, 4 more per
    // filter: 4096 RET K make 3 + 8192, so three fit and leave 8171 =
    // 3 + 2 * 4084.
    for (int i = 0; i < 3; i++) TEST_CHECK_SUCCESS(InstallFilter(BpfProgram(BPF_MAXINSNS, allow)));
    TEST_CHECK_ERRNO(InstallFilter(BpfProgram(BPF_MAXINSNS, allow)), ENOMEM);
    TEST_CHECK_ERRNO(InstallFilter(BpfProgram(4085, allow)), ENOMEM);
    TEST_CHECK_SUCCESS(InstallFilter(BpfProgram(4084, allow)));
  }),
              ExitedWithCode(0));
}

TEST(SeccompTest, ActionAvailAndNotifSizes) {
  for (uint32_t action : {SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD, SECCOMP_RET_TRAP,
                          SECCOMP_RET_ERRNO, SECCOMP_RET_TRACE, SECCOMP_RET_LOG,
                          SECCOMP_RET_ALLOW}) {
    EXPECT_THAT(syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action), SyscallSucceeds())
        << std::hex << action;
  }
  uint32_t bogus = 0x00010000;
  EXPECT_THAT(syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &bogus),
              SyscallFailsWithErrno(EOPNOTSUPP));
  uint32_t allow = SECCOMP_RET_ALLOW;
  EXPECT_THAT(syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 1, &allow),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, nullptr),
              SyscallFailsWithErrno(EFAULT));
  seccomp_notif_sizes sizes = {};
  ASSERT_THAT(syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes), SyscallSucceeds());
  EXPECT_EQ(sizes.seccomp_data, sizeof(seccomp_data));
  EXPECT_GE(sizes.seccomp_notif, sizeof(seccomp_notif));
  EXPECT_GE(sizes.seccomp_notif_resp, sizeof(seccomp_notif_resp));
}

}  // namespace
}  // namespace systest
