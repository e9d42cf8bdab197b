// linux.seccomp -> BPF with libseccomp (see oci_seccomp.h).
#include "runsc/oci_seccomp.h"

#include <linux/filter.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <map>
#include <optional>
#include <vector>

#include "absl/strings/str_format.h"

namespace runsc {
namespace {

using json = nlohmann::json;

// The Sentry takes one filter of at most BPF_MAXINSNS instructions.
constexpr size_t kMaxInsns = 4096;
constexpr int kMaxArgs = 6;

absl::Status Bad(const std::string& what) {
  return absl::InvalidArgumentError("config.json: linux.seccomp: " + what);
}

// An OCI action name (with its errno for ERRNO/TRACE) as a libseccomp action.
absl::StatusOr<uint32_t> Action(const std::string& name, std::optional<uint32_t> errno_ret) {
  const uint32_t e = errno_ret.value_or(EPERM);
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
  if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(e);
  if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(e);
  if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  if (name == "SCMP_ACT_NOTIFY") {
    return absl::UnimplementedError(
        "config.json: linux.seccomp: SCMP_ACT_NOTIFY is not supported (no seccomp user "
        "notification in the sandbox)");
  }
  return Bad("unknown action " + name);
}

absl::StatusOr<scmp_compare> Operator(const std::string& op) {
  static const auto* ops = new std::map<std::string, scmp_compare>{
      {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT},
      {"SCMP_CMP_LE", SCMP_CMP_LE}, {"SCMP_CMP_EQ", SCMP_CMP_EQ},
      {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
      {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};
  auto it = ops->find(op);
  if (it == ops->end()) return Bad("unknown operator " + op);
  return it->second;
}

std::optional<uint32_t> ErrnoRet(const json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  return j[key].get<uint32_t>();
}

// One syscalls[] entry: its conditions, added as runc adds them.
absl::Status AddEntry(scmp_filter_ctx ctx, const json& e, uint32_t default_action) {
  if (!e.is_object() || !e.contains("names") || !e["names"].is_array()) {
    return Bad("a syscalls entry without names");
  }
  auto action = Action(e.value("action", ""), ErrnoRet(e, "errnoRet"));
  if (!action.ok()) return action.status();
  // libseccomp refuses rules that repeat the default action; they change
  // nothing anyway.
  if (*action == default_action) return absl::OkStatus();
  std::vector<scmp_arg_cmp> conds;
  std::array<int, kMaxArgs> per_index{};
  if (e.contains("args") && e["args"].is_array()) {
    for (const json& a : e["args"]) {
      const unsigned index = a.value("index", 0u);
      if (index >= kMaxArgs) return Bad(absl::StrFormat("argument index %u", index));
      auto op = Operator(a.value("op", ""));
      if (!op.ok()) return op.status();
      conds.push_back(SCMP_CMP(index, *op, a.value("value", uint64_t{0}),
                               a.value("valueTwo", uint64_t{0})));
      per_index[index]++;
    }
  }
  // Conditions on distinct arguments must all hold; several on the same
  // argument are alternatives, one rule each (runc's behaviour).
  bool repeated = false;
  for (int n : per_index) repeated |= n > 1;
  std::vector<std::vector<scmp_arg_cmp>> rules;
  if (repeated) {
    for (const scmp_arg_cmp& c : conds) rules.push_back({c});
  } else {
    rules.push_back(conds);
  }
  for (const json& n : e["names"]) {
    if (!n.is_string()) return Bad("syscall names must be strings");
    const std::string name = n.get<std::string>();
    const int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr == __NR_SCMP_ERROR) continue;  // unknown to libseccomp: skipped, as runc does
    for (const auto& r : rules) {
      int rc = seccomp_rule_add_array(ctx, *action, nr, static_cast<unsigned>(r.size()),
                                      r.empty() ? nullptr : r.data());
      if (rc != 0) {
        return Bad(absl::StrFormat("rule for %s: %s", name, strerror(-rc)));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Export(scmp_filter_ctx ctx) {
  int fd = memfd_create("oci-seccomp", MFD_CLOEXEC);
  if (fd < 0) return absl::InternalError(absl::StrFormat("memfd_create: %s", strerror(errno)));
  int rc = seccomp_export_bpf(ctx, fd);
  std::string out;
  if (rc == 0) {
    char buf[8192];
    ssize_t n;
    off_t off = 0;
    while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
      out.append(buf, static_cast<size_t>(n));
      off += n;
    }
  }
  close(fd);
  if (rc != 0) return absl::InternalError(absl::StrFormat("seccomp_export_bpf: %s", strerror(-rc)));
  if (out.empty() || out.size() % sizeof(sock_filter) != 0) {
    return absl::InternalError("seccomp_export_bpf: not a BPF program");
  }
  if (out.size() / sizeof(sock_filter) > kMaxInsns) {
    return Bad(absl::StrFormat("the profile compiles to %d BPF instructions; at most %d fit",
                               out.size() / sizeof(sock_filter), kMaxInsns));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> CompileOciSeccomp(const json& profile) {
  if (!profile.is_object()) return Bad("must be an object");
  if (profile.contains("listenerPath") && !profile["listenerPath"].is_null() &&
      !profile["listenerPath"].get<std::string>().empty()) {
    return absl::UnimplementedError(
        "config.json: linux.seccomp: listenerPath is not supported (no seccomp user "
        "notification in the sandbox)");
  }
  auto def = Action(profile.value("defaultAction", ""), ErrnoRet(profile, "defaultErrnoRet"));
  if (!def.ok()) return def.status();
  scmp_filter_ctx ctx = seccomp_init(*def);
  if (ctx == nullptr) return Bad("seccomp_init refused the default action");
  absl::Status s;
  if (profile.contains("syscalls") && profile["syscalls"].is_array()) {
    for (const json& e : profile["syscalls"]) {
      s = AddEntry(ctx, e, *def);
      if (!s.ok()) break;
    }
  }
  absl::StatusOr<std::string> out = s.ok() ? Export(ctx) : absl::StatusOr<std::string>(s);
  seccomp_release(ctx);
  return out;
}

}  // namespace runsc
