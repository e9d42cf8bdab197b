// Global flags of runsc (gVisor's names), shared by the subcommands.
#ifndef RUNSC_FLAGS_H_
#define RUNSC_FLAGS_H_

#include <string>
#include <vector>

namespace runsc {

struct GlobalFlags {
  std::string platform;          // empty: the best platform that works here
  std::string network = "none";
  bool strace = false;
  bool debug = false;
  std::string debug_log;         // file for debug output (and strace)
  std::string root;              // state directory (OCI commands)
  std::string log;               // runc-compatible --log
  std::string log_format = "text";
};

// The runsc binary itself (to re-execute as gofer / boot).
std::string SelfExe();
// The fastest platform that works on this machine.
std::string DefaultPlatform();

int RunDo(const GlobalFlags& g, const std::vector<std::string>& cmd);

struct BootFlags {
  int gofer_fd = -1;
  int spec_fd = -1;
  int log_fd = -1;
  int start_fd = -1;    // OCI create: wait for a byte here before starting
  int control_fd = -1;  // OCI: the listening control socket (exec)
  int ready_fd = -1;    // OCI create: one byte here once ready to start
  std::vector<int> bind_fds;  // gofer sockets for BootSpec.binds, in order
};
int RunBoot(const BootFlags& b);

}  // namespace runsc

#endif  // RUNSC_FLAGS_H_
