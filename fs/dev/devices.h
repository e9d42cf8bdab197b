// The memory character devices (drivers/char/mem.c, random.c) and /dev/tty:
// /dev/null 1:3, /dev/zero 1:5, /dev/full 1:7, /dev/random 1:8,
// /dev/urandom 1:9, /dev/tty 5:0.
//
// They are drivers, not files: RegisterCharDevices() puts them in the VFS
// device registry, so a node with these numbers opens them on any file
// system (devfs, tmpfs, the container's rootfs, an overlay).
//
// /dev/zero and mmap: GetMappable returns a fresh, lazily filled anonymous
// object per call, so MAP_SHARED mappings are shared anonymous memory that
// survives fork (Linux's shmem_zero_setup), and MAP_PRIVATE ones are
// copy-on-write over zero pages. The mmap syscall needs no special case.
//
// /dev/tty: the caller's controlling terminal (a pty, see fs/tty/pty.h);
// ENXIO for a process without one, as Linux says.
#ifndef FS_DEV_DEVICES_H_
#define FS_DEV_DEVICES_H_

#include <sys/sysmacros.h>

#include <memory>

#include "fs/vfs/file.h"
#include "sentry/mm/memory_file.h"

namespace sentry::dev {

inline constexpr uint32_t kMemMajor = 1;
inline constexpr uint32_t kNullMinor = 3;
inline constexpr uint32_t kZeroMinor = 5;
inline constexpr uint32_t kFullMinor = 7;
inline constexpr uint32_t kRandomMinor = 8;
inline constexpr uint32_t kUrandomMinor = 9;
inline constexpr uint32_t kTtyMajor = 5;
inline constexpr uint32_t kTtyMinor = 0;

// Registers the six devices. `mf` backs /dev/zero mappings and must
// outlive every file opened. Idempotent.
void RegisterCharDevices(MemoryFile* mf);

// The device files themselves, for tests and for code that wants one
// without a node (the VFS calls Init on what the registry returns).
std::shared_ptr<vfs::FileDescription> NewNullFile();
std::shared_ptr<vfs::FileDescription> NewZeroFile(MemoryFile* mf);
std::shared_ptr<vfs::FileDescription> NewFullFile();
std::shared_ptr<vfs::FileDescription> NewRandomFile();

}  // namespace sentry::dev

#endif  // FS_DEV_DEVICES_H_
