// A tiny program that the execve tests run (process_test.cc). It reports
// what it was started with so the parent can check the kernel passed it on:
//   exec_helper fds N M ...   exits with bit i set if fd argv[2+i] is open
//   exec_helper exit N        exits with status N
//   exec_helper sigs          exits with bit 0 set if SIGUSR1 is ignored,
//                             bit 1 if SIGUSR2 has the default action,
//                             bit 2 if SIGTERM is blocked, bit 3 if SIGINT
//                             is pending
//   exec_helper ids           writes "pid ppid" to stdout
//   exec_helper wait          reads stdin until EOF, then exits 0
//   exec_helper ...           writes each argv element, then "--env--", then
//                             each environment entry, one per line, to stdout
// It uses only raw syscalls through libc and is linked statically so that it
// needs no dynamic loader.

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char** environ;

namespace {

void Put(const char* s) {
  size_t len = strlen(s);
  while (len > 0) {
    ssize_t n = write(STDOUT_FILENO, s, len);
    if (n <= 0) _exit(100);
    s += n;
    len -= static_cast<size_t>(n);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && strcmp(argv[1], "fds") == 0) {
    int bits = 0;
    for (int i = 2; i < argc && i - 2 < 7; ++i) {
      if (fcntl(atoi(argv[i]), F_GETFD) != -1) bits |= 1 << (i - 2);
    }
    return bits;
  }
  if (argc == 3 && strcmp(argv[1], "exit") == 0) return atoi(argv[2]);
  if (argc == 2 && strcmp(argv[1], "sigs") == 0) {
    int bits = 0;
    struct sigaction sa;
    if (sigaction(SIGUSR1, nullptr, &sa) == 0 && sa.sa_handler == SIG_IGN) {
      bits |= 1;
    }
    if (sigaction(SIGUSR2, nullptr, &sa) == 0 && sa.sa_handler == SIG_DFL) {
      bits |= 2;
    }
    sigset_t set;
    if (sigprocmask(SIG_SETMASK, nullptr, &set) == 0 &&
        sigismember(&set, SIGTERM)) {
      bits |= 4;
    }
    if (sigpending(&set) == 0 && sigismember(&set, SIGINT)) bits |= 8;
    return bits;
  }
  if (argc == 2 && strcmp(argv[1], "wait") == 0) {
    char buf[64];
    while (read(STDIN_FILENO, buf, sizeof(buf)) > 0) {
    }
    return 0;
  }
  if (argc == 2 && strcmp(argv[1], "ids") == 0) {
    char buf[64];
    snprintf(buf, sizeof(buf), "%d %d", static_cast<int>(getpid()),
             static_cast<int>(getppid()));
    Put(buf);
    return 0;
  }
  for (int i = 0; i < argc; ++i) {
    Put(argv[i]);
    Put("\n");
  }
  Put("--env--\n");
  for (char** e = environ; *e != nullptr; ++e) {
    Put(*e);
    Put("\n");
  }
  return 0;
}
