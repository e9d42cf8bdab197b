// tmpfs: a file system that lives in the Sentry's memory.
//
// Directories hold their children; regular file data lives in MemoryFile
// pages, so read/write are memcpys and mmap maps the file's own pages
// (the file implements Mappable). Used for /tmp, /dev/shm, the overlay's
// upper layer and the Sentry's synthetic roots.
#ifndef FS_TMPFS_TMPFS_H_
#define FS_TMPFS_TMPFS_H_

#include <cstdint>
#include <memory>

#include "fs/vfs/inode.h"
#include "sentry/mm/memory_file.h"

namespace sentry::tmpfs {

struct TmpfsOptions {
  uint32_t root_mode = 01777;  // permission bits of the root directory
  uint32_t root_uid = 0;
  uint32_t root_gid = 0;
  // Bytes of file data allowed (the size= mount option); 0: no limit.
  // Writes, fallocate and mmap faults beyond it fail with ENOSPC.
  uint64_t size_limit = 0;
};

// `mf` must outlive the file system and every inode of it.
std::shared_ptr<vfs::Filesystem> NewTmpfs(MemoryFile* mf, const TmpfsOptions& opts);

// The root directory of a file system made by NewTmpfs (null otherwise).
std::shared_ptr<vfs::Inode> TmpfsRoot(vfs::Filesystem* fs);

// Sets the seals of an open tmpfs file (memfd_create); other files are
// left alone.
void SetSeals(vfs::FileDescription* f, uint32_t seals);

}  // namespace sentry::tmpfs

#endif  // FS_TMPFS_TMPFS_H_
