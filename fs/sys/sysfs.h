// sysfs: the read-only minimum of /sys that runtimes look at.
//
//   devices/system/cpu/{online,possible,present}   "0-N" (glibc's
//       get_nprocs, the JVM, Go and libuv count CPUs here)
//   devices/system/cpu/kernel_max, cpu0..cpuN/
//   kernel/mm/transparent_hugepage/{enabled,defrag,hpage_pmd_size}
//       (Go's runtime reads hpage_pmd_size at start)
//   fs/cgroup/   empty: no cgroup file system inside the sandbox yet
//   class/ bus/ block/ dev/   empty, so walkers find the usual top level
#ifndef FS_SYS_SYSFS_H_
#define FS_SYS_SYSFS_H_

#include <memory>
#include <string>

#include "fs/vfs/inode.h"

namespace sentry::sysfs {

struct SysfsOptions {
  int num_cpus = 1;  // the host's online CPU count, taken at boot
};

// Mount its root (kernfs::RootInode) on /sys, read-only like Docker's.
std::shared_ptr<vfs::Filesystem> NewSysfs(const SysfsOptions& opts);

// "0-N", "0" (one CPU): the kernel's cpulist format.
std::string CpuList(int num_cpus);

}  // namespace sentry::sysfs

#endif  // FS_SYS_SYSFS_H_
