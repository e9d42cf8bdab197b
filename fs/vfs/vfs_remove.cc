// unlink, rmdir and rename: the operations that take names away. They hold
// tree_mu_ exclusively (like Linux's rename lock) so names and parents
// never change under a path walk.
#include <stdio.h>
#include <sys/mount.h>

#include <optional>

#include "fs/vfs/vfs_internal.h"

namespace sentry::vfs {

Errno VFS::Unlink(const PathContext& ctx, const VirtualDentry& start, std::string_view path) {
  absl::MutexLock l(&tree_mu_);
  VfsInternal::Walker w(this, ctx, start, 0);
  ParentPath p = TRY_ASSIGN(w.Parent(start, path));
  if (p.type != LastType::kNorm) return EISDIR;
  if (p.dir.mount->read_only()) return EROFS;
  const std::shared_ptr<Dentry>& dir = p.dir.dentry;
  absl::MutexLock dl(&VfsInternal::mu(*dir));
  std::shared_ptr<Dentry> child = TRY_ASSIGN(VfsInternal::LookupChildLocked(dir, p.last));
  if (child->negative()) return ENOENT;
  Attr ca = TRY_ASSIGN(child->inode()->GetAttr());
  if (p.trailing_slash) return ca.IsDir() ? EISDIR : ENOTDIR;
  Attr da = TRY_ASSIGN(dir->inode()->GetAttr());
  TRY(MayDelete(ctx.creds, da, ca, false, *child));
  if (dir->dead_) return ENOENT;
  if (child->mounts_ > 0) return EBUSY;
  TRY(dir->inode()->Unlink(p.last));
  VfsInternal::RemoveChildLocked(dir, child);
  NotifyUnlinked(*child->inode());
  NotifyChild(*dir, p.last, IN_DELETE);
  return 0;
}

Errno VFS::Rmdir(const PathContext& ctx, const VirtualDentry& start, std::string_view path) {
  absl::MutexLock l(&tree_mu_);
  VfsInternal::Walker w(this, ctx, start, 0);
  ParentPath p = TRY_ASSIGN(w.Parent(start, path));
  switch (p.type) {
    case LastType::kDotDot:
      return ENOTEMPTY;
    case LastType::kDot:
      return EINVAL;
    case LastType::kRoot:
      return EBUSY;
    case LastType::kNorm:
      break;
  }
  if (p.dir.mount->read_only()) return EROFS;
  const std::shared_ptr<Dentry>& dir = p.dir.dentry;
  absl::MutexLock dl(&VfsInternal::mu(*dir));
  std::shared_ptr<Dentry> child = TRY_ASSIGN(VfsInternal::LookupChildLocked(dir, p.last));
  if (child->negative()) return ENOENT;
  Attr ca = TRY_ASSIGN(child->inode()->GetAttr());
  Attr da = TRY_ASSIGN(dir->inode()->GetAttr());
  TRY(MayDelete(ctx.creds, da, ca, true, *child));
  if (dir->dead_) return ENOENT;
  if (child->mounts_ > 0) return EBUSY;
  TRY(dir->inode()->Rmdir(p.last));
  VfsInternal::RemoveChildLocked(dir, child);
  NotifyUnlinked(*child->inode());
  NotifyChild(*dir, p.last, IN_DELETE | IN_ISDIR);
  return 0;
}

namespace {
// Whether `a` is `d` or one of its ancestors (same dentry tree).
bool IsAncestorOrSelf(const Dentry* a, const Dentry* d) {
  for (; d != nullptr; d = d->parent().get()) {
    if (d == a) return true;
  }
  return false;
}
}  // namespace

Errno VFS::Rename(const PathContext& ctx, const VirtualDentry& old_start,
                  std::string_view old_path, const VirtualDentry& new_start,
                  std::string_view new_path, uint32_t flags) {
  if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)) return EINVAL;
  if ((flags & RENAME_NOREPLACE) && (flags & RENAME_EXCHANGE)) return EINVAL;
  if (flags & RENAME_WHITEOUT) return EINVAL;
  const bool exchange = flags & RENAME_EXCHANGE;
  absl::MutexLock l(&tree_mu_);
  VfsInternal::Walker ow(this, ctx, old_start, 0);
  ParentPath op = TRY_ASSIGN(ow.Parent(old_start, old_path));
  VfsInternal::Walker nw(this, ctx, new_start, 0);
  ParentPath np = TRY_ASSIGN(nw.Parent(new_start, new_path));
  if (op.dir.mount != np.dir.mount) return EXDEV;
  if (op.type != LastType::kNorm) return EBUSY;
  if (np.type != LastType::kNorm) return (flags & RENAME_NOREPLACE) ? EEXIST : EBUSY;
  if (op.dir.mount->read_only()) return EROFS;
  const std::shared_ptr<Dentry>& odir = op.dir.dentry;
  const std::shared_ptr<Dentry>& ndir = np.dir.dentry;
  // tree_mu_ is held exclusively, so nothing else looks up or changes
  // names meanwhile: dentry locks are taken one at a time, which keeps
  // them free of ordering cycles.
  std::shared_ptr<Dentry> oc, nc;
  {
    absl::MutexLock dl(&odir->mu_);
    oc = TRY_ASSIGN(VfsInternal::LookupChildLocked(odir, op.last));
  }
  if (oc->negative()) return ENOENT;
  {
    absl::MutexLock dl(&ndir->mu_);
    nc = TRY_ASSIGN(VfsInternal::LookupChildLocked(ndir, np.last));
  }
  Attr oa = TRY_ASSIGN(oc->inode()->GetAttr());
  std::optional<Attr> na;
  if (!nc->negative()) na = TRY_ASSIGN(nc->inode()->GetAttr());
  if ((flags & RENAME_NOREPLACE) && na) return EEXIST;
  if (exchange) {
    if (!na) return ENOENT;
    if (!na->IsDir() && np.trailing_slash) return ENOTDIR;
  }
  if (!oa.IsDir()) {
    if (op.trailing_slash) return ENOTDIR;
    if (!exchange && np.trailing_slash) return ENOTDIR;
  }
  // The source may not be an ancestor of the target's directory, nor the
  // target an ancestor of the source's.
  if (IsAncestorOrSelf(oc.get(), ndir.get())) return EINVAL;
  if (na && IsAncestorOrSelf(nc.get(), odir.get())) return exchange ? EINVAL : ENOTEMPTY;
  if (na && oc->inode() == nc->inode()) return 0;  // same file: nothing to do

  Attr oda = TRY_ASSIGN(odir->inode()->GetAttr());
  Attr nda = oda;
  if (ndir != odir) nda = TRY_ASSIGN(ndir->inode()->GetAttr());
  TRY(MayDelete(ctx.creds, oda, oa, oa.IsDir(), *oc));
  if (!na) {
    TRY(MayCreate(ctx.creds, *ndir, nda));
  } else {
    TRY(MayDelete(ctx.creds, nda, *na, exchange ? na->IsDir() : oa.IsDir(), *nc));
  }
  if (odir->dead_ || ndir->dead_) return ENOENT;
  // Moving a directory rewrites its "..": that needs write access to it.
  if (ndir != odir) {
    if (oa.IsDir()) TRY(CheckPermission(ctx.creds, oa, kMayWrite));
    if (exchange && na->IsDir()) TRY(CheckPermission(ctx.creds, *na, kMayWrite));
  }
  if (oc->mounts_ > 0 || (na && nc->mounts_ > 0)) return EBUSY;
  if (oc->inode()->fs() != ndir->inode()->fs()) return EXDEV;

  TRY(odir->inode()->Rename(op.last, ndir->inode().get(), np.last, flags));
  if (AnyWatches()) {
    // fsnotify_move: MOVED_FROM and MOVED_TO share a cookie; the moved
    // object gets MOVE_SELF; an overwritten target loses a name.
    uint32_t cookie = NextCookie();
    uint32_t od = oa.IsDir() ? IN_ISDIR : 0;
    NotifyChild(*odir, op.last, IN_MOVED_FROM | od, cookie);
    NotifyChild(*ndir, np.last, IN_MOVED_TO | od, cookie);
    if (exchange) {
      uint32_t nd = na->IsDir() ? IN_ISDIR : 0;
      uint32_t c2 = NextCookie();
      NotifyChild(*ndir, np.last, IN_MOVED_FROM | nd, c2);
      NotifyChild(*odir, op.last, IN_MOVED_TO | nd, c2);
      NotifyInode(*nc->inode(), IN_MOVE_SELF);
    }
    NotifyInode(*oc->inode(), IN_MOVE_SELF);
    if (na && !exchange) NotifyUnlinked(*nc->inode());
  }

  // Update the cache to match.
  std::string oname = std::move(op.last), nname = std::move(np.last);
  auto set_child = [](const std::shared_ptr<Dentry>& dir, const std::string& name,
                      std::shared_ptr<Dentry> c) {
    absl::MutexLock dl(&dir->mu_);
    VfsInternal::SetChildLocked(*dir, name, std::move(c));
  };
  auto move = [](const std::shared_ptr<Dentry>& d, const std::string& name,
                 const std::shared_ptr<Dentry>& parent) {
    absl::MutexLock dl(&d->mu_);
    VfsInternal::SetNameParent(*d, name, parent);
  };
  if (exchange) {
    move(nc, oname, odir);
    move(oc, nname, ndir);
    set_child(odir, oname, nc);
    set_child(ndir, nname, oc);
    return 0;
  }
  if (na) nc->dead_ = true;
  move(oc, nname, ndir);
  set_child(ndir, nname, oc);
  set_child(odir, oname, std::make_shared<Dentry>(nullptr, oname, odir));
  return 0;
}

}  // namespace sentry::vfs
