// Process isolation steps shared by the Sentry and the Gofer start-up.
#ifndef RUNSC_ISOLATION_H_
#define RUNSC_ISOLATION_H_

#include <string>

#include "absl/status/status.h"

namespace runsc {

// In a private mount namespace: replaces the root with an empty read-only
// tmpfs and detaches the old root, so no host path resolves any more.
absl::Status PivotToEmptyRoot();
// Drops every capability (bounding, permitted, effective, inheritable,
// ambient) and sets no_new_privs.
absl::Status DropAllCapabilities();
// Makes the process undumpable (no ptrace attach, no core file).
void SetUndumpable();
// Reads a whole host file (before the pivot).
std::string ReadHostFile(const std::string& path);

}  // namespace runsc

#endif  // RUNSC_ISOLATION_H_
