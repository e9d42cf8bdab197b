// The overlay Filesystem and its constructor.
#include <sys/sysmacros.h>
#include <sys/vfs.h>

#include "fs/overlay/overlay_internal.h"

namespace sentry::overlay {

bool IsWhiteout(const vfs::Attr& a) { return a.type() == S_IFCHR && a.rdev == makedev(0, 0); }

Errno OverlayFs::StatFS(struct statfs* out) {
  TRY(upper_fs_->StatFS(out));
  out->f_type = 0x794c7630;  // OVERLAYFS_SUPER_MAGIC
  return 0;
}

ErrorOr<std::shared_ptr<vfs::FileDescription>> OpenLayer(const std::shared_ptr<vfs::Inode>& inode,
                                                         uint32_t flags) {
  std::shared_ptr<vfs::FileDescription> fd = TRY_ASSIGN(inode->Open(vfs::OpenOptions{flags}));
  // Not in any mount: the dentry only tells the layer's file which inode
  // it is.
  vfs::VirtualDentry vd{nullptr, std::make_shared<vfs::Dentry>(inode, "", nullptr)};
  fd->Init(std::move(vd), flags);
  return fd;
}

std::shared_ptr<vfs::Filesystem> NewOverlay(std::shared_ptr<vfs::Inode> upper_root,
                                            std::shared_ptr<vfs::Inode> lower_root,
                                            std::shared_ptr<vfs::Filesystem> upper_fs,
                                            std::shared_ptr<vfs::Filesystem> lower_fs) {
  if (!upper_root || !lower_root) return nullptr;
  ErrorOr<vfs::Attr> ua = upper_root->GetAttr();
  ErrorOr<vfs::Attr> la = lower_root->GetAttr();
  if (!ua.ok() || !la.ok() || !ua->IsDir() || !la->IsDir()) return nullptr;
  auto fs = std::make_shared<OverlayFs>(std::move(upper_fs), std::move(lower_fs));
  ErrorOr<std::string> opaque = upper_root->GetXattr(kOpaqueXattr);
  if (opaque.ok() && *opaque == "y") lower_root = nullptr;
  uint64_t ino = lower_root ? la->ino : ua->ino;
  fs->root_ = std::make_shared<OverlayInode>(fs.get(), nullptr, "", std::move(upper_root),
                                             std::move(lower_root), S_IFDIR, ino);
  return fs;
}

std::shared_ptr<vfs::Inode> OverlayRoot(vfs::Filesystem* fs) {
  auto* o = dynamic_cast<OverlayFs*>(fs);
  return o ? o->root_ : nullptr;
}

}  // namespace sentry::overlay
