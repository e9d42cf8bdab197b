// OCI runtime commands (runc-compatible): create, start, state, kill,
// delete, run, list, exec, spec, features. A container is one sandbox (one Gofer, one Sentry);
// its state lives in <root>/<id>/ (default root /run/runsc).
//
// What a bundle's config.json may ask for and how it maps:
//  - process.args/env/cwd/user (uid, gid, additionalGids)/rlimits,
//    hostname, root.path: as runc.
//  - The root's host files are never written: the container writes to an
//    in-memory layer above them (as gVisor's default overlay), or, with
//    root.readonly, gets EROFS.
//  - mounts: proc, sysfs, /dev, devpts, mqueue, cgroup and /dev/shm are the
//    Sentry's own; "tmpfs" mounts become sandbox tmpfs mounts; bind mounts
//    of host directories are served by the Gofer as mounts of their own
//    (read-write, or read-only with "ro"); bind mounts of single host files
//    (podman's /etc/hosts, /etc/resolv.conf, ...) are copied into the
//    in-memory layer at create time.
//  - process.terminal: refused with an error (no console socket yet).
//  - linux.cgroupsPath and linux.resources (memory, cpu shares/quota/
//    period/cpuset, pids): the whole sandbox (Sentry, Gofer, stubs) runs
//    in that host cgroup (default /runsc/<id> when the host allows), with
//    the limits applied there; pause/resume freeze it. Memory limits thus
//    count the Sentry's own memory too. blockIO, devices, hugepages and
//    network resources are not applied.
//  - linux.seccomp: compiled on the host with libseccomp (oci_seccomp.h)
//    and installed by the Sentry in the container's init before its first
//    instruction and in every exec'd process, as seccomp(2) would;
//    process.noNewPrivileges sets no_new_privs in those tasks.
//  - Namespaces, capabilities: the sandbox is its own kernel; the
//    host-side isolation is the sandbox's, not the spec's.
#ifndef RUNSC_OCI_H_
#define RUNSC_OCI_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runsc/flags.h"
#include "runsc/launch.h"

namespace runsc {

// Reads <bundle>/config.json into launch options (spec, rootfs).
absl::StatusOr<LaunchOptions> LoadBundle(const GlobalFlags& g, const std::string& bundle);

// An OCI process object (runsc exec --process FILE) into `spec`'s process
// fields (argv, env, cwd, user, rlimits).
absl::Status ParseProcessJson(const std::string& text, BootSpec* spec);

struct ExecFlags {
  std::string process_file;  // --process: an OCI process JSON
  bool detach = false;
  std::string pid_file;
  std::string console_socket;
  bool tty = false;
  std::string cwd;
  std::vector<std::string> env;
  std::string user;          // uid[:gid]
  std::vector<std::string> args;
};
int OciExec(const GlobalFlags& g, const ExecFlags& f, const std::string& id);

struct CreateFlags {
  std::string bundle = ".";
  std::string pid_file;
  std::string console_socket;
  bool detach = false;  // run --detach
};

// Where command errors are also written (runc's --log, --log-format).
void SetOciLog(const std::string& path, const std::string& format);

int OciCreate(const GlobalFlags& g, const CreateFlags& f, const std::string& id);
int OciStart(const GlobalFlags& g, const std::string& id);
int OciState(const GlobalFlags& g, const std::string& id);
int OciKill(const GlobalFlags& g, const std::string& id, const std::string& signal, bool all);
int OciDelete(const GlobalFlags& g, const std::string& id, bool force);
int OciRun(const GlobalFlags& g, const CreateFlags& f, const std::string& id);
int OciList(const GlobalFlags& g, bool quiet);
// pause/resume: freeze or thaw the sandbox's host cgroup.
int OciPause(const GlobalFlags& g, const std::string& id, bool pause);
// ps: the sandbox's host processes (json: an array of pids).
int OciPs(const GlobalFlags& g, const std::string& id, const std::string& format);
// events: stats (cpu, memory, pids) from the cgroup, once or periodically.
int OciEvents(const GlobalFlags& g, const std::string& id, bool stats_once, int interval_s);
// runc spec: a default config.json in `bundle` (refuses to overwrite).
int OciSpec(const std::string& bundle);
// runc features: what this runtime supports, as JSON.
int OciFeatures();

}  // namespace runsc

#endif  // RUNSC_OCI_H_
