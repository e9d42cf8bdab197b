// Changes to the union: everything copies up first; removing a name the
// lower also has leaves a whiteout; a directory made where a whiteout was
// becomes opaque so the lower's old contents stay hidden.
#include <stdio.h>
#include <sys/sysmacros.h>

#include "fs/overlay/overlay_internal.h"

namespace sentry::overlay {
namespace {

Errno MakeWhiteout(vfs::Inode* dir, std::string_view name) {
  ErrorOr<std::shared_ptr<vfs::Inode>> w = dir->CreateChild(name, S_IFCHR, makedev(0, 0), 0, 0);
  return w.ok() ? 0 : w.error();
}

// Whether the upper directory has a whiteout named `name`.
bool HasWhiteout(vfs::Inode* dir, std::string_view name) {
  ErrorOr<std::shared_ptr<vfs::Inode>> c = dir->Lookup(name);
  if (!c.ok()) return false;
  ErrorOr<vfs::Attr> a = (*c)->GetAttr();
  return a.ok() && IsWhiteout(*a);
}

}  // namespace

Errno OverlayInode::SetAttrs(const vfs::SetAttr& a) {
  absl::MutexLock l(&ofs()->mu_);
  TRY(CopyUpLocked());
  return upper()->SetAttrs(a);
}

Errno OverlayInode::SetXattr(std::string_view name, std::string_view value, int flags) {
  if (name.substr(0, kPrivatePrefix.size()) == kPrivatePrefix) return EPERM;
  absl::MutexLock l(&ofs()->mu_);
  TRY(CopyUpLocked());
  return upper()->SetXattr(name, value, flags);
}

Errno OverlayInode::RemoveXattr(std::string_view name) {
  if (name.substr(0, kPrivatePrefix.size()) == kPrivatePrefix) return EPERM;
  absl::MutexLock l(&ofs()->mu_);
  // Nothing to copy up for a name that is not there.
  TRY(real()->GetXattr(name));
  TRY(CopyUpLocked());
  return upper()->RemoveXattr(name);
}

ErrorOr<std::shared_ptr<vfs::Inode>> OverlayInode::CreateLocked(
    std::string_view name,
    const std::function<ErrorOr<std::shared_ptr<vfs::Inode>>(vfs::Inode* upper_dir)>& make) {
  if (!is_dir()) return Err(ENOTDIR);
  ErrorOr<std::shared_ptr<OverlayInode>> existing = LookupLocked(name);
  if (existing.ok()) return Err(EEXIST);
  if (existing.error() != ENOENT) return Err(existing.error());
  TRY(CopyUpLocked());
  std::shared_ptr<vfs::Inode> udir = upper();
  bool whiteout = HasWhiteout(udir.get(), name);
  if (whiteout) TRY(udir->Unlink(name));
  ErrorOr<std::shared_ptr<vfs::Inode>> nu = make(udir.get());
  if (!nu.ok()) {
    if (whiteout) (void)MakeWhiteout(udir.get(), name);
    return Err(nu.error());
  }
  vfs::Attr a = TRY_ASSIGN((*nu)->GetAttr());
  if (a.IsDir() && whiteout) TRY((*nu)->SetXattr(kOpaqueXattr, "y", 0));
  return nu;
}

ErrorOr<std::shared_ptr<vfs::Inode>> OverlayInode::CreateChild(std::string_view name,
                                                               uint32_t mode, uint64_t rdev,
                                                               uint32_t uid, uint32_t gid) {
  absl::MutexLock l(&ofs()->mu_);
  std::shared_ptr<vfs::Inode> nu = TRY_ASSIGN(CreateLocked(name, [&](vfs::Inode* d) {
    return d->CreateChild(name, mode, rdev, uid, gid);
  }));
  vfs::Attr a = TRY_ASSIGN(nu->GetAttr());
  auto self = std::static_pointer_cast<OverlayInode>(shared_from_this());
  auto c = std::make_shared<OverlayInode>(ofs(), self, std::string(name), std::move(nu), nullptr,
                                          a.type(), a.ino);
  Remember(name, c);
  return std::shared_ptr<vfs::Inode>(std::move(c));
}

ErrorOr<std::shared_ptr<vfs::Inode>> OverlayInode::CreateSymlink(std::string_view name,
                                                                 std::string_view target,
                                                                 uint32_t uid, uint32_t gid) {
  absl::MutexLock l(&ofs()->mu_);
  std::shared_ptr<vfs::Inode> nu = TRY_ASSIGN(CreateLocked(
      name, [&](vfs::Inode* d) { return d->CreateSymlink(name, target, uid, gid); }));
  vfs::Attr a = TRY_ASSIGN(nu->GetAttr());
  auto self = std::static_pointer_cast<OverlayInode>(shared_from_this());
  auto c = std::make_shared<OverlayInode>(ofs(), self, std::string(name), std::move(nu), nullptr,
                                          S_IFLNK, a.ino);
  Remember(name, c);
  return std::shared_ptr<vfs::Inode>(std::move(c));
}

ErrorOr<std::shared_ptr<vfs::Inode>> OverlayInode::CreateTmpfile(uint32_t mode, uint32_t uid,
                                                                 uint32_t gid) {
  if (!is_dir()) return Err(ENOTDIR);
  // As overlayfs's ovl_tmpfile: the directory is copied up and the file
  // made in its upper, where a later linkat() can name it.
  absl::MutexLock l(&ofs()->mu_);
  TRY(CopyUpLocked());
  std::shared_ptr<vfs::Inode> nu = TRY_ASSIGN(upper()->CreateTmpfile(mode, uid, gid));
  // The overlay file's linkability is the VFS's to decide (O_EXCL); the
  // upper one only ever gets a name through this overlay.
  nu->set_linkable(true);
  vfs::Attr a = TRY_ASSIGN(nu->GetAttr());
  auto self = std::static_pointer_cast<OverlayInode>(shared_from_this());
  return std::shared_ptr<vfs::Inode>(
      std::make_shared<OverlayInode>(ofs(), self, "", std::move(nu), nullptr, S_IFREG, a.ino));
}

Errno OverlayInode::Link(std::string_view name, const std::shared_ptr<vfs::Inode>& target) {
  auto t = std::dynamic_pointer_cast<OverlayInode>(target);
  if (!t || t->fs() != fs()) return EXDEV;
  if (t->is_dir()) return EPERM;
  absl::MutexLock l(&ofs()->mu_);
  TRY(t->CopyUpLocked());
  std::shared_ptr<vfs::Inode> tu = t->upper();
  TRY(CreateLocked(name, [&](vfs::Inode* d) -> ErrorOr<std::shared_ptr<vfs::Inode>> {
    TRY(d->Link(name, tu));
    return tu;
  }));
  tu->set_linkable(false);
  // Both names are one overlay object (it is in the upper now, so its
  // copy-up name no longer matters).
  Remember(name, t);
  return 0;
}

Errno OverlayInode::Unlink(std::string_view name) {
  absl::MutexLock l(&ofs()->mu_);
  std::shared_ptr<OverlayInode> c = TRY_ASSIGN(LookupLocked(name));
  if (c->is_dir()) return EISDIR;
  TRY(CopyUpLocked());
  std::shared_ptr<vfs::Inode> udir = upper();
  bool lower_has = LowerHas(name);
  ErrorOr<std::shared_ptr<vfs::Inode>> in_upper = udir->Lookup(name);
  if (in_upper.ok()) TRY(udir->Unlink(name));
  if (lower_has) TRY(MakeWhiteout(udir.get(), name));
  {
    absl::MutexLock cl(&c->mu_);
    if (!c->upper_) c->removed_ = true;
  }
  Forget(name);
  return 0;
}

Errno OverlayInode::ClearWhiteoutsLocked() {
  std::shared_ptr<vfs::Inode> u = upper();
  if (!u) return 0;
  std::vector<vfs::DirEntry> ents = TRY_ASSIGN(u->ReadDir());
  for (const vfs::DirEntry& e : ents) {
    if (HasWhiteout(u.get(), e.name)) TRY(u->Unlink(e.name));
  }
  return 0;
}

Errno OverlayInode::Rmdir(std::string_view name) {
  absl::MutexLock l(&ofs()->mu_);
  std::shared_ptr<OverlayInode> c = TRY_ASSIGN(LookupLocked(name));
  if (!c->is_dir()) return ENOTDIR;
  std::vector<vfs::DirEntry> ents = TRY_ASSIGN(c->ReadDirLocked());
  if (!ents.empty()) return ENOTEMPTY;
  TRY(CopyUpLocked());
  std::shared_ptr<vfs::Inode> udir = upper();
  bool lower_has = LowerHas(name);
  if (c->upper()) {
    TRY(c->ClearWhiteoutsLocked());
    TRY(udir->Rmdir(name));
  }
  if (lower_has) TRY(MakeWhiteout(udir.get(), name));
  {
    absl::MutexLock cl(&c->mu_);
    c->removed_ = true;
  }
  Forget(name);
  return 0;
}

Errno OverlayInode::Rename(std::string_view old_name, vfs::Inode* new_dir_in,
                           std::string_view new_name, uint32_t flags) {
  auto* nd = dynamic_cast<OverlayInode*>(new_dir_in);
  if (nd == nullptr || nd->fs() != fs()) return EXDEV;
  if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) return EINVAL;
  const bool exchange = flags & RENAME_EXCHANGE;
  absl::MutexLock l(&ofs()->mu_);
  std::shared_ptr<OverlayInode> src = TRY_ASSIGN(LookupLocked(old_name));
  ErrorOr<std::shared_ptr<OverlayInode>> dr = nd->LookupLocked(new_name);
  if (!dr.ok() && dr.error() != ENOENT) return dr.error();
  std::shared_ptr<OverlayInode> dst = dr.ok() ? *dr : nullptr;
  if (dst == src) return 0;
  if ((flags & RENAME_NOREPLACE) && dst) return EEXIST;
  if (exchange && !dst) return ENOENT;
  // Without redirect_dir, directories that have lower contents cannot
  // move: EXDEV makes mv(1) copy them instead, as on Linux.
  if (src->is_dir() && src->lower_) return EXDEV;
  if (exchange && dst->is_dir() && dst->lower_) return EXDEV;
  if (dst && !exchange) {
    if (src->is_dir() != dst->is_dir()) return src->is_dir() ? ENOTDIR : EISDIR;
    if (dst->is_dir()) {
      std::vector<vfs::DirEntry> ents = TRY_ASSIGN(dst->ReadDirLocked());
      if (!ents.empty()) return ENOTEMPTY;
    }
  }
  TRY(CopyUpLocked());
  TRY(nd->CopyUpLocked());
  TRY(src->CopyUpLocked());
  if (exchange) TRY(dst->CopyUpLocked());
  std::shared_ptr<vfs::Inode> ou = upper(), nu = nd->upper();
  bool old_whiteout = !exchange && LowerHas(old_name);
  if (dst && !exchange && dst->is_dir() && dst->upper()) TRY(dst->ClearWhiteoutsLocked());
  // A whiteout (or a lower-only name) at the target: the upper has at
  // most a whiteout there, which must go for a directory to take its place.
  if (!exchange && HasWhiteout(nu.get(), new_name)) TRY(nu->Unlink(new_name));
  TRY(ou->Rename(old_name, nu.get(), new_name, flags));
  if (dst && !exchange) {
    absl::MutexLock dl(&dst->mu_);
    if (!dst->upper_ || dst->is_dir()) dst->removed_ = true;
  }
  // A directory moved over a lower directory's name must not merge it.
  if (src->is_dir() && nd->LowerHas(new_name)) {
    TRY(src->upper()->SetXattr(kOpaqueXattr, "y", 0));
  }
  if (exchange && dst->is_dir() && LowerHas(old_name)) {
    TRY(dst->upper()->SetXattr(kOpaqueXattr, "y", 0));
  }
  if (old_whiteout) TRY(MakeWhiteout(ou.get(), old_name));
  auto self = std::static_pointer_cast<OverlayInode>(shared_from_this());
  auto nds = std::static_pointer_cast<OverlayInode>(nd->shared_from_this());
  Forget(old_name);
  nd->Forget(new_name);
  {
    absl::MutexLock sl(&src->mu_);
    src->parent_ = nds;
    src->name_ = std::string(new_name);
  }
  nd->Remember(new_name, src);
  if (exchange) {
    {
      absl::MutexLock dl(&dst->mu_);
      dst->parent_ = self;
      dst->name_ = std::string(old_name);
    }
    Remember(old_name, dst);
  }
  return 0;
}

}  // namespace sentry::overlay
