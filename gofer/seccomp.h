// Seccomp allowlists as data: each rule allows one host syscall, maybe
// only with certain arguments, and says why it is needed. Anything not
// allowed kills the process (SECCOMP_RET_KILL_PROCESS): a Gofer making an
// unexpected syscall is already compromised or broken.
#ifndef GOFER_SECCOMP_H_
#define GOFER_SECCOMP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace gofer {

// One condition on a syscall argument (libseccomp's scmp_arg_cmp).
struct SeccompArg {
  enum class Op { kEq, kNe, kMaskedEq };
  unsigned index = 0;  // argument 0..5
  Op op = Op::kEq;
  uint64_t value = 0;  // kEq/kNe: the value; kMaskedEq: the expected (arg & mask)
  uint64_t mask = 0;   // kMaskedEq only
};

struct SeccompRule {
  int nr;                        // x86-64 syscall number
  const char* name;              // for the listing
  std::vector<SeccompArg> args;  // all must hold; empty: any arguments
  const char* reason;
};

// The Gofer's allowlist while serving. Read-only mode leaves out every
// syscall that changes the file system.
std::vector<SeccompRule> GoferSeccompRules(bool read_only);

// "name(arg conditions)  # reason" per line: `runsc seccomp-allowlist gofer`.
std::string FormatSeccompRules(const std::vector<SeccompRule>& rules);

// Installs `rules` as this process's filter (all threads). The caller has
// set PR_SET_NO_NEW_PRIVS or holds CAP_SYS_ADMIN.
absl::Status InstallSeccompFilter(const std::vector<SeccompRule>& rules);

}  // namespace gofer

#endif  // GOFER_SECCOMP_H_
