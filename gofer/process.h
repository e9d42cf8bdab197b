// RunGoferProcess: the body of `runsc gofer`.
//
// Turns the calling process into a Gofer that can see nothing but the
// served root: a private mount namespace whose root is a recursive bind of
// `root` (read-only, nodev, nosuid as asked), no other file descriptors,
// only the capabilities file serving needs, no new privileges, dies with
// its parent, and a seccomp allowlist (seccomp_rules.cc). Then serves.
//
// Call it in a fresh single-threaded process (after fork/exec): it
// changes process-wide state (mounts, root, capabilities, umask, seccomp)
// for good.
#ifndef GOFER_PROCESS_H_
#define GOFER_PROCESS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace gofer {

struct GoferProcessOptions {
  std::string root;           // host directory to serve ("/" for `runsc do`)
  bool read_only = true;      // served read-only (the overlay's lower layer)
  std::vector<int> sock_fds;  // SOCK_SEQPACKET channels to the Sentry
  bool seccomp = true;        // false only to debug the filter itself
  int max_channels = 16;
  // Die with the launcher (runsc do/run). An OCI create's launcher exits
  // at once: then the Gofer ends when the Sentry closes its channels.
  bool die_with_parent = true;
  // More trees to serve (OCI bind mounts of directories), as mounts 1, 2,
  // ... of AttachRequest: host directories, each read-only or not.
  struct Bind {
    std::string source;
    bool read_only = true;
  };
  std::vector<Bind> binds;
};

// Returns when the Sentry has closed every channel (OK), or an error if
// the sandbox could not be set up (nothing was served then).
absl::Status RunGoferProcess(const GoferProcessOptions& opts);

// The capability sets the Gofer keeps (bit i = capability i).
uint64_t GoferCapabilities(bool read_only);

}  // namespace gofer

#endif  // GOFER_PROCESS_H_
