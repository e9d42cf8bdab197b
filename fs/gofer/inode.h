// GoferInode: one file of a gofer file system, named by a Gofer fid.
//
// Caches (exclusive access: nothing changes behind the sandbox's back):
// attributes (from the walk that found the inode; refreshed from the
// results of our own mutations, or by fstat of the host fd after writes),
// the symlink target, the directory listing, and live children by name.
//
// File data: regular files are read and written with pread/pwrite on host
// fds the Gofer donated, one Open round trip per inode and access mode
// (not per open()): `rd_fd_` for reading, `wr_fd_` (O_RDWR when the Gofer
// allows it) for writing. Mapping goes through the PageCache; the inode
// itself is the Mappable, so a mapping keeps the inode (and its fds)
// alive.
//
// Locks: see filesystem.h. io_mu_ orders writes and truncates (O_APPEND
// is atomic, the cached size stays exact); open_mu_ makes concurrent
// first opens share one round trip; mu_ guards the caches and is never
// held across a round trip or a copy to application memory.
#ifndef FS_GOFER_INODE_H_
#define FS_GOFER_INODE_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "fs/gofer/filesystem.h"
#include "fs/gofer/page_cache.h"
#include "fs/vfs/file.h"
#include "sentry/mm/mappable.h"

namespace sentry::goferfs {

class GoferInode : public vfs::Inode, public Mappable {
 public:
  GoferInode(GoferFilesystem* fs, uint64_t fid, const pb::Attr& attr);
  ~GoferInode() override;

  uint64_t fid() const { return fid_; }
  GoferFilesystem* gfs() const { return static_cast<GoferFilesystem*>(fs()); }

  // --- vfs::Inode ---
  ErrorOr<vfs::Attr> GetAttr() override;
  Errno SetAttrs(const vfs::SetAttr& a) override;
  ErrorOr<std::shared_ptr<vfs::Inode>> Lookup(std::string_view name) override;
  ErrorOr<std::shared_ptr<vfs::Inode>> CreateChild(std::string_view name, uint32_t mode,
                                                   uint64_t rdev, uint32_t uid,
                                                   uint32_t gid) override;
  ErrorOr<std::shared_ptr<vfs::Inode>> CreateSymlink(std::string_view name, std::string_view target,
                                                     uint32_t uid, uint32_t gid) override;
  Errno Link(std::string_view name, const std::shared_ptr<vfs::Inode>& target) override;
  Errno Unlink(std::string_view name) override;
  Errno Rmdir(std::string_view name) override;
  Errno Rename(std::string_view old_name, vfs::Inode* new_dir, std::string_view new_name,
               uint32_t flags) override;
  ErrorOr<std::vector<vfs::DirEntry>> ReadDir() override;
  ErrorOr<std::string> ReadLink() override;
  ErrorOr<std::shared_ptr<vfs::FileDescription>> Open(const vfs::OpenOptions& opts) override;
  ErrorOr<std::string> GetXattr(std::string_view name) override;
  Errno SetXattr(std::string_view name, std::string_view value, int flags) override;
  ErrorOr<std::vector<std::string>> ListXattr() override;
  Errno RemoveXattr(std::string_view name) override;

  // --- Mappable ---
  ErrorOr<FileRange> Translate(uint64_t off, uint64_t max_len, bool write) override;
  uint64_t MapsDev() const override { return fs()->dev(); }
  uint64_t MapsIno() const override { return ino_; }

  // Walks `names` from this directory in one round trip (the VFS can use
  // it for a run of plain components). `inodes[i]` is names[i]; if fewer
  // come back, `stop` says why the next one could not be walked (ENOENT,
  // ENOTDIR after a symlink or file, ...).
  struct WalkResult {
    std::vector<std::shared_ptr<GoferInode>> inodes;
    Errno stop = 0;
  };
  ErrorOr<WalkResult> WalkPath(const std::vector<std::string>& names);

  // --- file data (GoferFile) ---
  ErrorOr<size_t> ReadAt(IOSequence& dst, uint64_t off);
  // off == -1 appends. Returns bytes written; *end is the offset after them.
  ErrorOr<size_t> WriteAt(IOSequence& src, int64_t off, uint64_t* end);
  Errno Sync();
  Errno Allocate(int mode, uint64_t off, uint64_t len);
  uint64_t CachedSize();
  // O_TRUNC: makes the file empty (a local ftruncate when we hold a
  // writable fd).
  Errno Truncate(uint64_t size);

 private:
  friend class GoferFilesystem;
  // The child cache and the attributes after a mutation in this directory.
  void ApplyDirAttr(const pb::Attr& a);
  std::shared_ptr<GoferInode> AdoptChild(const std::string& name, const pb::FileRef& f);
  void ForgetChild(const std::string& name);
  void MarkStale();
  // Host fds, opened (one round trip) on first use.
  ErrorOr<int> ReadFd();
  ErrorOr<int> WriteFd();
  ErrorOr<std::shared_ptr<vfs::Inode>> NewChild(pb::Request& req, std::string_view name,
                                                UniqueFd* fd_out);
  Errno RemoveChild(std::string_view name, uint32_t flags);
  Errno TruncateLocked(uint64_t size) ABSL_EXCLUSIVE_LOCKS_REQUIRED(io_mu_);

  const uint64_t fid_;
  const uint64_t host_dev_;
  const uint64_t host_ino_;
  const uint64_t ino_;  // what the sandbox sees: GoferFilesystem::MapIno
  const uint32_t type_;  // S_IFMT bits: a file never changes type
  std::shared_ptr<Client> client_;

  absl::Mutex io_mu_;
  absl::Mutex open_mu_;
  absl::Mutex mu_;
  vfs::Attr attr_ ABSL_GUARDED_BY(mu_);
  // attr_ needs a Stat round trip (ctime/nlink moved on the host).
  bool stale_ ABSL_GUARDED_BY(mu_) = false;
  // attr_ needs an fstat of a host fd (we wrote through it).
  bool host_stale_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<std::string> link_target_ ABSL_GUARDED_BY(mu_);
  std::optional<std::vector<vfs::DirEntry>> dirents_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::weak_ptr<GoferInode>> children_ ABSL_GUARDED_BY(mu_);
  int rd_fd_ ABSL_GUARDED_BY(mu_) = -1;
  int wr_fd_ ABSL_GUARDED_BY(mu_) = -1;
  bool wr_fd_reads_ ABSL_GUARDED_BY(mu_) = false;  // wr_fd_ is O_RDWR
  PageCache cache_;
};

// A regular file opened on a gofer file system.
class GoferFile : public vfs::FileDescription {
 public:
  explicit GoferFile(std::shared_ptr<GoferInode> inode) : inode_(std::move(inode)) {}
  SysRet Read(Task* t, IOSequence& dst) override;
  SysRet Write(Task* t, IOSequence& src) override;
  SysRet PRead(Task* t, IOSequence& dst, int64_t off) override;
  SysRet PWrite(Task* t, IOSequence& src, int64_t off) override;
  ErrorOr<int64_t> Seek(int64_t off, int whence) override;
  SysRet IterDirents(Task* t, vfs::DirentSink& sink) override { return SysRet::Err(ENOTDIR); }
  SysRet Ioctl(Task* t, uint32_t cmd, uint64_t arg) override { return SysRet::Err(ENOTTY); }
  ErrorOr<vfs::Attr> Stat() override { return inode_->GetAttr(); }
  Errno Sync() override { return inode_->Sync(); }
  Errno Allocate(int mode, uint64_t off, uint64_t len) override;
  uint32_t Readiness(uint32_t mask) override;
  ErrorOr<std::shared_ptr<Mappable>> GetMappable() override;

 private:
  bool can_read() const { return (flags() & O_ACCMODE) != O_WRONLY && !is_path(); }
  bool can_write() const { return (flags() & O_ACCMODE) != O_RDONLY && !is_path(); }
  std::shared_ptr<GoferInode> inode_;
};

}  // namespace sentry::goferfs

#endif  // FS_GOFER_INODE_H_
