// Copy-up: before anything changes, the object moves to the upper layer
// with its parents (same mode, owner and times), data (regular files,
// holes kept), target (symlinks), device number and extended attributes.
#include <sys/sysmacros.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "fs/overlay/overlay_internal.h"

namespace sentry::overlay {
namespace {
constexpr size_t kCopyChunk = 64 * 1024;

bool AllZero(const char* p, size_t n) {
  static const char zeros[kCopyChunk] = {};
  return memcmp(p, zeros, n) == 0;
}
}  // namespace

Errno OverlayInode::CopyDataLocked(const std::shared_ptr<vfs::Inode>& to, const vfs::Attr& la) {
  std::shared_ptr<vfs::FileDescription> src = TRY_ASSIGN(OpenLayer(lower_, O_RDONLY | O_NOATIME));
  std::shared_ptr<vfs::FileDescription> dst = TRY_ASSIGN(OpenLayer(to, O_WRONLY));
  std::string buf(kCopyChunk, '\0');
  int64_t off = 0;
  for (;;) {
    BufferIOSequence in(buf.data(), buf.size());
    SysRet n = src->PRead(nullptr, in, off);
    if (!n.ok()) return n.error();
    if (n.value() == 0) break;
    // Zero chunks stay holes in the copy.
    if (!AllZero(buf.data(), n.value())) {
      BufferIOSequence out(buf.data(), n.value());
      SysRet w = dst->PWrite(nullptr, out, off);
      if (!w.ok()) return w.error();
      if (w.value() != n.value()) return ENOSPC;
    }
    off += n.value();
  }
  vfs::SetAttr sz;
  sz.mask = vfs::SetAttr::kSize;
  sz.size = la.size;
  return to->SetAttrs(sz);
}

Errno OverlayInode::CopyUpLocked() {
  std::shared_ptr<OverlayInode> parent;
  std::string name;
  {
    absl::MutexLock l(&mu_);
    if (upper_) return 0;
    parent = parent_;
    name = name_;
  }
  if (!parent) return EIO;  // only the root has no parent, and it has an upper
  TRY(parent->CopyUpLocked());
  std::shared_ptr<vfs::Inode> pu = parent->upper();
  vfs::Attr la = TRY_ASSIGN(lower_->GetAttr());
  vfs::Attr pa = TRY_ASSIGN(pu->GetAttr());
  std::shared_ptr<vfs::Inode> nu;
  switch (la.type()) {
    case S_IFDIR:
      nu = TRY_ASSIGN(pu->CreateChild(name, la.mode, 0, la.uid, la.gid));
      break;
    case S_IFLNK: {
      std::string target = TRY_ASSIGN(lower_->ReadLink());
      nu = TRY_ASSIGN(pu->CreateSymlink(name, target, la.uid, la.gid));
      break;
    }
    case S_IFREG:
      nu = TRY_ASSIGN(pu->CreateChild(name, la.mode, 0, la.uid, la.gid));
      if (Errno e = CopyDataLocked(nu, la); e != 0) {
        (void)pu->Unlink(name);
        return e;
      }
      break;
    default:
      nu = TRY_ASSIGN(pu->CreateChild(name, la.mode, la.rdev, la.uid, la.gid));
      break;
  }
  // Extended attributes the upper can hold (others are dropped, as
  // overlayfs does for namespaces the upper does not support).
  ErrorOr<std::vector<std::string>> names = lower_->ListXattr();
  if (names.ok()) {
    for (const std::string& n : *names) {
      if (std::string_view(n).substr(0, kPrivatePrefix.size()) == kPrivatePrefix) continue;
      ErrorOr<std::string> v = lower_->GetXattr(n);
      if (v.ok()) (void)nu->SetXattr(n, *v, 0);
    }
  }
  if (la.type() != S_IFDIR) (void)nu->SetXattr(kOriginXattr, absl::StrCat(ino_), 0);
  vfs::SetAttr a;
  a.mask = vfs::SetAttr::kMode | vfs::SetAttr::kAtime | vfs::SetAttr::kMtime;
  a.mode = la.mode & 07777;
  a.atime = la.atime;
  a.mtime = la.mtime;
  if (la.type() == S_IFLNK) a.mask &= ~vfs::SetAttr::kMode;
  (void)nu->SetAttrs(a);
  // A copy-up is not a change of the parent: restore its times, as
  // overlayfs does (best effort).
  vfs::SetAttr pt;
  pt.mask = vfs::SetAttr::kAtime | vfs::SetAttr::kMtime;
  pt.atime = pa.atime;
  pt.mtime = pa.mtime;
  (void)pu->SetAttrs(pt);
  absl::MutexLock l(&mu_);
  upper_ = std::move(nu);
  return 0;
}

}  // namespace sentry::overlay
