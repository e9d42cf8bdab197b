// The gofer file system: the Sentry's view of a tree the Gofer serves.
//
// Boot code calls NewGoferFilesystem with its end of the gofer socket and
// mounts GoferRootInode(*fs) (the overlay's lower layer for `runsc do`, or
// the root / a bind mount for OCI containers). The sandbox is assumed to
// have exclusive access to the served files, so attributes, directory
// listings and symlink targets are cached for the inode's lifetime and
// kept exact by applying the results of our own mutations.
//
// Lock order (whole client): FileDescription::pos_mu_ > GoferInode::io_mu_
// > MemoryManager::mu_ > GoferInode::open_mu_ > GoferInode::mu_ >
// PageCache::mu_ > MemoryFile::mu_; Client::mu_ and
// GoferFilesystem::ino_mu_ are leaves. No inode lock
// is held across another inode's lock, nor across copies to or from
// application memory.
#ifndef FS_GOFER_FILESYSTEM_H_
#define FS_GOFER_FILESYSTEM_H_

#include <memory>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

#include "fs/gofer/client.h"
#include "fs/vfs/inode.h"
#include "sentry/mm/memory_file.h"

namespace sentry::goferfs {

class GoferInode;

struct GoferClientOptions {
  // Refuse every mutation with EROFS without asking the Gofer (also set
  // when the Gofer says the mount is read-only).
  bool read_only = false;
  // Channels to the Gofer: round trips that may be in flight at once.
  int channels = 4;
  // Which served mount to attach (AttachRequest.mount).
  uint32_t mount = 0;
};

class GoferFilesystem : public vfs::Filesystem {
 public:
  // gVisor names gofer mounts "9p" in /proc/mounts; tools that look at
  // the type already know it as "a remote file system".
  std::string_view Name() const override { return "9p"; }
  Errno StatFS(struct statfs* out) override;
  std::string MountOptions() const override { return "trans=fd"; }

  std::shared_ptr<GoferInode> root() const { return root_; }
  Client& client() const { return *client_; }
  const std::shared_ptr<Client>& client_ptr() const { return client_; }
  MemoryFile* mf() const { return mf_; }
  bool read_only() const { return read_only_; }

  // The inode number the sandbox sees for host file (dev, ino). Files on
  // the served root's own host device keep their host numbers; files on
  // other host devices (submounts of the served tree) get numbers of their
  // own, since they all share this file system's one st_dev and tools
  // (cp -a, tar, find) take equal (st_dev, st_ino) for the same file.
  uint64_t MapIno(uint64_t host_dev, uint64_t host_ino);

 private:
  friend ErrorOr<std::shared_ptr<vfs::Filesystem>> NewGoferFilesystem(
      int sock_fd, MemoryFile* mf, const GoferClientOptions& opts);
  GoferFilesystem() = default;
  std::shared_ptr<Client> client_;
  MemoryFile* mf_ = nullptr;
  bool read_only_ = false;
  uint64_t root_host_dev_ = 0;
  absl::Mutex ino_mu_;  // a leaf
  absl::flat_hash_map<std::pair<uint64_t, uint64_t>, uint64_t> foreign_inos_
      ABSL_GUARDED_BY(ino_mu_);
  // Above any real ext4/xfs/btrfs inode number in practice.
  uint64_t next_foreign_ino_ ABSL_GUARDED_BY(ino_mu_) = (1ull << 62) + 1;
  std::shared_ptr<GoferInode> root_;
};

// Connects over `sock_fd` (a SOCK_SEQPACKET socket to the Gofer; owned
// from now on, closed even on failure) and attaches the mount. `mf` holds
// the page cache and must outlive the file system.
ErrorOr<std::shared_ptr<vfs::Filesystem>> NewGoferFilesystem(int sock_fd, MemoryFile* mf,
                                                             const GoferClientOptions& opts);

// The root directory of a gofer file system; null if `fs` is not one.
std::shared_ptr<vfs::Inode> GoferRootInode(vfs::Filesystem& fs);

}  // namespace sentry::goferfs

#endif  // FS_GOFER_FILESYSTEM_H_
