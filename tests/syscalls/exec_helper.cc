// A tiny program that the execve tests run (process_test.cc). It reports
// what it was started with so the parent can check the kernel passed it on:
//   exec_helper fds N M ...   exits with bit i set if fd argv[2+i] is open
//   exec_helper exit N        exits with status N
//   exec_helper ...           writes each argv element, then "--env--", then
//                             each environment entry, one per line, to stdout
// It uses only raw syscalls through libc and is linked statically so that it
// needs no dynamic loader.

#include <fcntl.h>
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
