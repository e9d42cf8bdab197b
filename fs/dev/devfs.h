// devfs: the sandbox's /dev, a small fixed tree (Docker's default /dev):
//
//   null zero full random urandom   crw-rw-rw- root:root  1:3 1:5 1:7 1:8 1:9
//   tty                             crw-rw-rw- root:tty   5:0
//   fd -> /proc/self/fd             stdin/stdout/stderr -> /proc/self/fd/{0,1,2}
//   ptmx -> pts/ptmx
//   shm/   drwxrwxrwt  (a mount point: the boot code mounts a tmpfs there)
//   pts/   drwxr-xr-x  (a mount point: the boot code mounts devpts there)
//
// The nodes only carry numbers: opening one
// goes through the device registry (devices.h), which NewDevfs fills.
// The tree cannot be changed by the application (mknod/mkdir: EPERM); a
// writable /dev is a tmpfs populated with PopulateDevTree once tmpfs is in.
#ifndef FS_DEV_DEVFS_H_
#define FS_DEV_DEVFS_H_

#include <memory>

#include "fs/vfs/vfs.h"
#include "sentry/mm/memory_file.h"

namespace sentry::dev {

// The file system; mount its root (kernfs::RootInode) on /dev. Also
// registers the character devices (RegisterCharDevices(mf)).
std::shared_ptr<vfs::Filesystem> NewDevfs(MemoryFile* mf);

// Creates the same nodes, links and directories in `dir` of any writable
// file system (a tmpfs mounted on /dev), with `ctx`'s credentials (which
// need CAP_MKNOD). Names that already exist are left alone. Does not
// register the devices: call RegisterCharDevices once at boot.
Errno PopulateDevTree(vfs::VFS* vfs, const vfs::PathContext& ctx, const vfs::VirtualDentry& dir);

}  // namespace sentry::dev

#endif  // FS_DEV_DEVFS_H_
