// Filesystem and Inode defaults, inode numbers and the clock.
#include <sys/sysmacros.h>
#include <sys/mount.h>
#include <sys/vfs.h>

#include <atomic>

#include "fs/vfs/file.h"
#include "fs/vfs/inode.h"
#include "fs/vfs/mount.h"

namespace sentry::vfs {
namespace {
// Anonymous device minors, as Linux's get_anon_bdev(); 0 is never used.
std::atomic<uint32_t> next_anon_minor{1};
std::atomic<uint64_t> next_ino{1};
}  // namespace

Filesystem::Filesystem()
    : dev_(makedev(0, next_anon_minor.fetch_add(1, std::memory_order_relaxed))) {}

Errno Filesystem::StatFS(struct statfs* out) {
  *out = {};
  out->f_type = 0x01021994;  // TMPFS_MAGIC: an in-memory file system
  out->f_bsize = 4096;
  out->f_frsize = 4096;
  out->f_namelen = 255;
  return 0;
}

ErrorOr<VirtualDentry> Inode::MagicLinkTarget() { return Err(EINVAL); }
ErrorOr<VirtualDentry> Inode::MagicLinkTargetFor(const PathContext&) { return MagicLinkTarget(); }

ErrorOr<std::shared_ptr<FileDescription>> Inode::Open(const OpenOptions& opts) {
  Attr a = TRY_ASSIGN(GetAttr());
  if (a.IsDir()) return std::shared_ptr<FileDescription>(std::make_shared<DirectoryFD>());
  return Err(ENXIO);
}

uint64_t NextInodeNumber() { return next_ino.fetch_add(1, std::memory_order_relaxed); }

struct timespec Now() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts;
}

bool Mount::read_only() const { return flags & MS_RDONLY; }

}  // namespace sentry::vfs
