// runsc boot: the Sentry process. Everything before the seccomp filter is
// set up while the process can still see the host; then the sandbox runs
// with no host view, no capabilities and a small syscall allowlist.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "absl/strings/str_format.h"
#include "fs/host/host_file.h"
#include "platform/platform.h"
#include "runsc/control.h"
#include "runsc/flags.h"
#include "runsc/isolation.h"
#include "runsc/rootfs.h"
#include "runsc/runsc.pb.h"
#include "runsc/seccomp.h"
#include "sentry/base/host.h"
#include "sentry/base/log.h"
#include "sentry/kernel/kernel.h"
#include "sentry/mm/memory_file.h"

namespace runsc {
namespace {

// 1 TiB of (sparse) application memory address space in the MemoryFile.
constexpr uint64_t kMemoryFileSize = 1ull << 40;

const int kForwardedSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

bool ReadSpec(int fd, BootSpec* spec) {
  std::string data;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return spec->ParseFromString(data);
}

// Host signals sent to the Sentry go to the sandbox's init process group,
// as a terminal would deliver them (runsc do). A container's init (OCI) is
// signalled alone, and, as for a pid namespace's init signalled from an
// ancestor namespace, only if it handles the signal.
void ForwardSignals(sentry::Kernel* k, bool container_init) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : kForwardedSignals) sigaddset(&set, s);
  for (;;) {
    siginfo_t si;
    int sig = sigwaitinfo(&set, &si);
    if (sig <= 0) continue;
    absl::MutexLock l(&k->tasks_mu_);
    std::vector<sentry::ThreadGroup*> targets;
    if (container_init) {
      sentry::ThreadGroup* init = k->init_group();
      if (init == nullptr) continue;
      {
        absl::MutexLock sl(&init->sighand->mu);
        if (init->sighand->actions[static_cast<size_t>(sig)].handler == sentry::kSigDfl) continue;
      }
      targets.push_back(init);
    }
    sentry::ProcessGroup* pg = container_init ? nullptr : k->FindProcessGroupLocked(1);
    if (pg != nullptr) targets = pg->members;
    if (targets.empty() && k->init_group() != nullptr) targets.push_back(k->init_group());
    for (sentry::ThreadGroup* g : targets) {
      siginfo_t info = sentry::MakeSigInfo(sig, SI_USER);
      k->SendSignalLocked(g, nullptr, info);
    }
  }
}

int ExitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 125;
}

}  // namespace

int RunBoot(const BootFlags& b) {
  sentry::SetLogPrefix("sentry");
  // The log and stdio may be pipes whose reader goes away (a container
  // engine's): writes then fail with EPIPE instead of killing the Sentry.
  signal(SIGPIPE, SIG_IGN);
  if (b.log_fd >= 0) sentry::SetLogFd(b.log_fd);
  BootSpec spec;
  if (!ReadSpec(b.spec_fd, &spec)) {
    SLOG(kError, "cannot read the boot spec");
    return 125;
  }
  // Without --debug only errors are logged: the log may be the sandboxed
  // program's own stderr.
  if (spec.debug()) sentry::SetLogLevel(sentry::LogLevel::kDebug);
  sentry::CaptureHostFacts();

  // Host signals are handled by one forwarding thread; block them before
  // any other thread exists so every thread inherits the mask.
  sigset_t set;
  sigemptyset(&set);
  for (int s : kForwardedSignals) sigaddset(&set, s);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  if (!spec.detached()) prctl(PR_SET_PDEATHSIG, SIGKILL);

  auto mf = sentry::MemoryFile::Create(kMemoryFileSize);
  if (!mf.ok()) {
    SLOG(kError, "memory file: %s", mf.status().ToString());
    return 125;
  }
  // The platform forks its stubs now, while nothing is filtered yet.
  auto platform = sentry::CreatePlatform(spec.platform(), mf->get());
  if (!platform.ok()) {
    SLOG(kError, "platform %s: %s", spec.platform(), platform.status().ToString());
    return 125;
  }
  HostInfo info = SnapshotHostInfo();

  // From here on, no host path is reachable.
  if (auto s = PivotToEmptyRoot(); !s.ok()) {
    SLOG(kError, "isolation: %s", s.ToString());
    return 125;
  }
  if (auto s = DropAllCapabilities(); !s.ok()) {
    SLOG(kError, "isolation: %s", s.ToString());
    return 125;
  }
  SetUndumpable();

  sentry::vfs::VFS vfs;
  auto root = SetupRootFs(&vfs, mf->get(), b.gofer_fd, spec.overlay());
  if (!root.ok()) {
    SLOG(kError, "root file system: %s", root.ToString());
    return 125;
  }

  std::vector<std::shared_ptr<sentry::vfs::FileDescription>> stdio;
  for (int fd = 0; fd < spec.stdio_count(); fd++) {
    int flags = fcntl(fd, F_GETFL);
    auto f = sentry::vfs::NewHostFile(fd, flags < 0 ? O_RDWR : static_cast<uint32_t>(flags & O_ACCMODE));
    stdio.push_back(f.ok() ? *f : nullptr);
  }

  sentry::KernelOptions kopts;
  kopts.strace = spec.strace();
  kopts.hostname = spec.hostname().empty() ? "sandbox" : spec.hostname();
  kopts.sentry_init = !spec.container_init();
  kopts.protect_init = spec.container_init();
  sentry::Kernel kernel(platform->get(), mf->get(), &vfs, kopts);
  if (static_cast<int>(b.bind_fds.size()) != spec.binds_size()) {
    SLOG(kError, "%d bind mounts but %d gofer sockets", spec.binds_size(),
         static_cast<int>(b.bind_fds.size()));
    return 125;
  }
  if (auto s = PrepareRoot(&vfs, mf->get(), spec, b.bind_fds); !s.ok()) {
    SLOG(kError, "root file system: %s", s.ToString());
    return 125;
  }
  if (auto s = MountSystemFs(&vfs, &kernel, mf->get(), info); !s.ok()) {
    SLOG(kError, "system file systems: %s", s.ToString());
    return 125;
  }
  std::thread(ForwardSignals, &kernel, spec.container_init()).detach();
  // The container's seccomp profile, compiled by `runsc create`.
  std::vector<sock_filter> seccomp_filter(spec.seccomp_bpf().size() / sizeof(sock_filter));
  memcpy(seccomp_filter.data(), spec.seccomp_bpf().data(),
         seccomp_filter.size() * sizeof(sock_filter));
  if (b.control_fd >= 0) {
    std::thread(ServeControl, &kernel, b.control_fd, seccomp_filter).detach();
  }

  if (b.ready_fd >= 0) {
    // `runsc create` returns now: everything that can fail has been done.
    char c = 1;
    ssize_t n;
    do {
      n = write(b.ready_fd, &c, 1);
    } while (n < 0 && errno == EINTR);
    close(b.ready_fd);
  }
  if (b.start_fd >= 0) {
    // OCI create: everything is ready; `runsc start` writes one byte (or
    // `runsc delete` kills us before that).
    char c;
    ssize_t n;
    do {
      n = read(b.start_fd, &c, 1);
    } while (n < 0 && errno == EINTR);
    close(b.start_fd);
    if (n != 1) return 125;
  }
  if (auto s = InstallSeccomp(SentryRules(spec.platform()), spec.debug()); !s.ok()) {
    SLOG(kError, "seccomp: %s", s.ToString());
    return 125;
  }

  sentry::InitSpec init;
  init.argv.assign(spec.argv().begin(), spec.argv().end());
  init.path = init.argv.empty() ? "" : init.argv[0];
  init.envv.assign(spec.env().begin(), spec.env().end());
  init.cwd = spec.cwd().empty() ? "/" : spec.cwd();
  init.creds.uid = init.creds.euid = init.creds.suid = init.creds.fsuid = spec.uid();
  init.creds.gid = init.creds.egid = init.creds.sgid = init.creds.fsgid = spec.gid();
  if (spec.uid() != 0) init.creds.cap_effective = init.creds.cap_permitted = 0;
  init.creds.groups.assign(spec.groups().begin(), spec.groups().end());
  init.stdio = stdio;
  init.umask = spec.umask();
  init.no_new_privs = spec.no_new_privs();
  init.seccomp_filter = seccomp_filter;
  for (const Rlimit& r : spec.rlimits()) init.rlimits.push_back({r.resource(), {r.cur(), r.max()}});
  if (auto s = kernel.StartInit(init); !s.ok()) {
    // The working directory may not exist inside; fall back to "/" as
    // gVisor does, then report a missing command like a shell would.
    if (absl::IsNotFound(s) && s.message().find("working directory") != absl::string_view::npos) {
      init.cwd = "/";
      s = kernel.StartInit(init);
    }
    if (!s.ok()) {
      fprintf(stderr, "runsc: %s\n", std::string(s.message()).c_str());
      return absl::IsNotFound(s) ? 127 : 126;
    }
  }
  int status = kernel.WaitForInit();
  SLOG(kDebug, "init exited with status %#x", status);
  fflush(nullptr);
  if (getenv("SYSTRAP_PROFILE")) exit(ExitCodeOf(status));
  _exit(ExitCodeOf(status));
}

}  // namespace runsc
