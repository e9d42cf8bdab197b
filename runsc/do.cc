// runsc do CMD [ARGS...]: run a host command in a fresh sandbox whose root
// file system is the host's "/" (read-only, through the Gofer) under an
// in-memory overlay.
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "absl/strings/str_format.h"
#include "runsc/flags.h"
#include "runsc/launch.h"
#include "runsc/runsc.pb.h"

extern char** environ;

namespace runsc {
namespace {

[[noreturn]] void Die(const std::string& msg) {
  fprintf(stderr, "runsc: %s\n", msg.c_str());
  _exit(125);
}

// A fresh open file description for stdio fd `fd` when it is a tty or a
// FIFO, so the Sentry can make it non-blocking without affecting the
// caller's shell. Regular files and sockets are dup'ed: a regular file's
// offset must stay shared with the caller, as for a native child.
int ReopenStdio(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return -1;
  int flags = fcntl(fd, F_GETFL);
  if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
    std::string p = absl::StrFormat("/proc/self/fd/%d", fd);
    int nfd = open(p.c_str(), (flags & (O_ACCMODE | O_APPEND)) | O_CLOEXEC | O_NOCTTY);
    if (nfd >= 0) return nfd;
  }
  return fcntl(fd, F_DUPFD_CLOEXEC, 10);
}

}  // namespace

int RunDo(const GlobalFlags& g, const std::vector<std::string>& cmd) {
  if (cmd.empty()) Die("do: no command given");
  if (g.network != "none") {
    Die(absl::StrFormat("--network=%s is not supported yet; only --network=none", g.network));
  }
  std::string platform = g.platform.empty() ? DefaultPlatform() : g.platform;
  if (auto s = CheckPlatform(platform); !s.ok()) Die(std::string(s.message()));

  BootSpec spec;
  for (const auto& a : cmd) spec.add_argv(a);
  for (char** e = environ; *e; e++) spec.add_env(*e);
  char cwd[PATH_MAX];
  spec.set_cwd(getcwd(cwd, sizeof(cwd)) ? cwd : "/");
  spec.set_uid(getuid());
  spec.set_gid(getgid());
  spec.set_platform(platform);
  spec.set_strace(g.strace);
  spec.set_debug(g.debug);
  spec.set_overlay(true);
  spec.set_stdio_count(3);
  mode_t um = umask(022);
  umask(um);
  spec.set_umask(um);
  for (int r : {RLIMIT_NOFILE, RLIMIT_STACK, RLIMIT_CORE, RLIMIT_NPROC}) {
    struct rlimit l;
    getrlimit(r, &l);
    Rlimit* pl = spec.add_rlimits();
    pl->set_resource(r);
    pl->set_cur(l.rlim_cur);
    pl->set_max(l.rlim_max);
  }
  char host[65] = {};
  gethostname(host, sizeof(host) - 1);
  spec.set_hostname(host);

  int log_fd = -1;
  if (!g.debug_log.empty()) {
    log_fd = open(g.debug_log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) Die(absl::StrFormat("open %s: %s", g.debug_log, strerror(errno)));
  } else {
    log_fd = fcntl(2, F_DUPFD_CLOEXEC, 10);
  }

  // Terminal signals reach the Sentry directly (same process group); others
  // sent to runsc are forwarded. Block them so runsc itself survives.
  sigset_t fwd;
  sigemptyset(&fwd);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD, SIGWINCH, SIGCONT}) {
    sigaddset(&fwd, s);
  }
  sigprocmask(SIG_BLOCK, &fwd, nullptr);

  LaunchOptions lo;
  lo.spec = std::move(spec);
  lo.stdio = {ReopenStdio(0), ReopenStdio(1), ReopenStdio(2)};
  lo.log_fd = log_fd;
  auto launched = LaunchSandbox(g, lo);
  if (!launched.ok()) Die(std::string(launched.status().message()));
  const pid_t gofer = launched->gofer, sentry = launched->sentry;
  for (int fd : lo.stdio) {
    if (fd >= 0) close(fd);
  }

  int status = 0;
  for (;;) {
    siginfo_t si;
    int sig = sigwaitinfo(&fwd, &si);
    if (sig == SIGCHLD) {
      pid_t r = waitpid(sentry, &status, WNOHANG);
      if (r == sentry) break;
      waitpid(gofer, nullptr, WNOHANG);
      continue;
    }
    // Kernel-generated signals (the terminal's ^C) already reached the
    // Sentry itself; forward only those sent to runsc by someone.
    if (sig > 0 && si.si_code != SI_KERNEL) kill(sentry, sig);
  }
  kill(gofer, SIGKILL);
  waitpid(gofer, nullptr, 0);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) {
    fprintf(stderr, "runsc: the sandbox kernel died with signal %d\n", WTERMSIG(status));
    return 128 + WTERMSIG(status);
  }
  return 125;
}

}  // namespace runsc
