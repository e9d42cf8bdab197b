// The sandbox's mount tree: the root (gofer files under an in-memory
// overlay), /proc, /dev, /dev/shm, /sys.
#ifndef RUNSC_ROOTFS_H_
#define RUNSC_ROOTFS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "fs/vfs/vfs.h"
#include "runsc/runsc.pb.h"
#include "sentry/kernel/kernel.h"
#include "sentry/mm/memory_file.h"

namespace runsc {

// Host facts the Sentry reads before it loses its view of the host
// (/proc/cpuinfo text and the like, shown inside the sandbox).
struct HostInfo {
  std::string cpuinfo;
  std::string meminfo;
  int num_cpus = 1;
};
HostInfo SnapshotHostInfo();

// The root: the gofer's files, under an in-memory overlay if `overlay`.
absl::Status SetupRootFs(sentry::vfs::VFS* vfs, sentry::MemoryFile* mf, int gofer_fd, bool overlay);
// What the spec adds to the root before the program starts: mount points
// the system file systems and tmpfs mounts need, files injected into the
// in-memory layer, tmpfs mounts.
// `bind_fds`: a gofer socket per spec.binds entry.
absl::Status PrepareRoot(sentry::vfs::VFS* vfs, sentry::MemoryFile* mf, const BootSpec& spec,
                         const std::vector<int>& bind_fds);
// /proc, /dev, /dev/shm and /sys (after the kernel exists: /proc shows it).
absl::Status MountSystemFs(sentry::vfs::VFS* vfs, sentry::Kernel* k, sentry::MemoryFile* mf,
                           const HostInfo& info);

}  // namespace runsc

#endif  // RUNSC_ROOTFS_H_
