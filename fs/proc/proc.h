// procfs: the sandbox's /proc, generated from the Sentry's own kernel
// state (the host's /proc is never visible inside the sandbox).
//
// Contents follow proc(5) and Linux 6.1's formats byte for byte where the
// Sentry has the data:
//   /proc/self, /proc/thread-self            links naming the caller
//   /proc/<pid>/ for every process (and /proc/<tid>/ for any thread, not
//       listed, as Linux): cmdline environ comm status stat statm maps
//       smaps auxv limits cgroup mounts mountinfo oom_score oom_score_adj
//       loginuid exe cwd root fd/ fdinfo/ task/<tid>/ ns/ attr/
//   cpuinfo meminfo (host snapshots taken at boot), stat uptime loadavg
//       version filesystems swaps mounts (-> self/mounts)
//   sys/{kernel,vm,fs,net}/...               sysctls (sysctl.cc)
//
// Names come and go with processes, so the VFS does not cache lookups
// here (Filesystem::CacheDentries() is false). File content is generated
// when first read and kept by the open file (see kernfs.h).
//
// Lock order: proc takes Kernel::tasks_mu_ (then SignalHandlers::mu and
// Task::mu_) briefly during lookups, i.e. while the VFS holds its tree
// lock shared. That is below the VFS in the documented order; it cannot
// deadlock because no code holds tasks_mu_ or Task::mu_ while it calls
// into the VFS (exit and exec drop files and mms after unlocking).
#ifndef FS_PROC_PROC_H_
#define FS_PROC_PROC_H_

#include <memory>
#include <string>
#include <vector>

#include "fs/vfs/inode.h"

namespace sentry {
class Kernel;
}

namespace sentry::proc {

// Host facts the Sentry snapshots at boot, before it loses its host view.
struct ProcOptions {
  std::string cpuinfo;  // the host's /proc/cpuinfo text
  std::string meminfo;  // the host's /proc/meminfo text
  int num_cpus = 1;     // online CPUs (cpu lines of /proc/stat, Cpus_allowed)
  // What uname(2) reports (syscalls/sys.cc); /proc/version and
  // /proc/sys/kernel/{osrelease,version} must agree with it.
  std::string release = "6.1.0";
  std::string version = "#1 SMP PREEMPT_DYNAMIC sandbox";
};

// The file system; mount kernfs::RootInode(fs) on /proc with
// MS_NOSUID | MS_NODEV | MS_NOEXEC and source "proc". `k` must outlive it.
std::shared_ptr<vfs::Filesystem> NewProcfs(Kernel* k, const ProcOptions& opts);

}  // namespace sentry::proc

#endif  // FS_PROC_PROC_H_
