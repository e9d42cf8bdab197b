#include "runsc/launch.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "absl/strings/str_format.h"
#include "platform/systrap/systrap.h"

extern char** environ;

namespace runsc {
namespace {

// Moves `fds` to 0..n-1 and execs runsc with `argv`; never returns.
[[noreturn]] void ExecWithFds(const std::vector<int>& fds, const std::vector<std::string>& argv,
                              bool tie_to_caller) {
  if (tie_to_caller) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
  } else {
    // Outliving the caller: out of its session, so its terminal's signals
    // and hang-up do not reach the sandbox.
    setsid();
  }
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

absl::Status CheckPlatform(const std::string& platform) {
  if (platform != "ptrace" && platform != "systrap") {
    return absl::InvalidArgumentError(
        absl::StrFormat("unknown platform %s (ptrace, systrap)", platform));
  }
  if (platform == "systrap") {
    if (auto s = sentry::systrap::SystrapPlatform::Probe(); !s.ok()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "platform systrap is not usable here: %s", std::string(s.message())));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Launched> LaunchSandbox(const GlobalFlags& g, const LaunchOptions& o) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    return absl::InternalError(absl::StrFormat("socketpair: %s", strerror(errno)));
  }
  // One more gofer socket per bind mount (the Sentry's client per mount).
  std::vector<int> bind_sentry, bind_gofer;
  for (int i = 0; i < o.spec.binds_size(); i++) {
    int b[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, b) != 0) {
      return absl::InternalError(absl::StrFormat("socketpair: %s", strerror(errno)));
    }
    bind_sentry.push_back(b[0]);
    bind_gofer.push_back(b[1]);
  }
  auto close_all = [](const std::vector<int>& v) {
    for (int fd : v) close(fd);
  };
  int spec_pipe[2];
  if (pipe2(spec_pipe, O_CLOEXEC) != 0) {
    close(sv[0]);
    close(sv[1]);
    return absl::InternalError(absl::StrFormat("pipe: %s", strerror(errno)));
  }
  Launched l;
  l.gofer = fork();
  if (l.gofer < 0) return absl::InternalError(absl::StrFormat("fork: %s", strerror(errno)));
  if (l.gofer == 0) {
    std::vector<std::string> argv = {"runsc"};
    if (g.debug) argv.push_back("--debug");
    argv.insert(argv.end(), {"gofer", "--root=" + o.gofer_root, "--sock-fd=0", "--log-fd=1"});
    if (o.gofer_read_only) argv.push_back("--read-only");
    if (!o.tie_to_caller) argv.push_back("--detached");
    std::vector<int> fds = {sv[1], o.log_fd};
    for (size_t i = 0; i < bind_gofer.size(); i++) {
      argv.push_back(absl::StrFormat("--sock-fd=%d", fds.size()));
      fds.push_back(bind_gofer[i]);
      const BindMount& b = o.spec.binds(static_cast<int>(i));
      argv.push_back(absl::StrFormat("--bind=%s:%s", b.read_only() ? "ro" : "rw", b.source()));
    }
    ExecWithFds(fds, argv, o.tie_to_caller);
  }
  close(sv[1]);
  close_all(bind_gofer);

  long flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET | SIGCHLD;
  l.sentry = static_cast<pid_t>(syscall(SYS_clone, flags, 0, 0, 0, 0));
  if (l.sentry < 0) {
    int e = errno;
    kill(l.gofer, SIGKILL);
    close(sv[0]);
    close(spec_pipe[0]);
    close(spec_pipe[1]);
    return absl::FailedPreconditionError(
        absl::StrFormat("cannot create the sandbox namespaces: %s", strerror(e)));
  }
  if (l.sentry == 0) {
    std::vector<int> fds = o.stdio;
    fds.resize(3, -1);
    fds.insert(fds.end(),
               {sv[0], spec_pipe[0], o.log_fd, o.start_fd, o.control_fd, o.ready_fd});
    std::vector<std::string> argv = {"runsc", "boot", "--gofer-fd=3", "--spec-fd=4",
                                     "--log-fd=5"};
    if (o.start_fd >= 0) argv.push_back("--start-fd=6");
    if (o.control_fd >= 0) argv.push_back("--control-fd=7");
    if (o.ready_fd >= 0) argv.push_back("--ready-fd=8");
    for (int b : bind_sentry) {
      argv.push_back(absl::StrFormat("--bind-fd=%d", fds.size()));
      fds.push_back(b);
    }
    ExecWithFds(fds, argv, o.tie_to_caller);
  }
  close(sv[0]);
  close_all(bind_sentry);
  close(spec_pipe[0]);
  std::string data;
  o.spec.SerializeToString(&data);
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = write(spec_pipe[1], data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  close(spec_pipe[1]);
  return l;
}

}  // namespace runsc
