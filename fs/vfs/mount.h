// Dentries, mounts and VirtualDentry (a position in the mount tree).
//
// A Dentry names an Inode within its parent directory. The VFS caches
// dentries (positive and, for file systems that allow it, negative ones)
// so repeated lookups do not reach the file system, and keeps parents so
// ".." and getcwd work. Cached children are owned by their parent; a
// dentry removed by unlink/rmdir/rename is detached from the tree but
// lives on while open files or a cwd reference it.
//
// Locking: a dentry's name and parent change only under VFS::tree_mu_
// held exclusively *and* the dentry's own mu_, so they can be read under
// either (ParentSnapshot() takes mu_ for code that has no VFS, such as
// DirectoryFD). children_ is guarded by the dentry's own mutex so
// concurrent lookups can fill the cache under the shared tree lock. Every
// file system call that creates or removes a name in a directory, and every
// cache fill for it, happens with that directory dentry's mu_ held, so the
// cache never disagrees with the file system.
// Lock order: VFS::tree_mu_ > Dentry::mu_ (never two at once) > inode locks.
#ifndef FS_VFS_MOUNT_H_
#define FS_VFS_MOUNT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "fs/vfs/inode.h"

namespace sentry::vfs {

class Dentry {
 public:
  Dentry(std::shared_ptr<Inode> inode, std::string name, std::shared_ptr<Dentry> parent)
      : inode_(std::move(inode)), name_(std::move(name)), parent_(std::move(parent)) {}

  // Null for a negative (cached "does not exist") dentry.
  const std::shared_ptr<Inode>& inode() const { return inode_; }
  bool negative() const { return inode_ == nullptr; }

  // Guarded by VFS::tree_mu_.
  const std::string& name() const { return name_; }
  const std::shared_ptr<Dentry>& parent() const { return parent_; }
  bool dead() const { return dead_; }
  int mount_count() const { return mounts_; }

  // The parent, safe to call without VFS::tree_mu_.
  std::shared_ptr<Dentry> ParentSnapshot() {
    absl::MutexLock l(&mu_);
    return parent_;
  }
  // Both, consistently, without VFS::tree_mu_ (rename changes them under
  // mu_).
  std::pair<std::shared_ptr<Dentry>, std::string> ParentAndName() {
    absl::MutexLock l(&mu_);
    return {parent_, name_};
  }

 private:
  friend class VFS;
  friend class VfsInternal;
  std::shared_ptr<Inode> inode_;
  std::string name_;
  std::shared_ptr<Dentry> parent_;  // null for a file system root
  bool dead_ = false;               // unlinked / rmdir'ed / replaced
  int mounts_ = 0;                  // mounts stacked on this dentry

  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<Dentry>> children_ ABSL_GUARDED_BY(mu_);
};

struct Mount {
  uint64_t id = 0;
  std::shared_ptr<Filesystem> fs;
  std::shared_ptr<Dentry> root;
  // Where it is mounted: null for the namespace root.
  std::shared_ptr<Mount> parent;
  std::shared_ptr<Dentry> mountpoint;
  uint32_t flags = 0;  // MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME ...
  std::string source;  // first field of /proc/mounts
  bool read_only() const;
};

struct VirtualDentry {
  std::shared_ptr<Mount> mount;
  std::shared_ptr<Dentry> dentry;
  bool ok() const { return mount && dentry; }
  bool operator==(const VirtualDentry& o) const { return mount == o.mount && dentry == o.dentry; }
};

}  // namespace sentry::vfs

#endif  // FS_VFS_MOUNT_H_
