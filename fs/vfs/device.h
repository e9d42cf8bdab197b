// Character devices and FIFOs: how VFS::Open reaches implementations that
// live outside the file system holding the inode.
//
// A device node (mknod S_IFCHR) can sit on any file system (tmpfs, the
// gofer's rootfs, overlay); what it opens is decided by its major:minor,
// as Linux's chrdev table does. Device drivers (/dev/null, ttys, ...)
// register a factory at start-up; the pipe implementation registers the
// FIFO opener. The factory returns a fresh FileDescription; VFS::Open then
// calls Init(vd, flags) on it.
//
// Thread safety: registration and lookup may happen concurrently; the
// registry's mutex is a leaf.
#ifndef FS_VFS_DEVICE_H_
#define FS_VFS_DEVICE_H_

#include <cstdint>
#include <functional>
#include <memory>

#include "fs/vfs/file.h"
#include "fs/vfs/mount.h"
#include "sentry/base/error.h"

namespace sentry::vfs {

// `vd` is the device node opened; `flags` the open(2) flags; `task` the
// opener (null: the Sentry itself), which terminals need (the caller's
// controlling terminal, the owner of a new pty).
using CharDeviceFactory = std::function<ErrorOr<std::shared_ptr<FileDescription>>(
    const VirtualDentry& vd, uint32_t flags, Task* task)>;
// Replaces any factory already registered for major:minor.
void RegisterCharDevice(uint32_t major, uint32_t minor, CharDeviceFactory factory);
void UnregisterCharDevice(uint32_t major, uint32_t minor);
// ENXIO when no driver is registered (as Linux for an unknown chrdev).
ErrorOr<std::shared_ptr<FileDescription>> OpenCharDevice(uint64_t rdev, const VirtualDentry& vd,
                                                         uint32_t flags, Task* task);

// The FIFO opener (named pipes). Until one is registered, opening a FIFO
// fails with ENXIO. `task` is the opener, which a blocking open makes wait
// for the other end (null: the Sentry itself, which never waits).
using FifoOpener = std::function<ErrorOr<std::shared_ptr<FileDescription>>(
    const std::shared_ptr<Inode>& inode, const VirtualDentry& vd, uint32_t flags, Task* task)>;
void SetFifoOpener(FifoOpener fn);
ErrorOr<std::shared_ptr<FileDescription>> OpenFifo(const std::shared_ptr<Inode>& inode,
                                                   const VirtualDentry& vd, uint32_t flags,
                                                   Task* task);

}  // namespace sentry::vfs

#endif  // FS_VFS_DEVICE_H_
