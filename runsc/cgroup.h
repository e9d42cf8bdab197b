// The host cgroup around an OCI container's sandbox (Sentry, Gofer and the
// platform's stub processes): where the spec's linux.resources limits
// (CPU, memory, pids, cpuset) are enforced by the host, what pause/resume
// freeze, and where stats come from. Both cgroup v1 (one hierarchy per
// controller under /sys/fs/cgroup) and the v2 unified hierarchy.
#ifndef RUNSC_CGROUP_H_
#define RUNSC_CGROUP_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"

namespace runsc {

class Cgroup {
 public:
  // The cgroup named by an OCI cgroupsPath: "/a/b" or "a/b" under the
  // hierarchy root, or systemd's "slice:prefix:name" (as the cgroupfs path
  // /slice/prefix-name.scope). Nothing is created yet.
  static Cgroup ForPath(const std::string& cgroups_path);
  const std::string& path() const { return path_; }
  bool v2() const { return v2_; }

  // Creates the cgroup (every v1 controller hierarchy, or the v2 directory
  // with the parents' controllers enabled).
  absl::Status Create();
  // Applies the spec's linux.resources (null: nothing).
  absl::Status Apply(const nlohmann::json& resources);
  // Moves `pid` (and the threads it has) in.
  absl::Status Add(pid_t pid) const;
  // Freezes or thaws everything inside and waits until done.
  absl::Status Freeze(bool frozen);
  bool Frozen() const;
  // Host pids inside.
  std::vector<pid_t> Pids() const;
  // For `events --stats`: runc's stats object (cpu, memory, pids).
  nlohmann::json Stats() const;
  // Removes the (empty) cgroup directories.
  void Destroy() const;

  // Puts the calling process into `c` and returns how to move it back
  // (its cgroups before): children forked meanwhile start inside.
  static absl::StatusOr<std::vector<std::pair<std::string, std::string>>> EnterSelf(
      const Cgroup& c);
  static void LeaveSelf(const std::vector<std::pair<std::string, std::string>>& before);

 private:
  // The directories of this cgroup: one per v1 controller, or one (v2).
  std::vector<std::string> Dirs() const;
  std::string DirFor(const std::string& controller) const;
  absl::Status Write(const std::string& controller, const std::string& file,
                     const std::string& value) const;
  std::string Read(const std::string& controller, const std::string& file) const;

  std::string path_;
  bool v2_ = false;
};

}  // namespace runsc

#endif  // RUNSC_CGROUP_H_
