#include "runsc/seccomp.h"

#include <execinfo.h>
#include <seccomp.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>

#include <set>

#include "absl/strings/str_format.h"
#include "sentry/base/log.h"

namespace runsc {

namespace {

void OnSigsys(int, siginfo_t* si, void*) {
  char buf[128];
  int n = snprintf(buf, sizeof(buf), "seccomp: the Sentry made a forbidden host syscall %d\n",
                   si->si_syscall);
  write(sentry::LogFd(), buf, static_cast<size_t>(n));
  void* frames[32];
  int depth = backtrace(frames, 32);
  backtrace_symbols_fd(frames, depth, sentry::LogFd());
  _exit(126);
}

}  // namespace

absl::Status InstallSeccomp(const std::vector<SeccompRule>& rules, bool debug) {
  if (debug) {
    // backtrace() loads libgcc_s on first use: do it now, while open(2)
    // is still allowed.
    void* warm[1];
    backtrace(warm, 1);
    struct sigaction sa = {};
    sa.sa_sigaction = OnSigsys;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSYS, &sa, nullptr);
  }
  scmp_filter_ctx ctx = seccomp_init(debug ? SCMP_ACT_TRAP : SCMP_ACT_KILL_PROCESS);
  if (ctx == nullptr) return absl::InternalError("seccomp_init failed");
  for (const SeccompRule& r : rules) {
    int nr = seccomp_syscall_resolve_name(r.name.c_str());
    if (nr == __NR_SCMP_ERROR) {
      seccomp_release(ctx);
      return absl::InternalError(absl::StrFormat("unknown syscall %s in allowlist", r.name));
    }
    uint32_t action = r.errno_instead ? SCMP_ACT_ERRNO(static_cast<uint32_t>(r.errno_instead))
                                      : SCMP_ACT_ALLOW;
    std::vector<scmp_arg_cmp> cmps;
    for (const SeccompArg& a : r.args) {
      cmps.push_back(SCMP_CMP(a.index, SCMP_CMP_MASKED_EQ, a.mask, a.value));
    }
    int rc = seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(cmps.size()),
                                    cmps.empty() ? nullptr : cmps.data());
    if (rc != 0) {
      seccomp_release(ctx);
      return absl::InternalError(absl::StrFormat("seccomp rule for %s: %s", r.name, strerror(-rc)));
    }
  }
  seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
  int rc = seccomp_load(ctx);
  seccomp_release(ctx);
  if (rc != 0) return absl::InternalError(absl::StrFormat("seccomp_load: %s", strerror(-rc)));
  return absl::OkStatus();
}

std::string FormatAllowlist(const std::vector<SeccompRule>& rules) {
  std::string out;
  for (const SeccompRule& r : rules) {
    std::string args;
    for (const SeccompArg& a : r.args) {
      args += absl::StrFormat("%sarg%d", args.empty() ? " [" : ", ", a.index);
      if (a.mask == ~uint64_t{0}) {
        args += absl::StrFormat("==%#x", a.value);
      } else {
        args += absl::StrFormat("&%#x==%#x", a.mask, a.value);
      }
    }
    if (!args.empty()) args += "]";
    out += absl::StrFormat("%-18s %s%s%s\n", r.name, r.reason, args,
                           r.errno_instead ? absl::StrFormat(" (fails with errno %d)", r.errno_instead) : "");
  }
  return out;
}

size_t CountSyscalls(const std::vector<SeccompRule>& rules) {
  std::set<std::string> names;
  for (const SeccompRule& r : rules)
    if (!r.errno_instead) names.insert(r.name);
  return names.size();
}

}  // namespace runsc
