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
#include "platform/systrap/systrap.h"
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

// Moves `fds` to 0..n-1 and execs; never returns.
[[noreturn]] void ExecWithFds(const std::vector<int>& fds, const std::vector<std::string>& argv) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  // Move everything above the target range first so dup2 never clobbers.
  std::vector<int> high;
  for (int f : fds) high.push_back(f < 0 ? -1 : fcntl(f, F_DUPFD, 100));
  for (size_t i = 0; i < high.size(); i++) {
    if (high[i] >= 0) dup2(high[i], static_cast<int>(i));
  }
  syscall(SYS_close_range, fds.size(), ~0u, 0);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  std::vector<char*> av;
  for (const auto& s : argv) av.push_back(const_cast<char*>(s.c_str()));
  av.push_back(nullptr);
  execve(SelfExe().c_str(), av.data(), environ);
  fprintf(stderr, "runsc: exec %s: %s\n", SelfExe().c_str(), strerror(errno));
  _exit(125);
}

}  // namespace

int RunDo(const GlobalFlags& g, const std::vector<std::string>& cmd) {
  if (cmd.empty()) Die("do: no command given");
  if (g.network != "none") {
    Die(absl::StrFormat("--network=%s is not supported yet; only --network=none", g.network));
  }
  std::string platform = g.platform.empty() ? DefaultPlatform() : g.platform;
  if (platform != "ptrace" && platform != "systrap") {
    Die(absl::StrFormat("unknown platform %s (ptrace, systrap)", platform));
  }
  if (platform == "systrap") {
    if (auto s = sentry::systrap::SystrapPlatform::Probe(); !s.ok()) {
      Die(absl::StrFormat("platform systrap is not usable here: %s", std::string(s.message())));
    }
  }

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

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) Die("socketpair");
  int spec_pipe[2];
  if (pipe2(spec_pipe, O_CLOEXEC) != 0) Die("pipe");

  // Terminal signals reach the Sentry directly (same process group); others
  // sent to runsc are forwarded. Block them so runsc itself survives.
  sigset_t fwd;
  sigemptyset(&fwd);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD, SIGWINCH, SIGCONT}) {
    sigaddset(&fwd, s);
  }
  sigprocmask(SIG_BLOCK, &fwd, nullptr);

  pid_t gofer = fork();
  if (gofer < 0) Die("fork gofer");
  if (gofer == 0) {
    std::vector<std::string> argv = {"runsc"};
    if (g.debug) argv.push_back("--debug");
    argv.insert(argv.end(), {"gofer", "--root=/", "--read-only", "--sock-fd=0", "--log-fd=1"});
    ExecWithFds({sv[1], log_fd}, argv);
  }
  close(sv[1]);

  int in = ReopenStdio(0), out = ReopenStdio(1), err = ReopenStdio(2);
  long flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET | SIGCHLD;
  pid_t sentry = static_cast<pid_t>(syscall(SYS_clone, flags, 0, 0, 0, 0));
  if (sentry < 0) Die(absl::StrFormat("cannot create the sandbox namespaces: %s", strerror(errno)));
  if (sentry == 0) {
    std::vector<std::string> argv = {"runsc", "boot", "--gofer-fd=3", "--spec-fd=4", "--log-fd=5"};
    ExecWithFds({in, out, err, sv[0], spec_pipe[0], log_fd}, argv);
  }
  close(sv[0]);
  close(spec_pipe[0]);
  std::string data;
  spec.SerializeToString(&data);
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = write(spec_pipe[1], data.data() + off, data.size() - off);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  close(spec_pipe[1]);

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
