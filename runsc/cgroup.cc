#include "runsc/cgroup.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace runsc {
namespace {

using json = nlohmann::json;

constexpr const char* kRoot = "/sys/fs/cgroup";

bool Exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

bool UnifiedOnly() { return Exists(std::string(kRoot) + "/cgroup.controllers"); }

std::string ReadFile(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

absl::Status WriteFile(const std::string& p, const std::string& v) {
  FILE* f = fopen(p.c_str(), "we");
  if (f == nullptr) return absl::InternalError(absl::StrFormat("open %s: %s", p, strerror(errno)));
  bool ok = fputs(v.c_str(), f) >= 0;
  ok = (fclose(f) == 0) && ok;
  if (!ok) return absl::InternalError(absl::StrFormat("write %s to %s: %s", v, p, strerror(errno)));
  return absl::OkStatus();
}

absl::Status MkdirAll(const std::string& p) {
  std::string cur;
  for (absl::string_view part : absl::StrSplit(p, '/', absl::SkipEmpty())) {
    cur += "/" + std::string(part);
    if (mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) {
      return absl::InternalError(absl::StrFormat("mkdir %s: %s", cur, strerror(errno)));
    }
  }
  return absl::OkStatus();
}

// The v1 hierarchies the caller belongs to, as (mount directory, path of
// the caller's cgroup in it); in unified mode one entry for the root.
std::vector<std::pair<std::string, std::string>> SelfCgroups(bool v2) {
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream in(ReadFile("/proc/self/cgroup"));
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f = absl::StrSplit(line, absl::MaxSplits(':', 2));
    if (f.size() != 3) continue;
    if (v2) {
      if (f[0] == "0" && f[1].empty()) out.emplace_back(kRoot, f[2]);
      continue;
    }
    if (f[1].empty()) continue;  // the v2 half of a hybrid setup
    std::string name = absl::StartsWith(f[1], "name=") ? f[1].substr(5) : f[1];
    std::string dir = std::string(kRoot) + "/" + name;
    if (Exists(dir + "/cgroup.procs")) out.emplace_back(dir, f[2]);
  }
  return out;
}

std::string IntOrMax(int64_t v) { return v > 0 ? std::to_string(v) : "max"; }

uint64_t ReadU64(const std::string& s) {
  uint64_t v = 0;
  (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(s), &v);
  return v;
}

}  // namespace

Cgroup Cgroup::ForPath(const std::string& cgroups_path) {
  Cgroup c;
  c.v2_ = UnifiedOnly();
  std::string p = cgroups_path;
  std::vector<std::string> parts = absl::StrSplit(p, ':');
  if (parts.size() == 3 && p.find('/') == std::string::npos) {
    // systemd's "slice:prefix:name": the scope systemd would make.
    p = "/" + parts[0] + "/" + parts[1] + "-" + parts[2] + ".scope";
  }
  if (p.empty() || p[0] != '/') p = "/" + p;
  c.path_ = p;
  return c;
}

std::vector<std::string> Cgroup::Dirs() const {
  std::vector<std::string> out;
  for (auto& [mount, unused] : SelfCgroups(v2_)) out.push_back(mount + path_);
  return out;
}

std::string Cgroup::DirFor(const std::string& controller) const {
  if (v2_) return std::string(kRoot) + path_;
  return std::string(kRoot) + "/" + controller + path_;
}

absl::Status Cgroup::Write(const std::string& controller, const std::string& file,
                           const std::string& value) const {
  return WriteFile(DirFor(controller) + "/" + file, value);
}

std::string Cgroup::Read(const std::string& controller, const std::string& file) const {
  return ReadFile(DirFor(controller) + "/" + file);
}

absl::Status Cgroup::Create() {
  if (v2_) {
    // Each level must pass the controllers down to the next.
    std::string cur = kRoot;
    for (absl::string_view part : absl::StrSplit(path_, '/', absl::SkipEmpty())) {
      for (const char* ctl : {"+cpu", "+memory", "+pids", "+cpuset"}) {
        (void)WriteFile(cur + "/cgroup.subtree_control", ctl);
      }
      cur += "/" + std::string(part);
      if (mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) {
        return absl::InternalError(absl::StrFormat("mkdir %s: %s", cur, strerror(errno)));
      }
    }
    return absl::OkStatus();
  }
  for (const std::string& d : Dirs()) {
    if (auto s = MkdirAll(d); !s.ok()) return s;
  }
  // A v1 cpuset starts empty and takes no task until it has CPUs and
  // memory nodes: copy them down from the parents.
  std::string cur = std::string(kRoot) + "/cpuset";
  if (!Exists(cur)) return absl::OkStatus();
  for (absl::string_view part : absl::StrSplit(path_, '/', absl::SkipEmpty())) {
    std::string next = cur + "/" + std::string(part);
    for (const char* f : {"cpuset.cpus", "cpuset.mems"}) {
      if (absl::StripAsciiWhitespace(ReadFile(next + "/" + f)).empty()) {
        (void)WriteFile(next + "/" + f, ReadFile(cur + "/" + f));
      }
    }
    cur = next;
  }
  return absl::OkStatus();
}

absl::Status Cgroup::Apply(const json& r) {
  if (!r.is_object()) return absl::OkStatus();
  try {
    if (r.contains("memory")) {
      const json& m = r["memory"];
      int64_t limit = m.value("limit", int64_t{0});
      if (limit != 0) {
        auto s = v2_ ? Write("memory", "memory.max", IntOrMax(limit))
                     : Write("memory", "memory.limit_in_bytes", std::to_string(limit));
        if (!s.ok()) return s;
      }
      int64_t res = m.value("reservation", int64_t{0});
      if (res > 0) {
        auto s = v2_ ? Write("memory", "memory.low", std::to_string(res))
                     : Write("memory", "memory.soft_limit_in_bytes", std::to_string(res));
        if (!s.ok()) return s;
      }
      int64_t swap = m.value("swap", int64_t{0});
      if (swap != 0) {
        // OCI's swap is memory plus swap; v2 limits the swap alone.
        auto s = v2_ ? Write("memory", "memory.swap.max",
                             swap < 0 ? "max" : std::to_string(std::max<int64_t>(swap - limit, 0)))
                     : Write("memory", "memory.memsw.limit_in_bytes", std::to_string(swap));
        if (!s.ok()) return s;
      }
    }
    if (r.contains("cpu")) {
      const json& c = r["cpu"];
      uint64_t shares = c.value("shares", uint64_t{0});
      if (shares != 0) {
        auto s = v2_ ? Write("cpu", "cpu.weight",
                             std::to_string(1 + ((std::max<uint64_t>(shares, 2) - 2) * 9999) / 262142))
                     : Write("cpu", "cpu.shares", std::to_string(shares));
        if (!s.ok()) return s;
      }
      int64_t quota = c.value("quota", int64_t{0});
      uint64_t period = c.value("period", uint64_t{0});
      if (quota != 0 || period != 0) {
        if (period == 0) period = 100000;
        if (v2_) {
          auto s = Write("cpu", "cpu.max", IntOrMax(quota) + " " + std::to_string(period));
          if (!s.ok()) return s;
        } else {
          auto s = Write("cpu", "cpu.cfs_period_us", std::to_string(period));
          if (s.ok()) s = Write("cpu", "cpu.cfs_quota_us", std::to_string(quota > 0 ? quota : -1));
          if (!s.ok()) return s;
        }
      }
      for (const char* k : {"cpus", "mems"}) {
        std::string v = c.value(k, "");
        if (v.empty()) continue;
        auto s = Write("cpuset", std::string("cpuset.") + k, v);
        if (!s.ok()) return s;
      }
    }
    if (r.contains("pids")) {
      int64_t limit = r["pids"].value("limit", int64_t{0});
      if (auto s = Write("pids", "pids.max", IntOrMax(limit)); !s.ok()) return s;
    }
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(absl::StrFormat("linux.resources: %s", e.what()));
  }
  return absl::OkStatus();
}

absl::Status Cgroup::Add(pid_t pid) const {
  for (const std::string& d : Dirs()) {
    if (auto s = WriteFile(d + "/cgroup.procs", std::to_string(pid)); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status Cgroup::Freeze(bool frozen) {
  auto s = v2_ ? Write("", "cgroup.freeze", frozen ? "1" : "0")
               : Write("freezer", "freezer.state", frozen ? "FROZEN" : "THAWED");
  if (!s.ok()) return s;
  // v1 passes through FREEZING; v2 reports in cgroup.events.
  for (int i = 0; i < 500; i++) {
    if (Frozen() == frozen) return absl::OkStatus();
    usleep(10000);
  }
  return absl::DeadlineExceededError("the cgroup did not freeze in time");
}

bool Cgroup::Frozen() const {
  if (v2_) return Read("", "cgroup.events").find("frozen 1") != std::string::npos;
  return absl::StripAsciiWhitespace(Read("freezer", "freezer.state")) == "FROZEN";
}

std::vector<pid_t> Cgroup::Pids() const {
  std::vector<pid_t> out;
  std::vector<std::string> dirs = Dirs();
  if (dirs.empty()) return out;
  std::istringstream in(ReadFile((v2_ ? dirs[0] : DirFor("pids")) + "/cgroup.procs"));
  pid_t p;
  while (in >> p) out.push_back(p);
  return out;
}

json Cgroup::Stats() const {
  json st;
  if (v2_) {
    uint64_t usec = 0;
    std::istringstream cpu(Read("", "cpu.stat"));
    std::string k;
    uint64_t v;
    while (cpu >> k >> v) {
      if (k == "usage_usec") usec = v;
    }
    st["cpu"] = {{"usage", {{"total", usec * 1000}}}};
    st["memory"] = {{"usage", {{"usage", ReadU64(Read("", "memory.current"))},
                               {"limit", ReadU64(Read("", "memory.max"))}}}};
  } else {
    st["cpu"] = {{"usage", {{"total", ReadU64(Read("cpuacct", "cpuacct.usage"))}}}};
    st["memory"] = {{"usage", {{"usage", ReadU64(Read("memory", "memory.usage_in_bytes"))},
                               {"max", ReadU64(Read("memory", "memory.max_usage_in_bytes"))},
                               {"limit", ReadU64(Read("memory", "memory.limit_in_bytes"))}}}};
  }
  st["pids"] = {{"current", ReadU64(Read("pids", "pids.current"))},
                {"limit", ReadU64(Read("pids", "pids.max"))}};
  return st;
}

void Cgroup::Destroy() const {
  for (const std::string& d : Dirs()) {
    // The last processes may still be on their way out.
    for (int i = 0; i < 100 && rmdir(d.c_str()) != 0 && errno == EBUSY; i++) usleep(10000);
  }
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Cgroup::EnterSelf(
    const Cgroup& c) {
  auto before = SelfCgroups(c.v2_);
  if (auto s = c.Add(getpid()); !s.ok()) {
    LeaveSelf(before);
    return s;
  }
  return before;
}

void Cgroup::LeaveSelf(const std::vector<std::pair<std::string, std::string>>& before) {
  for (auto& [mount, path] : before) {
    (void)WriteFile(mount + path + "/cgroup.procs", std::to_string(getpid()));
  }
}

}  // namespace runsc
