// overlay internals.
//
// Lock order: OverlayFs::mu_ (shared for lookups and readdir, exclusive
// for copy-up and every namespace change, so the union view never shows a
// half-done operation) > OverlayInode::mu_ (a leaf among overlay locks:
// the current upper, the name used for copy-up, the child cache) > the
// layers' locks. OverlayFD::mu_ > OverlayInode::mu_.
#ifndef FS_OVERLAY_OVERLAY_INTERNAL_H_
#define FS_OVERLAY_OVERLAY_INTERNAL_H_

#include <map>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "fs/overlay/overlay.h"
#include "fs/vfs/file.h"

namespace sentry::overlay {

inline constexpr std::string_view kOpaqueXattr = "trusted.overlay.opaque";
inline constexpr std::string_view kOriginXattr = "trusted.overlay.origin";
inline constexpr std::string_view kPrivatePrefix = "trusted.overlay.";

class OverlayInode;

class OverlayFs : public vfs::Filesystem {
 public:
  OverlayFs(std::shared_ptr<vfs::Filesystem> upper_fs, std::shared_ptr<vfs::Filesystem> lower_fs)
      : upper_fs_(std::move(upper_fs)), lower_fs_(std::move(lower_fs)) {}
  std::string_view Name() const override { return "overlay"; }
  Errno StatFS(struct statfs* out) override;
  std::string MountOptions() const override { return "lowerdir=/,upperdir=/,workdir=/"; }

  absl::Mutex mu_;
  std::shared_ptr<OverlayInode> root_;

 private:
  std::shared_ptr<vfs::Filesystem> upper_fs_, lower_fs_;
};

class OverlayInode : public vfs::Inode {
 public:
  OverlayInode(OverlayFs* fs, std::shared_ptr<OverlayInode> parent, std::string name,
               std::shared_ptr<vfs::Inode> upper, std::shared_ptr<vfs::Inode> lower,
               uint32_t type, uint64_t ino);

  ErrorOr<vfs::Attr> GetAttr() override;
  Errno SetAttrs(const vfs::SetAttr& a) override;
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
  ErrorOr<std::string> ReadLink() override;
  ErrorOr<std::shared_ptr<vfs::FileDescription>> Open(const vfs::OpenOptions& opts) override;
  ErrorOr<std::string> GetXattr(std::string_view name) override;
  Errno SetXattr(std::string_view name, std::string_view value, int flags) override;
  ErrorOr<std::vector<std::string>> ListXattr() override;
  Errno RemoveXattr(std::string_view name) override;

  OverlayFs* ofs() const { return static_cast<OverlayFs*>(fs()); }
  bool is_dir() const { return type_ == S_IFDIR; }
  std::shared_ptr<vfs::Inode> upper() {
    absl::MutexLock l(&mu_);
    return upper_;
  }
  // The lower object: for a directory, the lower directory merged into it
  // (null when upper-only or opaque); otherwise the file copied up from.
  const std::shared_ptr<vfs::Inode>& lower() const { return lower_; }
  // The layer the object lives in now.
  std::shared_ptr<vfs::Inode> real() {
    absl::MutexLock l(&mu_);
    return upper_ ? upper_ : lower_;
  }

  // Preconditions for the *Locked helpers: ofs()->mu_ held (exclusively for
  // anything that changes the upper layer).
  Errno CopyUpLocked();
  ErrorOr<std::shared_ptr<OverlayInode>> LookupLocked(std::string_view name);
  ErrorOr<std::vector<vfs::DirEntry>> ReadDirLocked();

 private:
  friend class OverlayFD;
  Errno CopyDataLocked(const std::shared_ptr<vfs::Inode>& to, const vfs::Attr& la);
  // Creation common to CreateChild/CreateSymlink/Link: drops a whiteout in
  // the way, calls `make`, and marks new directories opaque when a
  // whiteout hid a lower object.
  ErrorOr<std::shared_ptr<vfs::Inode>> CreateLocked(
      std::string_view name,
      const std::function<ErrorOr<std::shared_ptr<vfs::Inode>>(vfs::Inode* upper_dir)>& make);
  // Whether the lower directory merged here has `name`.
  bool LowerHas(std::string_view name);
  // Removes whiteouts left in this directory's upper (before rmdir).
  Errno ClearWhiteoutsLocked();
  void Forget(std::string_view name);
  void Remember(std::string_view name, const std::shared_ptr<OverlayInode>& c);

  const uint32_t type_;
  const uint64_t ino_;
  const std::shared_ptr<vfs::Inode> lower_;
  absl::Mutex mu_;
  std::shared_ptr<vfs::Inode> upper_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<OverlayInode> parent_ ABSL_GUARDED_BY(mu_);
  std::string name_ ABSL_GUARDED_BY(mu_);
  bool removed_ ABSL_GUARDED_BY(mu_) = false;  // unlinked while lower-only
  std::map<std::string, std::weak_ptr<OverlayInode>, std::less<>> children_ ABSL_GUARDED_BY(mu_);
};

// An open overlay file: forwards to the layer's own FileDescription, and
// switches from the lower to the upper copy once the file is copied up (as
// Linux's overlayfs does since 4.19), so every fd sees the same data.
class OverlayFD : public vfs::FileDescription {
 public:
  OverlayFD(std::shared_ptr<OverlayInode> inode, std::shared_ptr<vfs::FileDescription> inner,
            bool on_upper, uint32_t flags)
      : inode_(std::move(inode)), inner_(std::move(inner)), on_upper_(on_upper), flags_(flags) {}
  SysRet PRead(Task* t, IOSequence& dst, int64_t off) override;
  SysRet PWrite(Task* t, IOSequence& src, int64_t off) override;
  ErrorOr<vfs::Attr> Stat() override { return inode_->GetAttr(); }
  Errno Sync() override;
  Errno Allocate(int mode, uint64_t off, uint64_t len) override;
  SysRet Ioctl(Task* t, uint32_t cmd, uint64_t arg) override;
  ErrorOr<std::shared_ptr<Mappable>> GetMappable() override;

 private:
  ErrorOr<std::shared_ptr<vfs::FileDescription>> Real();
  const std::shared_ptr<OverlayInode> inode_;
  absl::Mutex mu_;
  std::shared_ptr<vfs::FileDescription> inner_ ABSL_GUARDED_BY(mu_);
  bool on_upper_ ABSL_GUARDED_BY(mu_);
  const uint32_t flags_;
};

// Opens `inode` for the overlay's own use (copy-up) or as a layer file.
ErrorOr<std::shared_ptr<vfs::FileDescription>> OpenLayer(const std::shared_ptr<vfs::Inode>& inode,
                                                         uint32_t flags);
bool IsWhiteout(const vfs::Attr& a);

}  // namespace sentry::overlay

#endif  // FS_OVERLAY_OVERLAY_INTERNAL_H_
