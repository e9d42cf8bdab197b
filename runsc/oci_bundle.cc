// config.json of an OCI bundle -> the sandbox's launch options (see oci.h
// for what maps to what).
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "runsc/oci.h"
#include "runsc/oci_seccomp.h"

namespace runsc {
namespace {

using json = nlohmann::json;

// Single files larger than this are not copied in as bind mounts.
constexpr off_t kMaxInjectedFile = 1 << 20;

absl::Status Bad(const std::string& what) {
  return absl::InvalidArgumentError("config.json: " + what);
}

const std::map<std::string, int>& RlimitNames() {
  static const auto* m = new std::map<std::string, int>{
      {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_FSIZE", RLIMIT_FSIZE},
      {"RLIMIT_DATA", RLIMIT_DATA},       {"RLIMIT_STACK", RLIMIT_STACK},
      {"RLIMIT_CORE", RLIMIT_CORE},       {"RLIMIT_RSS", RLIMIT_RSS},
      {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_NOFILE", RLIMIT_NOFILE},
      {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_AS", RLIMIT_AS},
      {"RLIMIT_LOCKS", RLIMIT_LOCKS},     {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
      {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
      {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},
  };
  return *m;
}

// File systems the Sentry mounts itself at these places.
bool ProvidedBySentry(const std::string& dst) {
  static const std::set<std::string> kOwn = {"/proc",     "/sys",        "/dev",
                                             "/dev/pts",  "/dev/shm",    "/dev/mqueue",
                                             "/sys/fs/cgroup"};
  return kOwn.count(dst) > 0;
}

bool HasOption(const json& m, const std::string& opt) {
  if (!m.contains("options") || !m["options"].is_array()) return false;
  for (const auto& o : m["options"]) {
    if (o.is_string() && o.get<std::string>() == opt) return true;
  }
  return false;
}

absl::Status AddMount(const json& m, BootSpec* spec) {
  if (!m.is_object() || !m.contains("destination") || !m["destination"].is_string()) {
    return Bad("a mount without a destination");
  }
  std::string dst = m["destination"].get<std::string>();
  if (dst.empty() || dst[0] != '/') return Bad("mount destination must be absolute: " + dst);
  while (dst.size() > 1 && dst.back() == '/') dst.pop_back();
  std::string type = m.value("type", "");
  if (ProvidedBySentry(dst)) return absl::OkStatus();
  if (type == "tmpfs") {
    spec->add_tmpfs_mounts(dst);
    return absl::OkStatus();
  }
  if (type == "bind" || HasOption(m, "bind") || HasOption(m, "rbind")) {
    std::string src = m.value("source", "");
    struct stat st;
    if (stat(src.c_str(), &st) != 0) {
      return absl::NotFoundError(absl::StrFormat("bind mount source %s: %s", src, strerror(errno)));
    }
    if (S_ISDIR(st.st_mode)) {
      // Served by the Gofer as a mount of its own; writes reach the host
      // directory unless the mount says "ro".
      BindMount* bm = spec->add_binds();
      bm->set_destination(dst);
      bm->set_source(src);
      bm->set_read_only(HasOption(m, "ro"));
      return absl::OkStatus();
    }
    if (!S_ISREG(st.st_mode)) {
      return absl::UnimplementedError(absl::StrFormat(
          "bind mount of %s at %s: only files and directories can be bind-mounted", src, dst));
    }
    if (st.st_size > kMaxInjectedFile) {
      return absl::UnimplementedError(
          absl::StrFormat("bind mount of %s: files over 1 MiB cannot be bind-mounted yet", src));
    }
    std::ifstream in(src, std::ios::binary);
    std::stringstream data;
    data << in.rdbuf();
    InjectedFile* f = spec->add_files();
    f->set_path(dst);
    f->set_content(data.str());
    f->set_mode(st.st_mode & 07777);
    return absl::OkStatus();
  }
  fprintf(stderr, "runsc: warning: mount of type \"%s\" at %s is not supported; skipped\n",
          type.c_str(), dst.c_str());
  return absl::OkStatus();
}

absl::Status FillProcess(const json& p, BootSpec* spec) {
  if (!p.is_object()) return Bad("process must be an object");
  if (p.value("terminal", false)) {
    return absl::UnimplementedError("process.terminal: terminals are not supported yet");
  }
  if (!p.contains("args") || !p["args"].is_array() || p["args"].empty()) {
    return Bad("process.args must be a non-empty array");
  }
  for (const auto& a : p["args"]) {
    if (!a.is_string()) return Bad("process.args must hold strings");
    spec->add_argv(a.get<std::string>());
  }
  if (p.contains("env")) {
    for (const auto& e : p["env"]) {
      if (!e.is_string()) return Bad("process.env must hold strings");
      spec->add_env(e.get<std::string>());
    }
  }
  std::string cwd = p.value("cwd", "/");
  if (cwd.empty() || cwd[0] != '/') return Bad("process.cwd must be an absolute path");
  spec->set_cwd(cwd);
  spec->set_umask(022);
  spec->set_no_new_privs(p.value("noNewPrivileges", false));
  if (p.contains("user")) {
    const json& u = p["user"];
    spec->set_uid(u.value("uid", 0u));
    spec->set_gid(u.value("gid", 0u));
    if (u.contains("umask")) spec->set_umask(u["umask"].get<uint32_t>() & 0777);
    if (u.contains("additionalGids")) {
      for (const auto& gid : u["additionalGids"]) spec->add_groups(gid.get<uint32_t>());
    }
  }
  if (p.contains("rlimits")) {
    for (const auto& r : p["rlimits"]) {
      std::string type = r.value("type", "");
      auto it = RlimitNames().find(type);
      if (it == RlimitNames().end()) return Bad("unknown rlimit " + type);
      Rlimit* pl = spec->add_rlimits();
      pl->set_resource(it->second);
      pl->set_cur(r.value("soft", uint64_t{RLIM_INFINITY}));
      pl->set_max(r.value("hard", uint64_t{RLIM_INFINITY}));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseProcessJson(const std::string& text, BootSpec* spec) {
  try {
    return FillProcess(json::parse(text), spec);
  } catch (const json::exception& e) {
    return Bad(e.what());
  }
}

absl::StatusOr<LaunchOptions> LoadBundle(const GlobalFlags& g, const std::string& bundle) {
  char abs[PATH_MAX];
  if (realpath(bundle.c_str(), abs) == nullptr) {
    return absl::NotFoundError(absl::StrFormat("bundle %s: %s", bundle, strerror(errno)));
  }
  std::string path = std::string(abs) + "/config.json";
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrFormat("%s: %s", path, strerror(errno)));
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    return Bad(e.what());
  }
  LaunchOptions o;
  BootSpec& spec = o.spec;
  try {
    if (!j.is_object() || !j.contains("process")) return Bad("no process");
    if (auto s = FillProcess(j["process"], &spec); !s.ok()) return s;
    if (!j.contains("root") || !j["root"].contains("path")) return Bad("no root.path");
    std::string root = j["root"]["path"].get<std::string>();
    if (root.empty()) return Bad("empty root.path");
    if (root[0] != '/') root = std::string(abs) + "/" + root;
    struct stat st;
    if (stat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return absl::NotFoundError(absl::StrFormat("root file system %s is not a directory", root));
    }
    o.gofer_root = root;
    spec.set_root_readonly(j["root"].value("readonly", false));
    spec.set_hostname(j.value("hostname", ""));
    if (j.contains("mounts")) {
      for (const auto& m : j["mounts"]) {
        if (auto s = AddMount(m, &spec); !s.ok()) return s;
      }
    }
    if (j.contains("linux") && j["linux"].is_object() && j["linux"].contains("seccomp") &&
        !j["linux"]["seccomp"].is_null()) {
      auto bpf = CompileOciSeccomp(j["linux"]["seccomp"]);
      if (!bpf.ok()) return bpf.status();
      spec.set_seccomp_bpf(*bpf);
    }
  } catch (const json::exception& e) {
    return Bad(e.what());
  }
  // The host's files are served read-only; the container writes to the
  // in-memory layer above them.
  o.gofer_read_only = true;
  spec.set_overlay(true);
  spec.set_platform(g.platform.empty() ? DefaultPlatform() : g.platform);
  spec.set_strace(g.strace);
  spec.set_debug(g.debug);
  spec.set_stdio_count(3);
  spec.set_detached(true);
  spec.set_container_init(true);
  return o;
}

}  // namespace runsc
