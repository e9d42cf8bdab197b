// tmpfs internals: the inode kinds and the open regular file.
//
// Lock order (outermost first):
//   FileDescription::pos_mu_
//   > TmpfsFile::rw_mu_      (like i_rwsem: shared for read, exclusive for
//                             write/truncate/fallocate; held across copies
//                             to and from application memory)
//   > MemoryManager::mu_     (taken by UserIOSequence copies)
//   > TmpfsFs::tree_mu_      (every directory's children: shared for lookup
//                             and readdir, exclusive for any change, so a
//                             rename across directories is atomic; as
//                             gVisor's tmpfs filesystem.mu)
//   > TmpfsInode::mu_        (attributes, and a file's page map; a leaf:
//                             never two at once. Translate takes it from
//                             the MemoryManager's fault path.)
//   > MemoryFile::mu_
#ifndef FS_TMPFS_TMPFS_INTERNAL_H_
#define FS_TMPFS_TMPFS_INTERNAL_H_

#include <fcntl.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "fs/tmpfs/tmpfs.h"
#include "fs/vfs/file.h"
#include "fs/vfs/inode.h"
#include "sentry/mm/mappable.h"
#include "sentry/usermem/addr.h"

namespace sentry::tmpfs {

// Page accounting shared by the file system and its files (files may
// outlive the Filesystem object while still open).
struct Usage {
  std::atomic<uint64_t> pages{0};
  uint64_t limit_pages = 0;  // 0: unlimited
  Errno Reserve(uint64_t n);
  // Reserves as many of `n` pages as the limit allows; returns how many.
  uint64_t ReserveUpTo(uint64_t n);
  void Release(uint64_t n) { pages.fetch_sub(n, std::memory_order_relaxed); }
};

class TmpfsDir;

class TmpfsFs : public vfs::Filesystem {
 public:
  TmpfsFs(MemoryFile* mf, const TmpfsOptions& opts);
  std::string_view Name() const override { return "tmpfs"; }
  Errno StatFS(struct statfs* out) override;
  std::string MountOptions() const override;

  MemoryFile* mf() const { return mf_; }
  const std::shared_ptr<Usage>& usage() const { return usage_; }
  const std::shared_ptr<TmpfsDir>& root() const { return root_; }
  absl::Mutex tree_mu_;

 private:
  MemoryFile* const mf_;
  TmpfsOptions opts_;
  std::shared_ptr<Usage> usage_;
  std::shared_ptr<TmpfsDir> root_;
};

class TmpfsInode : public vfs::Inode {
 public:
  TmpfsInode(TmpfsFs* fs, uint32_t mode, uint32_t uid, uint32_t gid, uint64_t rdev);
  ErrorOr<vfs::Attr> GetAttr() override;
  Errno SetAttrs(const vfs::SetAttr& a) override;
  ErrorOr<std::string> GetXattr(std::string_view name) override;
  Errno SetXattr(std::string_view name, std::string_view value, int flags) override;
  ErrorOr<std::vector<std::string>> ListXattr() override;
  Errno RemoveXattr(std::string_view name) override;

  TmpfsFs* tfs() const { return static_cast<TmpfsFs*>(fs()); }
  uint64_t ino() const { return ino_; }
  uint32_t type() const { return type_; }
  bool is_dir() const { return type_ == S_IFDIR; }

  // Link count changes (+1/-1), with the ctime update Linux does.
  void AdjustLinks(int delta);
  void SetLinks(uint32_t n);
  // ctime (and mtime if `modify`) = now.
  void Touch(bool modify);
  // relatime: atime = now if it is not newer than mtime/ctime or is a day old.
  void Accessed();

 protected:
  // Applies everything but kSize (mu_ held).
  void ApplyLocked(const vfs::SetAttr& a, const struct timespec& now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  virtual uint64_t BlocksLocked() const ABSL_SHARED_LOCKS_REQUIRED(mu_) { return 0; }

  const uint64_t ino_;
  const uint32_t type_;
  mutable absl::Mutex mu_;
  vfs::Attr attr_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string, std::less<>> xattrs_ ABSL_GUARDED_BY(mu_);
};

class TmpfsDir : public TmpfsInode {
 public:
  TmpfsDir(TmpfsFs* fs, uint32_t mode, uint32_t uid, uint32_t gid);
  ErrorOr<std::shared_ptr<vfs::Inode>> Lookup(std::string_view name) override;
  ErrorOr<std::shared_ptr<vfs::Inode>> CreateChild(std::string_view name, uint32_t mode,
                                                   uint64_t rdev, uint32_t uid,
                                                   uint32_t gid) override;
  ErrorOr<std::shared_ptr<vfs::Inode>> CreateSymlink(std::string_view name,
                                                     std::string_view target, uint32_t uid,
                                                     uint32_t gid) override;
  ErrorOr<std::shared_ptr<vfs::Inode>> CreateTmpfile(uint32_t mode, uint32_t uid,
                                                     uint32_t gid) override;
  Errno Link(std::string_view name, const std::shared_ptr<vfs::Inode>& target) override;
  Errno Unlink(std::string_view name) override;
  Errno Rmdir(std::string_view name) override;
  Errno Rename(std::string_view old_name, vfs::Inode* new_dir, std::string_view new_name,
               uint32_t flags) override;
  ErrorOr<std::vector<vfs::DirEntry>> ReadDir() override;

 private:
  using Children = std::map<std::string, std::shared_ptr<TmpfsInode>, std::less<>>;
  ErrorOr<std::shared_ptr<vfs::Inode>> Insert(std::string_view name,
                                              std::shared_ptr<TmpfsInode> child);
  // Guarded by tfs()->tree_mu_.
  Children children_;
  bool dead_ = false;  // removed by rmdir
};

class TmpfsSymlink : public TmpfsInode {
 public:
  TmpfsSymlink(TmpfsFs* fs, std::string target, uint32_t uid, uint32_t gid);
  ErrorOr<std::string> ReadLink() override;

 private:
  const std::string target_;
};

// Devices, FIFOs and sockets: attributes only; VFS::Open handles them.
class TmpfsNode : public TmpfsInode {
 public:
  using TmpfsInode::TmpfsInode;
};

class TmpfsFile : public TmpfsInode, public Mappable {
 public:
  TmpfsFile(TmpfsFs* fs, uint32_t mode, uint32_t uid, uint32_t gid);
  ~TmpfsFile() override;
  ErrorOr<std::shared_ptr<vfs::FileDescription>> Open(const vfs::OpenOptions& opts) override;
  Errno SetAttrs(const vfs::SetAttr& a) override;

  // I/O at `off`; Write with off == -1 appends. `touch` updates atime
  // (not for O_NOATIME opens).
  SysRet Read(IOSequence& dst, int64_t off, bool touch = true);
  SysRet Write(IOSequence& src, int64_t off);
  Errno Fallocate(int mode, uint64_t off, uint64_t len);
  Errno Truncate(uint64_t size, bool update_mtime);

  // Mappable.
  ErrorOr<FileRange> Translate(uint64_t off, uint64_t max_len, bool write) override;
  uint64_t MapsDev() const override { return fs_dev_; }
  uint64_t MapsIno() const override { return ino(); }

  // For tests: MemoryFile offset of page `idx`, or 0 for a hole.
  uint64_t PageForTest(uint64_t idx);

  // File seals (F_SEAL_*). Every tmpfs file starts with F_SEAL_SEAL, as
  // Linux's shmem files do; memfd_create(MFD_ALLOW_SEALING) clears it.
  uint32_t seals() const { return seals_.load(); }
  void set_seals(uint32_t s) { seals_ = s; }
  // F_ADD_SEALS: EPERM once F_SEAL_SEAL is set.
  Errno AddSeals(uint32_t s);

 private:
  uint64_t BlocksLocked() const override ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return pages_.size() * (kPageSize / 512);
  }
  // Makes pages [first, end) exist; appends the ranges it allocated to
  // `fresh` (page indexes) so a failed operation can give them back. On
  // ENOSPC a prefix of the missing pages may have been allocated.
  Errno AllocateLocked(uint64_t first, uint64_t end,
                       std::vector<std::pair<uint64_t, uint64_t>>* fresh)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Frees the file's pages with indexes in [first, end).
  void FreeLocked(uint64_t first, uint64_t end) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ZeroLocked(uint64_t from, uint64_t to) ABSL_SHARED_LOCKS_REQUIRED(mu_);

  MemoryFile* const mf_;
  const std::shared_ptr<Usage> usage_;
  const uint64_t fs_dev_;
  absl::Mutex rw_mu_;
  std::atomic<uint32_t> seals_{F_SEAL_SEAL};
  // File page index -> MemoryFile offset; absent pages are holes.
  std::map<uint64_t, uint64_t> pages_ ABSL_GUARDED_BY(mu_);
};

class TmpfsFileFD : public vfs::FileDescription {
 public:
  explicit TmpfsFileFD(std::shared_ptr<TmpfsFile> f) : file_(std::move(f)) {}
  SysRet PRead(Task* t, IOSequence& dst, int64_t off) override;
  SysRet PWrite(Task* t, IOSequence& src, int64_t off) override;
  ErrorOr<vfs::Attr> Stat() override { return file_->GetAttr(); }
  Errno Allocate(int mode, uint64_t off, uint64_t len) override;
  ErrorOr<std::shared_ptr<Mappable>> GetMappable() override {
    return std::shared_ptr<Mappable>(file_, static_cast<Mappable*>(file_.get()));
  }
  ErrorOr<uint32_t> GetSeals() override { return file_->seals(); }
  TmpfsFile* file() const { return file_.get(); }
  Errno AddSeals(uint32_t seals) override;

 private:
  const std::shared_ptr<TmpfsFile> file_;
};

// Largest file size (Linux's MAX_LFS_FILESIZE).
inline constexpr uint64_t kMaxFileSize = 0x7fffffffffffffffull;

}  // namespace sentry::tmpfs

#endif  // FS_TMPFS_TMPFS_INTERNAL_H_
