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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/resource.h>
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
#include "runsc/cgroup.h"

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
  std::string cgroup;  // the host cgroup around the sandbox; empty: none
};

bool Alive(pid_t pid, uint64_t start) {
  if (pid <= 0) return false;
  auto st = ReadProcStat(pid);
  return st && st->state != 'Z' && st->state != 'X' && st->start == start;
}

std::string Status(const State& s) {
  if (!Alive(s.pid, s.pid_start)) return "stopped";
  if (!s.cgroup.empty() && Cgroup::ForPath(s.cgroup).Frozen()) return "paused";
  return s.started ? "running" : "created";
}

// Writes `path` whole or not at all: readers (another runsc command, the
// container engine reading the pid file) never see half of it.
absl::Status WriteFileAtomically(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << content;
    if (!out) return absl::InternalError(absl::StrFormat("write %s", tmp));
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrFormat("rename %s: %s", path, strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status Save(const GlobalFlags& g, const State& s) {
  json j = {{"id", s.id},           {"bundle", s.bundle},   {"rootfs", s.rootfs},
            {"created", s.created}, {"pid", s.pid},         {"pid_start", s.pid_start},
            {"gofer", s.gofer},     {"gofer_start", s.gofer_start}, {"started", s.started},
            {"cgroup", s.cgroup}};
  return WriteFileAtomically(Dir(g, s.id) + "/state.json", j.dump(2) + "\n");
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
    s.cgroup = j.value("cgroup", "");
    return s;
  } catch (const json::exception& e) {
    return absl::DataLossError(absl::StrFormat("state of %s: %s", id, e.what()));
  }
}

// Kills the sandbox's processes and waits (up to 5 s) until they are gone.
void KillSandbox(const State& s) {
  // Frozen (paused) processes die only once thawed.
  if (!s.cgroup.empty()) (void)Cgroup::ForPath(s.cgroup).Freeze(false);
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
  {
    // The sandbox's cgroup goes with it.
    std::ifstream in(d + "/state.json");
    if (in) {
      try {
        std::string cg = json::parse(in).value("cgroup", "");
        if (!cg.empty()) Cgroup::ForPath(cg).Destroy();
      } catch (const json::exception&) {
      }
    }
  }
  unlink((d + "/state.json").c_str());
  unlink((d + "/state.json.tmp").c_str());
  unlink((d + "/start").c_str());
  unlink((d + "/control.sock").c_str());
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
  return WriteFileAtomically(path, std::to_string(pid));
}

// The control socket's path through an O_PATH fd of the state directory:
// short whatever --root is (sun_path holds 108 bytes).
struct ControlAddr {
  int dir_fd = -1;
  struct sockaddr_un addr = {};
  ~ControlAddr() {
    if (dir_fd >= 0) close(dir_fd);
  }
};
absl::Status MakeControlAddr(const std::string& dir, ControlAddr* a) {
  a->dir_fd = open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (a->dir_fd < 0) return absl::InternalError(absl::StrFormat("%s: %s", dir, strerror(errno)));
  a->addr.sun_family = AF_UNIX;
  snprintf(a->addr.sun_path, sizeof(a->addr.sun_path), "/proc/self/fd/%d/control.sock", a->dir_fd);
  return absl::OkStatus();
}

absl::StatusOr<int> ListenControl(const std::string& dir) {
  ControlAddr a;
  if (auto s = MakeControlAddr(dir, &a); !s.ok()) return s;
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a.addr), sizeof(a.addr)) != 0 ||
      listen(fd, 64) != 0) {
    int e = errno;
    if (fd >= 0) close(fd);
    return absl::InternalError(absl::StrFormat("control socket: %s", strerror(e)));
  }
  return fd;
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
  auto control = ListenControl(dir);
  if (!control.ok()) {
    if (start_fd >= 0) close(start_fd);
    RemoveState(g, id);
    return control.status();
  }
  int ready[2] = {-1, -1};
  if (!start_now && pipe2(ready, O_CLOEXEC) != 0) {
    int e = errno;
    close(*control);
    if (start_fd >= 0) close(start_fd);
    RemoveState(g, id);
    return absl::InternalError(absl::StrFormat("pipe: %s", strerror(e)));
  }
  // The host cgroup: the spec's cgroupsPath (an error if it cannot be
  // made), else /runsc/<id> when the host lets us (pause needs one).
  std::optional<Cgroup> cg;
  std::vector<std::pair<std::string, std::string>> cg_before;
  {
    json cfg;
    try {
      std::ifstream in(f.bundle + "/config.json");
      cfg = json::parse(in);
    } catch (const json::exception&) {
    }
    const json lx = cfg.is_object() ? cfg.value("linux", json::object()) : json::object();
    std::string path = lx.value("cgroupsPath", "");
    bool asked = !path.empty();
    // Separate state roots may reuse ids: the default path tells them apart.
    std::string fallback = absl::StrFormat(
        "/runsc/%s-%08x", id, static_cast<uint32_t>(std::hash<std::string>()(RootDir(g))));
    Cgroup c = Cgroup::ForPath(asked ? path : fallback);
    absl::Status made = c.Create();
    if (made.ok()) made = c.Apply(lx.value("resources", json()));
    if (made.ok()) {
      auto before = Cgroup::EnterSelf(c);
      if (before.ok()) {
        cg_before = *before;
        cg = c;
      } else {
        made = before.status();
      }
    }
    if (!made.ok()) {
      if (asked) {
        c.Destroy();
        close(*control);
        if (start_fd >= 0) close(start_fd);
        RemoveState(g, id);
        return made;
      }
      c.Destroy();
    }
  }
  lo->stdio = {0, 1, 2};
  lo->start_fd = start_fd;
  lo->control_fd = *control;
  lo->ready_fd = ready[1];
  lo->tie_to_caller = tie;
  lo->log_fd = 2;
  if (!g.debug_log.empty()) {
    lo->log_fd = open(g.debug_log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  }
  auto launched = LaunchSandbox(g, *lo);
  // The sandbox's processes started inside the cgroup; we leave it.
  if (cg) Cgroup::LeaveSelf(cg_before);
  if (start_fd >= 0) close(start_fd);
  close(*control);
  if (ready[1] >= 0) close(ready[1]);
  if (launched.ok() && ready[0] >= 0) {
    // Like runc's create: return once the sandbox waits for `start`, or
    // report why it could not get there.
    char c;
    ssize_t n;
    do {
      n = read(ready[0], &c, 1);
    } while (n < 0 && errno == EINTR);
    close(ready[0]);
    if (n != 1) {
      int st = 0;
      kill(launched->gofer, SIGKILL);
      waitpid(launched->sentry, &st, 0);
      waitpid(launched->gofer, nullptr, 0);
      if (cg) cg->Destroy();
      RemoveState(g, id);
      return absl::InternalError(absl::StrFormat(
          "the sandbox failed to start (%s %d; its error is above)",
          WIFEXITED(st) ? "exit status" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st)));
    }
  } else if (ready[0] >= 0) {
    close(ready[0]);
  }
  if (lo->log_fd > 2) close(lo->log_fd);
  if (!launched.ok()) {
    if (cg) cg->Destroy();
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
  if (cg) s.cgroup = cg->path();
  absl::Status saved = Save(g, s);
  if (saved.ok()) saved = WritePidFile(f.pid_file, s.pid);
  if (!saved.ok()) {
    KillSandbox(s);
    if (cg) cg->Destroy();
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

int OciPause(const GlobalFlags& g, const std::string& id, bool pause) {
  auto s = Load(g, id);
  if (!s.ok()) return Fail(std::string(s.status().message()));
  std::string status = Status(*s);
  if (pause && status != "running" && status != "created") {
    return Fail(absl::StrFormat("container %s is not running: %s", id, status));
  }
  if (!pause && status != "paused") {
    return Fail(absl::StrFormat("container %s is not paused: %s", id, status));
  }
  if (s->cgroup.empty()) return Fail("the container has no cgroup to freeze");
  // The freezer stops the Sentry, the Gofer and every stub process: the
  // container's programs stop wherever they are, as under runc.
  if (auto st = Cgroup::ForPath(s->cgroup).Freeze(pause); !st.ok()) {
    return Fail(std::string(st.message()));
  }
  return 0;
}

int OciPs(const GlobalFlags& g, const std::string& id, const std::string& format) {
  auto s = Load(g, id);
  if (!s.ok()) return Fail(std::string(s.status().message()));
  if (format != "table" && format != "json") return Fail("invalid format " + format);
  // Host processes of the sandbox, as runc lists a container's cgroup.
  std::vector<pid_t> pids;
  if (!s->cgroup.empty()) {
    pids = Cgroup::ForPath(s->cgroup).Pids();
  } else if (Status(*s) != "stopped") {
    pids = {s->pid, s->gofer};
  }
  if (format == "json") {
    printf("%s\n", json(pids).dump().c_str());
    return 0;
  }
  printf("%-8s %s\n", "PID", "CMD");
  for (pid_t p : pids) {
    std::ifstream in(absl::StrFormat("/proc/%d/cmdline", p));
    std::string cmd((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (char& c : cmd) {
      if (c == '\0') c = ' ';
    }
    printf("%-8d %s\n", p, std::string(absl::StripTrailingAsciiWhitespace(cmd)).c_str());
  }
  return 0;
}

int OciEvents(const GlobalFlags& g, const std::string& id, bool stats_once, int interval_s) {
  auto s = Load(g, id);
  if (!s.ok()) return Fail(std::string(s.status().message()));
  auto stats = [&] {
    json data = s->cgroup.empty() ? json::object() : Cgroup::ForPath(s->cgroup).Stats();
    return json{{"type", "stats"}, {"id", id}, {"data", data}};
  };
  if (stats_once) {
    printf("%s\n", stats().dump().c_str());
    return 0;
  }
  // runc events: a stats event every interval until the container stops.
  while (Status(*s) != "stopped") {
    printf("%s\n", stats().dump().c_str());
    fflush(stdout);
    sleep(static_cast<unsigned>(std::max(interval_s, 1)));
  }
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

namespace {

// Reads one ExecReply datagram; false at end of connection.
bool ReadReply(int fd, ExecReply* r) {
  char buf[65536];
  ssize_t n;
  do {
    n = recv(fd, buf, sizeof(buf), 0);
  } while (n < 0 && errno == EINTR);
  return n > 0 && r->ParseFromArray(buf, static_cast<int>(n));
}

// Waits for the exec'd process to end and ends the same way: its exit code,
// or death by its signal (so a waiter of this pid sees what it would see
// of the process itself). The connection closing first means the sandbox
// went away and took the process with it: SIGKILL.
[[noreturn]] void FollowProcess(int fd) {
  ExecReply r;
  int status = SIGKILL;  // a wait status: killed by SIGKILL
  if (ReadReply(fd, &r) && r.reply_case() == ExecReply::kExitedStatus) status = r.exited_status();
  close(fd);
  if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
  int sig = WIFSIGNALED(status) ? WTERMSIG(status) : SIGKILL;
  struct rlimit no_core = {0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  signal(sig, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  sigprocmask(SIG_UNBLOCK, &set, nullptr);
  raise(sig);
  _exit(128 + sig);
}

absl::Status BuildExecRequest(const GlobalFlags& g, const State& s, const ExecFlags& f,
                              ExecRequest* req) {
  BootSpec p;
  if (!f.process_file.empty()) {
    std::ifstream in(f.process_file);
    if (!in) return absl::NotFoundError(absl::StrFormat("%s: %s", f.process_file, strerror(errno)));
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (auto st = ParseProcessJson(text, &p); !st.ok()) return st;
  } else {
    // runc: the container's own process settings, with these arguments.
    auto lo = LoadBundle(g, s.bundle);
    if (!lo.ok()) return lo.status();
    p = lo->spec;
    if (f.args.empty()) return absl::InvalidArgumentError("exec: no command given");
    p.clear_argv();
    for (const auto& a : f.args) p.add_argv(a);
  }
  if (!f.cwd.empty()) p.set_cwd(f.cwd);
  for (const auto& e : f.env) p.add_env(e);
  if (!f.user.empty()) {
    std::string u = f.user, gid;
    if (size_t colon = u.find(':'); colon != std::string::npos) {
      gid = u.substr(colon + 1);
      u = u.substr(0, colon);
    }
    uint32_t uid_n = 0, gid_n = 0;
    if (!absl::SimpleAtoi(u, &uid_n) || (!gid.empty() && !absl::SimpleAtoi(gid, &gid_n))) {
      return absl::InvalidArgumentError(
          absl::StrFormat("--user %s: only numeric uid[:gid] is supported", f.user));
    }
    p.set_uid(uid_n);
    p.set_gid(gid_n);
    p.clear_groups();
  }
  for (const auto& a : p.argv()) req->add_argv(a);
  for (const auto& e : p.env()) req->add_env(e);
  req->set_cwd(p.cwd());
  req->set_uid(p.uid());
  req->set_gid(p.gid());
  for (uint32_t gr : p.groups()) req->add_groups(gr);
  req->set_umask(p.umask());
  req->set_no_new_privs(p.no_new_privs());
  for (const auto& r : p.rlimits()) *req->add_rlimits() = r;
  return absl::OkStatus();
}

}  // namespace

int OciExec(const GlobalFlags& g, const ExecFlags& f, const std::string& id) {
  auto s = Load(g, id);
  if (!s.ok()) return Fail(std::string(s.status().message()));
  if (f.tty || !f.console_socket.empty()) return Fail("exec: terminals are not supported yet");
  std::string status = Status(*s);
  if (status != "running") return Fail(absl::StrFormat("cannot exec in a %s container", status));
  ExecRequest req;
  if (auto st = BuildExecRequest(g, *s, f, &req); !st.ok()) return Fail(std::string(st.message()));

  ControlAddr a;
  if (auto st = MakeControlAddr(Dir(g, id), &a); !st.ok()) return Fail(std::string(st.message()));
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&a.addr), sizeof(a.addr)) != 0) {
    return Fail(absl::StrFormat("exec: cannot reach the sandbox of %s: %s", id, strerror(errno)));
  }
  std::string data;
  req.SerializeToString(&data);
  int stdio[3] = {0, 1, 2};
  alignas(struct cmsghdr) char ctrl[CMSG_SPACE(sizeof(stdio))] = {};
  struct iovec iov = {data.data(), data.size()};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctrl;
  msg.msg_controllen = sizeof(ctrl);
  struct cmsghdr* h = CMSG_FIRSTHDR(&msg);
  h->cmsg_level = SOL_SOCKET;
  h->cmsg_type = SCM_RIGHTS;
  h->cmsg_len = CMSG_LEN(sizeof(stdio));
  memcpy(CMSG_DATA(h), stdio, sizeof(stdio));
  if (sendmsg(fd, &msg, MSG_NOSIGNAL) < 0) return Fail(absl::StrFormat("exec: %s", strerror(errno)));

  ExecReply r;
  if (!ReadReply(fd, &r)) return Fail("exec: the sandbox closed the connection");
  if (r.reply_case() == ExecReply::kError) {
    Fail("exec: " + r.error());
    return r.error_code() ? r.error_code() : 126;
  }
  // The pid-file holds a host process that lives as long as the exec'd
  // process and exits with its status: this one, or with --detach a child
  // left behind for the caller (conmon, the shim) to wait on.
  if (f.detach) {
    pid_t child = fork();
    if (child < 0) return Fail(absl::StrFormat("fork: %s", strerror(errno)));
    if (child == 0) {
      setsid();
      FollowProcess(fd);
    }
    close(fd);
    if (auto st = WritePidFile(f.pid_file, child); !st.ok()) return Fail(std::string(st.message()));
    return 0;
  }
  if (auto st = WritePidFile(f.pid_file, getpid()); !st.ok()) return Fail(std::string(st.message()));
  FollowProcess(fd);
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

namespace runsc {

int OciSpec(const std::string& bundle) {
  std::string path = bundle + "/config.json";
  if (access(path.c_str(), F_OK) == 0) return Fail("File " + path + " exists. Remove it first");
  // runc spec's defaults, except that there is no terminal (not supported
  // yet) and only what this runtime reads is written.
  json config = {
      {"ociVersion", "1.0.2"},
      {"process",
       {{"terminal", false},
        {"user", {{"uid", 0}, {"gid", 0}}},
        {"args", {"sh"}},
        {"env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
        {"cwd", "/"},
        {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}}}}},
      {"root", {{"path", "rootfs"}, {"readonly", true}}},
      {"hostname", "runsc"},
      {"mounts",
       {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
        {{"destination", "/dev"}, {"type", "tmpfs"}, {"source", "tmpfs"},
         {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
        {{"destination", "/dev/shm"}, {"type", "tmpfs"}, {"source", "shm"},
         {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
        {{"destination", "/sys"}, {"type", "sysfs"}, {"source", "sysfs"},
         {"options", {"nosuid", "noexec", "nodev", "ro"}}}}},
      {"linux",
       {{"namespaces",
         {{{"type", "pid"}}, {{"type", "network"}}, {{"type", "ipc"}}, {{"type", "uts"}},
          {{"type", "mount"}}}}}}};
  std::ofstream out(path);
  out << config.dump(1, '\t') << "\n";
  if (!out) return Fail("write " + path);
  return 0;
}

int OciFeatures() {
  // What this runtime honours (OCI runtime-spec features.md). Hooks and
  // linux.resources are not applied yet: they are not listed.
  json f = {{"ociVersionMin", "1.0.0"},
            {"ociVersionMax", "1.0.2"},
            {"hooks", json::array()},
            {"mountOptions", {"bind", "rbind", "ro", "rw"}},
            {"linux",
             {{"namespaces", {"pid", "network", "ipc", "uts", "mount"}},
              {"seccomp",
               {{"enabled", true},
                {"actions",
                 {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
                  "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"}},
                {"operators",
                 {"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
                  "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"}},
                {"archs", {"SCMP_ARCH_X86_64"}}}},
              {"apparmor", {{"enabled", false}}},
              {"selinux", {{"enabled", false}}}}},
            {"annotations",
             {{"dev.runsc.sandbox", "user-space kernel (Sentry) with a Gofer"}}}};
  printf("%s\n", f.dump(4).c_str());
  return 0;
}

}  // namespace runsc
