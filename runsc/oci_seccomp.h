// An OCI config's linux.seccomp profile, compiled on the host with
// libseccomp into the classic BPF program the Sentry installs in the
// container's processes (as if each had called seccomp(2) itself before
// its first instruction). Only x86-64 matters: the sandbox runs nothing
// else, so other listed architectures are ignored.
//
// Mapping, as runc does it: defaultAction/defaultErrnoRet; syscalls[] with
// names, action, errnoRet and args (index, value, valueTwo, op; args on
// distinct indexes must all match, repeated indexes become one rule each);
// unknown syscall names are skipped. SCMP_ACT_NOTIFY and listenerPath
// (user notification) are refused: the Sentry has no notification fd.
#ifndef RUNSC_OCI_SECCOMP_H_
#define RUNSC_OCI_SECCOMP_H_

#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"

namespace runsc {

// The program as raw struct sock_filter bytes (BootSpec.seccomp_bpf).
absl::StatusOr<std::string> CompileOciSeccomp(const nlohmann::json& profile);

}  // namespace runsc

#endif  // RUNSC_OCI_SECCOMP_H_
