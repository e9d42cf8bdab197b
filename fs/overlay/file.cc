// Opening overlay files: directories list the union; regular files open
// the layer they live in (copying up first when opened for writing).
#include "fs/overlay/overlay_internal.h"

namespace sentry::overlay {

ErrorOr<std::shared_ptr<vfs::FileDescription>> OverlayInode::Open(const vfs::OpenOptions& opts) {
  if (is_dir()) return vfs::Inode::Open(opts);
  if (type_ != S_IFREG) return Err(ENXIO);
  bool write = (opts.flags & O_ACCMODE) != O_RDONLY || (opts.flags & O_TRUNC);
  if (write) {
    absl::MutexLock l(&ofs()->mu_);
    TRY(CopyUpLocked());
  }
  std::shared_ptr<vfs::Inode> u = upper();
  std::shared_ptr<vfs::Inode> r = u ? u : lower_;
  uint32_t layer_flags = opts.flags & ~(O_TRUNC | O_CREAT | O_EXCL);
  // Reads from the lower must not change it, not even its atime (overlayfs
  // opens real files with O_NOATIME too).
  uint32_t open_flags = u ? layer_flags : (layer_flags | O_NOATIME);
  std::shared_ptr<vfs::FileDescription> inner = TRY_ASSIGN(OpenLayer(r, open_flags));
  auto self = std::static_pointer_cast<OverlayInode>(shared_from_this());
  return std::shared_ptr<vfs::FileDescription>(
      std::make_shared<OverlayFD>(std::move(self), std::move(inner), u != nullptr, layer_flags));
}

ErrorOr<std::shared_ptr<vfs::FileDescription>> OverlayFD::Real() {
  absl::MutexLock l(&mu_);
  if (!on_upper_) {
    std::shared_ptr<vfs::Inode> u = inode_->upper();
    if (u) {
      // Copied up since we opened: follow the data to the upper.
      inner_ = TRY_ASSIGN(OpenLayer(u, flags_));
      on_upper_ = true;
    }
  }
  return inner_;
}

SysRet OverlayFD::PRead(Task* t, IOSequence& dst, int64_t off) {
  std::shared_ptr<vfs::FileDescription> r = TRY_ASSIGN(Real());
  return r->PRead(t, dst, off);
}

SysRet OverlayFD::PWrite(Task* t, IOSequence& src, int64_t off) {
  std::shared_ptr<vfs::FileDescription> r = TRY_ASSIGN(Real());
  return r->PWrite(t, src, off);
}

Errno OverlayFD::Sync() {
  std::shared_ptr<vfs::FileDescription> r = TRY_ASSIGN(Real());
  return r->Sync();
}

Errno OverlayFD::Allocate(int mode, uint64_t off, uint64_t len) {
  std::shared_ptr<vfs::FileDescription> r = TRY_ASSIGN(Real());
  return r->Allocate(mode, off, len);
}

SysRet OverlayFD::Ioctl(Task* t, uint32_t cmd, uint64_t arg) {
  std::shared_ptr<vfs::FileDescription> r = TRY_ASSIGN(Real());
  return r->Ioctl(t, cmd, arg);
}

ErrorOr<std::shared_ptr<Mappable>> OverlayFD::GetMappable() {
  std::shared_ptr<vfs::FileDescription> r = TRY_ASSIGN(Real());
  return r->GetMappable();
}

}  // namespace sentry::overlay
