// The Sentry's host syscall allowlist. Every rule says why the Sentry
// needs it; nothing here opens a host path.
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <termios.h>

#include "fs/host/host_file.h"
#include "runsc/control.h"
#include "runsc/seccomp.h"

namespace runsc {

std::vector<SeccompRule> SentryRules(const std::string& platform) {
  constexpr uint64_t kAll = ~uint64_t{0};
  constexpr uint64_t kThreadFlags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
                                    CLONE_THREAD | CLONE_SYSVSEM | CLONE_SETTLS |
                                    CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
  std::vector<SeccompRule> r = {
      {"read", {}, "file data from gofer-donated fds, host stdio, internal pipes"},
      {"write", {}, "file data to donated fds and host stdio; the debug log"},
      {"pread64", {}, "file data at an offset (gofer files, page cache fills)"},
      {"pwrite64", {}, "file data at an offset (writable gofer files)"},
      {"readv", {}, "vectored reads of donated fds"},
      {"writev", {}, "vectored writes of donated fds"},
      {"close", {}, "dropping donated and internal fds"},
      {"lseek", {}, "positions of host files passed as stdio"},
      {"newfstatat", {{3, AT_EMPTY_PATH, AT_EMPTY_PATH}}, "fstat() of donated fds only (AT_EMPTY_PATH)"},
      {"fcntl", {{1, kAll, F_GETFL}}, "reading host fd status flags"},
      {"fcntl", {{1, kAll, F_SETFL}}, "making host stdio non-blocking"},
      {"fallocate", {{1, kAll, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE}},
       "returning freed application memory to the host (MemoryFile holes)"},
      {"mmap", {{2, PROT_EXEC, 0}}, "Sentry heap, thread stacks, page-cache windows (never executable)"},
      {"mprotect", {{2, PROT_EXEC, 0}}, "guard pages of Sentry thread stacks (never executable)"},
      {"munmap", {}, "releasing Sentry memory"},
      {"mremap", {}, "growing Sentry heap blocks (glibc realloc)"},
      {"madvise", {}, "releasing Sentry memory (glibc malloc trimming)"},
      {"brk", {}, "the Sentry's own heap (glibc malloc)"},
      {"futex", {}, "Sentry locks and task sleeps"},
      {"set_robust_list", {}, "glibc sets it for every new Sentry thread"},
      {"rseq", {}, "glibc registers restartable sequences for new Sentry threads"},
      {"clone", {{0, kAll, kThreadFlags}}, "new Sentry threads (one per task, and the network stack's timer thread), nothing else"},
      {"clone3", {}, "forces glibc back to clone(2), whose flags a filter can check", ENOSYS},
      {"exit", {}, "Sentry thread exit"},
      {"exit_group", {}, "Sentry exit"},
      {"rt_sigaction", {}, "Sentry signal handlers (forwarding host signals, abort)"},
      {"rt_sigprocmask", {}, "blocking host signals in Sentry threads"},
      {"rt_sigreturn", {}, "returning from Sentry signal handlers"},
      {"rt_sigtimedwait", {}, "the thread that forwards host signals to the sandbox"},
      {"sched_yield", {}, "spinning briefly before sleeping"},
      {"sched_getparam", {}, "Abseil's Mutex reads the thread's priority when it must block"},
      {"sched_getscheduler", {}, "Abseil's Mutex reads the thread's policy when it must block"},
      {"ftruncate", {}, "growing the page cache file of a writable gofer file (writable mounts)"},
      {"fsync", {}, "fsync(2) of files on writable gofer mounts"},
      {"sched_getaffinity", {}, "sizing worker pools"},
      {"sched_setaffinity", {}, "keeping a stub thread and its Sentry thread on chosen CPUs"},
      {"getpid", {}, "the Sentry's own pid (abort, logging)"},
      {"gettid", {}, "logging the host thread"},
      {"tgkill", {{2, kAll, SIGABRT}}, "abort() on a broken Sentry invariant"},
      {"clock_gettime", {}, "time for the sandbox (the vDSO falls back to it on some clock sources)"},
      {"clock_nanosleep", {}, "timed waits"},
      {"nanosleep", {}, "timed waits"},
      {"gettimeofday", {}, "time for the sandbox"},
      {"getrandom", {}, "randomness for the sandbox (AT_RANDOM, /dev/urandom, ASLR)"},
      {"sysinfo", {}, "sysinfo(2) for the sandbox (host memory size)"},
      {"getcpu", {}, "getcpu(2) for the sandbox"},
      {"sendmsg", {}, "requests to the gofer"},
      {"recvmsg", {}, "replies and donated fds from the gofer; exec requests"},
      {"accept4", {{0, kAll, static_cast<uint64_t>(kControlFd)}},
       "runsc exec connections, on the control socket's fd only"},
      {"epoll_create1", {}, "the host fd notifier"},
      {"epoll_ctl", {}, "watching host stdio for readiness"},
      {"epoll_wait", {}, "the host fd notifier thread"},
      {"poll", {}, "readiness of host stdio"},
      {"restart_syscall", {}, "host restarts of interrupted Sentry sleeps"},
  };
  for (unsigned long req : sentry::vfs::HostTtyIoctls()) {
    r.push_back({"ioctl", {{1, kAll, req}}, "terminal requests forwarded to a host tty"});
  }
  if (platform == "systrap") {
    r.push_back({"tgkill", {{2, kAll, 0}}, "systrap: checking that a stub thread is still alive"});
  }
  if (platform == "ptrace" || platform == "systrap") {
    r.push_back({"ptrace", {}, "running stub threads (ptrace), setting up new stubs (systrap)"});
    r.push_back({"wait4", {}, "stub thread stops under ptrace"});
    r.push_back({"tgkill", {{2, kAll, SIGCHLD}}, "interrupting a running stub thread"});
    r.push_back({"kill", {{1, kAll, SIGKILL}}, "destroying a stub process"});
  }
  return r;
}

}  // namespace runsc
