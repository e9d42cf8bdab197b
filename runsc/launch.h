// Starting a sandbox: the Gofer ("runsc gofer") and the Sentry ("runsc
// boot", in fresh namespaces), wired together, with the boot spec sent.
// Shared by `runsc do` and the OCI commands.
#ifndef RUNSC_LAUNCH_H_
#define RUNSC_LAUNCH_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runsc/flags.h"
#include "runsc/runsc.pb.h"

namespace runsc {

struct LaunchOptions {
  BootSpec spec;
  std::string gofer_root = "/";
  bool gofer_read_only = true;
  // The Sentry's stdin, stdout, stderr (stdio_count of them are used).
  std::vector<int> stdio;
  // When >= 0, the Sentry waits for one byte on this fd before it starts
  // the program (OCI create/start).
  int start_fd = -1;
  // When >= 0, a listening control socket the Sentry serves (exec).
  int control_fd = -1;
  // When >= 0, the Sentry writes one byte here once it is ready to start
  // (OCI create returns only then, like runc's create).
  int ready_fd = -1;
  // Tie both processes to the caller's life (PR_SET_PDEATHSIG): `do` and
  // `run`; an OCI `create` leaves them running after it exits.
  bool tie_to_caller = true;
  int log_fd = -1;  // the Sentry's and Gofer's log
};

struct Launched {
  pid_t gofer = -1;
  pid_t sentry = -1;
};

absl::StatusOr<Launched> LaunchSandbox(const GlobalFlags& g, const LaunchOptions& o);

// Checks the platform name and that it works here.
absl::Status CheckPlatform(const std::string& platform);

}  // namespace runsc

#endif  // RUNSC_LAUNCH_H_
