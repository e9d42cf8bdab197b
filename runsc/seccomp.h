// Seccomp allowlists as data: one rule per host syscall (or per allowed
// argument pattern), each with the reason it is needed. Installed with
// libseccomp; anything not listed kills the process.
#ifndef RUNSC_SECCOMP_H_
#define RUNSC_SECCOMP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace runsc {

struct SeccompArg {
  unsigned index;     // argument number, 0-5
  uint64_t mask;      // compare (arg & mask) == value
  uint64_t value;
};

struct SeccompRule {
  std::string name;   // syscall name (resolved by libseccomp)
  std::vector<SeccompArg> args;  // all must match; empty = any arguments
  std::string reason;
  // When non-zero the syscall fails with this errno instead of running
  // (e.g. clone3 -> ENOSYS so libc falls back to the filterable clone).
  int errno_instead = 0;
};

// Installs `rules` for the calling process (all threads: TSYNC). With
// `debug`, a violation raises SIGSYS and a handler logs the syscall and a
// backtrace before dying (to find what a new code path needs).
absl::Status InstallSeccomp(const std::vector<SeccompRule>& rules, bool debug = false);

// "name: reason" lines, one per distinct syscall, for
// `runsc seccomp-allowlist`.
std::string FormatAllowlist(const std::vector<SeccompRule>& rules);
size_t CountSyscalls(const std::vector<SeccompRule>& rules);

// The Sentry's allowlist for a platform.
std::vector<SeccompRule> SentryRules(const std::string& platform);

}  // namespace runsc

#endif  // RUNSC_SECCOMP_H_
