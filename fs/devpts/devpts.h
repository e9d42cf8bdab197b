// devpts: the sandbox's /dev/pts, one instance mounted by the boot code,
// with the options Docker and runc use (gid=5,mode=620,ptmxmode=666):
//
//   ptmx   crw-rw-rw- root:root 5:2   opening it makes a new pty
//   N      crw--w---- opener:tty 136:N, while pty N's master is open
//
// Pty numbers are the lowest free ones, up to kMaxPtys (kernel.pty.max);
// a number is free again once both sides of its pty are closed. Opening
// 5:2 or 136:N anywhere (mknod, /dev/ptmx) reaches the same ptys, as the
// devices are in the VFS device registry.
//
// Lock order: the pty table's mutex is a leaf; Pty methods are called
// without it.
#ifndef FS_DEVPTS_DEVPTS_H_
#define FS_DEVPTS_DEVPTS_H_

#include <memory>

#include "fs/vfs/vfs.h"

namespace sentry::devpts {

inline constexpr uint32_t kMaxPtys = 4096;
inline constexpr uint32_t kTtyGid = 5;
inline constexpr uint32_t kReplicaMode = 0620;
inline constexpr uint32_t kPtmxMode = 0666;

// The file system (mount kernfs::RootInode of it on /dev/pts). Registers
// the ptmx device (5:2) and /dev/tty (5:0, the caller's controlling
// terminal) the first time.
std::shared_ptr<vfs::Filesystem> NewDevpts();

}  // namespace sentry::devpts

#endif  // FS_DEVPTS_DEVPTS_H_
