// Random syscalls with hostile arguments, run inside the sandbox: the
// sandboxed program may crash (each batch runs in a child), but the Sentry
// must answer every call and survive. Deterministic for a given seed.
//
// Usage: syscall_fuzz [seed] [batches] [calls per batch]
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static uint64_t g_state;
static uint64_t Rand(void) {
  g_state ^= g_state << 13;
  g_state ^= g_state >> 7;
  g_state ^= g_state << 17;
  return g_state;
}

// Interesting argument values: small numbers, fds, flag-like bits,
// boundaries, kernel and non-canonical addresses, and real pointers into
// a scratch buffer (some near its end).
static char g_buf[1 << 16];
static uint64_t Arg(void) {
  switch (Rand() % 12) {
    case 0: return 0;
    case 1: return Rand() % 16;
    case 2: return (uint64_t)-1;
    case 3: return 1ull << (Rand() % 64);
    case 4: return (uint64_t)(uintptr_t)g_buf + Rand() % sizeof(g_buf);
    case 5: return (uint64_t)(uintptr_t)g_buf + sizeof(g_buf) - Rand() % 64;
    case 6: return 0xffff800000000000ull + (Rand() % 4096);
    case 7: return 0x00007ffffffff000ull + Rand() % 8192;
    case 8: return 0x800000000000ull;
    case 9: return Rand() % 4096;
    case 10: return Rand() % 0x10000;
    default: return Rand();
  }
}

// Calls that would end the fuzzing itself, or only fork bombs / wait
// forever, are left out; everything else is fair game.
static int Skip(long nr) {
  switch (nr) {
    case SYS_exit: case SYS_exit_group: case SYS_rt_sigreturn: case SYS_execve:
    case SYS_execveat: case SYS_fork: case SYS_vfork: case SYS_clone: case SYS_clone3:
    case SYS_pause: case SYS_rt_sigsuspend: case SYS_kill: case SYS_tkill: case SYS_tgkill:
    case SYS_rt_sigqueueinfo: case SYS_rt_tgsigqueueinfo: case SYS_nanosleep:
    case SYS_clock_nanosleep: case SYS_wait4: case SYS_waitid: case SYS_futex:
    case SYS_select: case SYS_pselect6: case SYS_poll: case SYS_ppoll: case SYS_epoll_wait:
    case SYS_epoll_pwait: case SYS_epoll_pwait2: case SYS_rt_sigtimedwait: case SYS_alarm:
    case SYS_setitimer: case SYS_read: case SYS_readv: case SYS_recvfrom: case SYS_recvmsg:
    case SYS_accept: case SYS_accept4: case SYS_msgrcv: case SYS_semop: case SYS_semtimedop:
    case SYS_munmap: case SYS_mremap: case SYS_brk: case SYS_mprotect: case SYS_madvise:
    case SYS_arch_prctl: case SYS_prctl: case SYS_setrlimit: case SYS_prlimit64:
    case SYS_sigaltstack: case SYS_rt_sigaction: case SYS_rt_sigprocmask: case SYS_close:
    case SYS_close_range: case SYS_dup2: case SYS_dup3: case SYS_setsid: case SYS_setpgid:
    case SYS_setuid: case SYS_setgid: case SYS_setreuid: case SYS_setregid: case SYS_setresuid:
    case SYS_setresgid: case SYS_capset: case SYS_chroot: case SYS_set_tid_address:
    case SYS_set_robust_list: case SYS_restart_syscall: case SYS_sched_setaffinity:
    case SYS_sched_setscheduler: case SYS_flock: case SYS_fcntl: case SYS_chdir: case SYS_fchdir:
      return 1;
    default:
      return 0;
  }
}

int main(int argc, char** argv) {
  uint64_t seed = argc > 1 ? strtoull(argv[1], 0, 0) : 1;
  int batches = argc > 2 ? atoi(argv[2]) : 50;
  int calls = argc > 3 ? atoi(argv[3]) : 400;
  setvbuf(stdout, NULL, _IONBF, 0);
  int crashed = 0;
  for (int b = 0; b < batches; b++) {
    pid_t p = fork();
    if (p < 0) {
      perror("fork");
      return 2;
    }
    if (p == 0) {
      // Random writes to fds 0-2 would flood the terminal: point them at
      // /dev/null (the calls still exercise the same code).
      int null = open("/dev/null", O_RDWR);
      for (int fd = 0; fd < 3; fd++) dup2(null, fd);
      g_state = seed * 0x9e3779b97f4a7c15ull + (uint64_t)b + 1;
      alarm(20);
      for (int i = 0; i < calls; i++) {
        long nr = (long)(Rand() % 460);
        if (Skip(nr)) continue;
        syscall(nr, Arg(), Arg(), Arg(), Arg(), Arg(), Arg());
      }
      _exit(0);
    }
    int st;
    if (waitpid(p, &st, 0) != p) {
      perror("waitpid");
      return 2;
    }
    if (!WIFEXITED(st)) crashed++;
  }
  // The Sentry answered everything if we get here; children dying from
  // their own bad calls is fine.
  printf("fuzzed %d batches of %d calls (seed %llu); %d children died\n", batches, calls,
         (unsigned long long)seed, crashed);
  return 0;
}
