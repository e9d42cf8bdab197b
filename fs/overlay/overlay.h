// overlay: a writable upper layer (a tmpfs) over a read-only lower layer
// (the gofer's rootfs in production), with Linux overlayfs's on-"disk"
// conventions in the upper: whiteouts are 0:0 character devices, opaque
// directories carry trusted.overlay.opaque = "y".
//
// The lower is any vfs::Inode tree that supports Lookup/GetAttr/ReadDir/
// ReadLink/GetXattr/Open for reading; it is never modified. Every change
// copies the object (and its parent directories) up first.
#ifndef FS_OVERLAY_OVERLAY_H_
#define FS_OVERLAY_OVERLAY_H_

#include <memory>

#include "fs/vfs/inode.h"

namespace sentry::overlay {

// `upper_root` must be a writable directory supporting whiteouts and
// trusted.* xattrs (tmpfs); the Filesystem arguments keep the layers alive
// (inodes only point at their Filesystem). Returns null if either root is
// not a directory.
std::shared_ptr<vfs::Filesystem> NewOverlay(std::shared_ptr<vfs::Inode> upper_root,
                                            std::shared_ptr<vfs::Inode> lower_root,
                                            std::shared_ptr<vfs::Filesystem> upper_fs,
                                            std::shared_ptr<vfs::Filesystem> lower_fs);

// The root directory of a file system made by NewOverlay (null otherwise).
std::shared_ptr<vfs::Inode> OverlayRoot(vfs::Filesystem* fs);

}  // namespace sentry::overlay

#endif  // FS_OVERLAY_OVERLAY_H_
