// The OCI lifecycle commands (see oci.h). Each command is a separate runsc
// invocation; what they share is the state directory <root>/<id>/:
//   state.json  id, bundle, the Sentry's and Gofer's host pids (with their
//               start times, so a recycled pid is not mistaken for them),
//               creation time, whether it was started
//   start       a FIFO the created Sentry reads one byte from before it
//               runs the program; `start` writes that byte
// Status: "stopped" once the Sentry process is gone, else "created" until
// started, then "running".
#include "runsc/oci.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace runsc {
namespace {

using json = nlohmann::json;

std::string NowRfc3339() {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E9SZ", absl::Now(), absl::UTCTimeZone());
}

// runc's --log/--log-format: container engines read a failed command's
// error from this file (conmon and the containerd shim parse the JSON).
std::string g_log_path, g_log_format = "text";

int Fail(const std::string& msg) {
  fprintf(stderr, "runsc: %s\n", msg.c_str());
  if (!g_log_path.empty()) {
    std::ofstream log(g_log_path, std::ios::app);
    if (g_log_format == "json") {
      log << json{{"level", "error"}, {"msg", msg}, {"time", NowRfc3339()}}.dump() << "\n";
    } else {
      log << "time=\"" << NowRfc3339() << "\" level=error msg=" << json(msg).dump() << "\n";
    }
  }
  return 1;
}

std::string RootDir(const GlobalFlags& g) { return g.root.empty() ? "/run/runsc" : g.root; }
std::string Dir(const GlobalFlags& g, const std::string& id) { return RootDir(g) + "/" + id; }

bool ValidId(const std::string& id) {
  if (id.empty() || id == "." || id == ".." || id.size() > 1024) return false;
  for (char c : id) {
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '+')) {
      return false;
    }
  }
  return true;
}

// Field 22 (start time) and field 3 (state) of /proc/<pid>/stat.
struct ProcStat {
  char state = '?';
  uint64_t start = 0;
};
std::optional<ProcStat> ReadProcStat(pid_t pid) {
  std::ifstream in(absl::StrFormat("/proc/%d/stat", pid));
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t paren = s.rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  std::istringstream rest(s.substr(paren + 2));
  ProcStat st;
  rest >> st.state;
  std::string field;
  for (int i = 4; i <= 22 && rest >> field; i++) {
    if (i == 22) absl::SimpleAtoi(field, &st.start);
  }
  return st;
}

struct State {
  std::string id, bundle, rootfs, created;
  pid_t pid = 0, gofer = 0;
  uint64_t pid_start = 0, gofer_start = 0;
  bool started = false;
};

bool Alive(pid_t pid, uint64_t start) {
  if (pid <= 0) return false;
  auto st = ReadProcStat(pid);
  return st && st->state != 'Z' && st->state != 'X' && st->start == start;
}

std::string Status(const State& s) {
  if (!Alive(s.pid, s.pid_start)) return "stopped";
  return s.started ? "running" : "created";
}

absl::Status Save(const GlobalFlags& g, const State& s) {
  json j = {{"id", s.id},           {"bundle", s.bundle},   {"rootfs", s.rootfs},
            {"created", s.created}, {"pid", s.pid},         {"pid_start", s.pid_start},
            {"gofer", s.gofer},     {"gofer_start", s.gofer_start}, {"started", s.started}};
  std::string path = Dir(g, s.id) + "/state.json";
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump(2) << "\n";
    if (!out) return absl::InternalError(absl::StrFormat("write %s", tmp));
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrFormat("rename %s: %s", path, strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<State> Load(const GlobalFlags& g, const std::string& id) {
  if (!ValidId(id)) return absl::InvalidArgumentError(absl::StrFormat("invalid container id %s", id));
  std::ifstream in(Dir(g, id) + "/state.json");
  if (!in) return absl::NotFoundError(absl::StrFormat("container %s does not exist", id));
  try {
    json j = json::parse(in);
    State s;
    s.id = j.at("id").get<std::string>();
    s.bundle = j.at("bundle").get<std::string>();
    s.rootfs = j.value("rootfs", "");
    s.created = j.value("created", "");
    s.pid = j.at("pid").get<pid_t>();
    s.pid_start = j.at("pid_start").get<uint64_t>();
    s.gofer = j.value("gofer", 0);
    s.gofer_start = j.value("gofer_start", uint64_t{0});
    s.started = j.value("started", false);
    return s;
  } catch (const json::exception& e) {
    return absl::DataLossError(absl::StrFormat("state of %s: %s", id, e.what()));
  }
}

// Kills the sandbox's processes and waits (up to 5 s) until they are gone.
void KillSandbox(const State& s) {
  if (Alive(s.pid, s.pid_start)) kill(s.pid, SIGKILL);
  if (Alive(s.gofer, s.gofer_start)) kill(s.gofer, SIGKILL);
  for (int i = 0; i < 500; i++) {
    // Our own children (run) are reaped here; others by their reaper.
    waitpid(s.pid, nullptr, WNOHANG);
    waitpid(s.gofer, nullptr, WNOHANG);
    if (!Alive(s.pid, s.pid_start) && !Alive(s.gofer, s.gofer_start)) return;
    usleep(10000);
  }
}

void RemoveState(const GlobalFlags& g, const std::string& id) {
  std::string d = Dir(g, id);
  unlink((d + "/state.json").c_str());
  unlink((d + "/state.json.tmp").c_str());
  unlink((d + "/start").c_str());
  rmdir(d.c_str());
}

std::optional<int> ParseSignal(std::string s) {
  int n;
  if (absl::SimpleAtoi(s, &n)) return n > 0 && n < NSIG ? std::optional<int>(n) : std::nullopt;
  for (char& c : s) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  absl::string_view name = s;
  absl::ConsumePrefix(&name, "SIG");
  for (int i = 1; i < NSIG; i++) {
    const char* abbrev = sigabbrev_np(i);
    if (abbrev != nullptr && name == abbrev) return i;
  }
  return std::nullopt;
}

// Signals the Sentry forwards to the container (boot.cc); any other one
// sent to the Sentry's host process would act on the Sentry itself.
bool Forwardable(int sig) {
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH}) {
    if (s == sig) return true;
  }
  return false;
}

absl::Status WritePidFile(const std::string& path, pid_t pid) {
  if (path.empty()) return absl::OkStatus();
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << pid;
    if (!out) return absl::InternalError(absl::StrFormat("write %s", tmp));
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrFormat("pid file %s: %s", path, strerror(errno)));
  }
  return absl::OkStatus();
}

// create and run: set up the state directory and launch. `start_now`
// skips the start FIFO.
absl::StatusOr<State> CreateContainer(const GlobalFlags& g, const CreateFlags& f,
                                      const std::string& id, bool start_now, bool tie) {
  if (!ValidId(id)) return absl::InvalidArgumentError(absl::StrFormat("invalid container id %s", id));
  if (!f.console_socket.empty()) {
    return absl::UnimplementedError("--console-socket: terminals are not supported yet");
  }
  std::string platform = g.platform.empty() ? DefaultPlatform() : g.platform;
  if (auto s = CheckPlatform(platform); !s.ok()) return s;
  auto lo = LoadBundle(g, f.bundle);
  if (!lo.ok()) return lo.status();
  mkdir(RootDir(g).c_str(), 0711);
  std::string dir = Dir(g, id);
  if (mkdir(dir.c_str(), 0700) != 0) {
    if (errno == EEXIST) return absl::AlreadyExistsError(absl::StrFormat("container %s already exists", id));
    return absl::InternalError(absl::StrFormat("mkdir %s: %s", dir, strerror(errno)));
  }
  int start_fd = -1;
  if (!start_now) {
    std::string fifo = dir + "/start";
    // Opened read-write: the Sentry's read then blocks until `start`
    // writes, instead of seeing end-of-file while no writer exists.
    if (mkfifo(fifo.c_str(), 0600) != 0 || (start_fd = open(fifo.c_str(), O_RDWR | O_CLOEXEC)) < 0) {
      int e = errno;
      RemoveState(g, id);
      return absl::InternalError(absl::StrFormat("start fifo: %s", strerror(e)));
    }
  }
  lo->stdio = {0, 1, 2};
  lo->start_fd = start_fd;
  lo->tie_to_caller = tie;
  lo->log_fd = 2;
  if (!g.debug_log.empty()) {
    lo->log_fd = open(g.debug_log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  }
  auto launched = LaunchSandbox(g, *lo);
  if (start_fd >= 0) close(start_fd);
  if (lo->log_fd > 2) close(lo->log_fd);
  if (!launched.ok()) {
    RemoveState(g, id);
    return launched.status();
  }
  State s;
  s.id = id;
  char abs[PATH_MAX];
  s.bundle = realpath(f.bundle.c_str(), abs) ? abs : f.bundle;
  s.rootfs = lo->gofer_root;
  s.created = NowRfc3339();
  s.pid = launched->sentry;
  s.gofer = launched->gofer;
  // The children exist (fork returned); their /proc entries do too.
  if (auto st = ReadProcStat(s.pid)) s.pid_start = st->start;
  if (auto st = ReadProcStat(s.gofer)) s.gofer_start = st->start;
  s.started = start_now;
  absl::Status saved = Save(g, s);
  if (saved.ok()) saved = WritePidFile(f.pid_file, s.pid);
  if (!saved.ok()) {
    KillSandbox(s);
    RemoveState(g, id);
    return saved;
  }
  return s;
}

}  // namespace

void SetOciLog(const std::string& path, const std::string& format) {
  g_log_path = path;
  g_log_format = format;
}

int OciCreate(const GlobalFlags& g, const CreateFlags& f, const std::string& id) {
  auto s = CreateContainer(g, f, id, /*start_now=*/false, /*tie=*/false);
  if (!s.ok()) return Fail(std::string(s.status().message()));
  return 0;
}

int OciStart(const GlobalFlags& g, const std::string& id) {
  auto s = Load(g, id);
  if (!s.ok()) return Fail(std::string(s.status().message()));
  std::string status = Status(*s);
  if (status != "created") {
    return Fail(absl::StrFormat("cannot start container %s in state %s", id, status));
  }
  int fd = open((Dir(g, id) + "/start").c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return Fail(absl::StrFormat("start %s: %s", id, strerror(errno)));
  char c = 1;
  ssize_t n = write(fd, &c, 1);
  close(fd);
  if (n != 1) return Fail(absl::StrFormat("start %s: %s", id, strerror(errno)));
  s->started = true;
  if (auto st = Save(g, *s); !st.ok()) return Fail(std::string(st.message()));
  return 0;
}

int OciState(const GlobalFlags& g, const std::string& id) {
  auto s = Load(g, id);
  if (!s.ok()) return Fail(std::string(s.status().message()));
  std::string status = Status(*s);
  json j = {{"ociVersion", "1.0.2"},
            {"id", s->id},
            {"pid", status == "stopped" ? 0 : s->pid},
            {"status", status},
            {"bundle", s->bundle},
            {"rootfs", s->rootfs},
            {"created", s->created},
            {"owner", ""}};
  printf("%s\n", j.dump(2).c_str());
  return 0;
}

int OciKill(const GlobalFlags& g, const std::string& id, const std::string& signal, bool all) {
  auto s = Load(g, id);
  if (!s.ok()) return Fail(std::string(s.status().message()));
  std::optional<int> sig = ParseSignal(signal.empty() ? "SIGTERM" : signal);
  if (!sig) return Fail(absl::StrFormat("invalid signal %s", signal));
  std::string status = Status(*s);
  if (status == "stopped") return Fail("container not running");
  if (*sig == SIGKILL || (status == "created" && *sig != SIGCONT && *sig != SIGWINCH)) {
    // A created container has no process yet: like runc's init waiting on
    // its fifo, it dies of any terminating signal.
    KillSandbox(*s);
    return 0;
  }
  if (!Forwardable(*sig)) {
    return Fail(absl::StrFormat("signal %s cannot be delivered into the sandbox yet",
                                sigabbrev_np(*sig)));
  }
  // The Sentry sends it to the container's init process group (--all
  // reaches the same processes: every process descends from init).
  (void)all;
  if (kill(s->pid, *sig) != 0) return Fail(absl::StrFormat("kill: %s", strerror(errno)));
  return 0;
}

int OciDelete(const GlobalFlags& g, const std::string& id, bool force) {
  auto s = Load(g, id);
  if (!s.ok()) {
    // runc: deleting a container that does not exist is an error, even
    // with --force, unless only its directory is left over.
    if (ValidId(id) && force) RemoveState(g, id);
    return Fail(std::string(s.status().message()));
  }
  std::string status = Status(*s);
  if (status == "running" && !force) {
    return Fail(absl::StrFormat("cannot delete container %s that is not stopped: %s", id, status));
  }
  KillSandbox(*s);
  RemoveState(g, id);
  return 0;
}

int OciRun(const GlobalFlags& g, const CreateFlags& f, const std::string& id) {
  // Signals for the container arrive at us while we wait; block them first
  // so none is lost between launch and the wait loop.
  sigset_t fwd;
  sigemptyset(&fwd);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD, SIGWINCH}) {
    sigaddset(&fwd, sig);
  }
  if (!f.detach) sigprocmask(SIG_BLOCK, &fwd, nullptr);
  auto s = CreateContainer(g, f, id, /*start_now=*/true, /*tie=*/!f.detach);
  if (!s.ok()) return Fail(std::string(s.status().message()));
  if (f.detach) return 0;
  int status = 0;
  for (;;) {
    siginfo_t si;
    int sig = sigwaitinfo(&fwd, &si);
    if (sig == SIGCHLD) {
      if (waitpid(s->pid, &status, WNOHANG) == s->pid) break;
      waitpid(s->gofer, nullptr, WNOHANG);
      continue;
    }
    if (sig > 0 && si.si_code != SI_KERNEL) kill(s->pid, sig);
  }
  KillSandbox(*s);
  RemoveState(g, id);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 125;
}

int OciList(const GlobalFlags& g, bool quiet) {
  DIR* d = opendir(RootDir(g).c_str());
  if (!quiet) printf("%-20s %-8s %-10s %-40s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED");
  if (d == nullptr) return 0;
  while (struct dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    auto s = Load(g, e->d_name);
    if (!s.ok()) continue;
    if (quiet) {
      printf("%s\n", s->id.c_str());
      continue;
    }
    std::string status = Status(*s);
    printf("%-20s %-8d %-10s %-40s %s\n", s->id.c_str(), status == "stopped" ? 0 : s->pid,
           status.c_str(), s->bundle.c_str(), s->created.c_str());
  }
  closedir(d);
  return 0;
}

}  // namespace runsc
