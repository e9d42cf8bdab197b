// mknod, mkdir, symlink and link: fs/namei.c's filename_create and
// may_create, then the file system's create.
#include <sys/mount.h>

#include <functional>

#include "fs/vfs/vfs_internal.h"

namespace sentry::vfs {

Errno MayCreate(const Credentials& c, const Dentry& dir, const Attr& dir_attr) {
  if (VfsInternal::dead(dir)) return ENOENT;
  return VFS::CheckPermission(c, dir_attr, kMayWrite | kMayExec);
}

Errno MayDelete(const Credentials& c, const Attr& dir_attr, const Attr& victim, bool isdir,
                const Dentry& victim_dentry) {
  TRY(VFS::CheckPermission(c, dir_attr, kMayWrite | kMayExec));
  // Sticky directories: only the file's or the directory's owner.
  if ((dir_attr.mode & S_ISVTX) && c.fsuid != victim.uid && c.fsuid != dir_attr.uid &&
      !c.HasCap(kCapFowner)) {
    return EPERM;
  }
  if (isdir) {
    if (!victim.IsDir()) return ENOTDIR;
    if (!victim_dentry.parent()) return EBUSY;
  } else if (victim.IsDir()) {
    return EISDIR;
  }
  return 0;
}

void InitOwner(const Credentials& c, const Attr& dir_attr, uint32_t* mode, uint32_t* uid,
               uint32_t* gid) {
  *uid = c.fsuid;
  if (dir_attr.mode & S_ISGID) {
    *gid = dir_attr.gid;
    if (S_ISDIR(*mode)) *mode |= S_ISGID;
  } else {
    *gid = c.fsgid;
  }
  // A set-group-ID executable of a group the creator is not in loses the
  // bit (inode_init_owner / mode_strip_sgid).
  if (!S_ISDIR(*mode) && (*mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP) &&
      !c.InGroup(*gid) && !c.HasCap(kCapFsetid)) {
    *mode &= ~S_ISGID;
  }
}

namespace {

using MakeFn = std::function<ErrorOr<std::shared_ptr<Inode>>(const VirtualDentry& dir,
                                                             const Attr& dir_attr,
                                                             const std::string& name)>;

// filename_create: resolves the parent, insists the name is free and
// writable, then calls `make` with the directory dentry locked.
// Precondition: tree_mu_ held shared.
Errno CreateLocked(VfsInternal::Walker& w, const VirtualDentry& start, std::string_view path,
                   bool want_dir, const MakeFn& make) {
  ParentPath p = TRY_ASSIGN(w.Parent(start, path));
  if (p.type != LastType::kNorm) return EEXIST;
  const std::shared_ptr<Dentry>& dir = p.dir.dentry;
  absl::MutexLock l(&VfsInternal::mu(*dir));
  std::shared_ptr<Dentry> child = TRY_ASSIGN(VfsInternal::LookupChildLocked(dir, p.last));
  if (!child->negative()) return EEXIST;
  // "name/" may only create a directory.
  if (p.trailing_slash && !want_dir) return ENOENT;
  if (p.dir.mount->read_only()) return EROFS;
  Attr da = TRY_ASSIGN(dir->inode()->GetAttr());
  std::shared_ptr<Inode> in = TRY_ASSIGN(make(p.dir, da, p.last));
  bool isdir = false;
  if (AnyWatches()) {
    auto a = in->GetAttr();
    isdir = a.ok() && a->IsDir();
  }
  VfsInternal::AddChildLocked(dir, p.last, std::move(in));
  NotifyChild(*dir, p.last, IN_CREATE | (isdir ? IN_ISDIR : 0));
  return 0;
}

}  // namespace

Errno VFS::Mknod(const PathContext& ctx, const VirtualDentry& start, std::string_view path,
                 uint32_t mode, uint64_t dev) {
  switch (mode & S_IFMT) {
    case 0:
      mode |= S_IFREG;
      break;
    case S_IFREG:
    case S_IFCHR:
    case S_IFBLK:
    case S_IFIFO:
    case S_IFSOCK:
      break;
    case S_IFDIR:
      return EPERM;
    default:
      return EINVAL;
  }
  absl::ReaderMutexLock l(&tree_mu_);
  VfsInternal::Walker w(this, ctx, start, 0);
  return CreateLocked(w, start, path, false,
                      [&](const VirtualDentry& dir, const Attr& da,
                          const std::string& name) -> ErrorOr<std::shared_ptr<Inode>> {
                        TRY(MayCreate(ctx.creds, *dir.dentry, da));
                        uint32_t type = mode & S_IFMT;
                        bool device = type == S_IFCHR || type == S_IFBLK;
                        if (device && !ctx.creds.HasCap(kCapMknod)) return Err(EPERM);
                        uint32_t m = type | (mode & 07777 & ~ctx.umask);
                        uint32_t uid, gid;
                        InitOwner(ctx.creds, da, &m, &uid, &gid);
                        return dir.dentry->inode()->CreateChild(name, m, device ? dev : 0, uid,
                                                                gid);
                      });
}

Errno VFS::Mkdir(const PathContext& ctx, const VirtualDentry& start, std::string_view path,
                 uint32_t mode) {
  absl::ReaderMutexLock l(&tree_mu_);
  VfsInternal::Walker w(this, ctx, start, 0);
  return CreateLocked(w, start, path, true,
                      [&](const VirtualDentry& dir, const Attr& da,
                          const std::string& name) -> ErrorOr<std::shared_ptr<Inode>> {
                        TRY(MayCreate(ctx.creds, *dir.dentry, da));
                        uint32_t m = S_IFDIR | (mode & 01777 & ~ctx.umask);
                        uint32_t uid, gid;
                        InitOwner(ctx.creds, da, &m, &uid, &gid);
                        return dir.dentry->inode()->CreateChild(name, m, 0, uid, gid);
                      });
}

Errno VFS::Symlink(const PathContext& ctx, std::string_view target, const VirtualDentry& start,
                   std::string_view path) {
  if (target.empty()) return ENOENT;
  if (target.size() >= kPathMax) return ENAMETOOLONG;
  absl::ReaderMutexLock l(&tree_mu_);
  VfsInternal::Walker w(this, ctx, start, 0);
  return CreateLocked(w, start, path, false,
                      [&](const VirtualDentry& dir, const Attr& da,
                          const std::string& name) -> ErrorOr<std::shared_ptr<Inode>> {
                        TRY(MayCreate(ctx.creds, *dir.dentry, da));
                        uint32_t m = S_IFLNK | 0777;
                        uint32_t uid, gid;
                        InitOwner(ctx.creds, da, &m, &uid, &gid);
                        return dir.dentry->inode()->CreateSymlink(name, target, uid, gid);
                      });
}

Errno VFS::Link(const PathContext& ctx, const VirtualDentry& old_start, std::string_view old_path,
                const VirtualDentry& new_start, std::string_view new_path, bool follow,
                bool empty_path) {
  // Linking an fd's file needs CAP_DAC_READ_SEARCH (else it is ENOENT).
  if (empty_path && old_path.empty() && !ctx.creds.HasCap(kCapDacReadSearch)) return ENOENT;
  absl::ReaderMutexLock l(&tree_mu_);
  VfsInternal::Walker ow(this, ctx, old_start, empty_path ? uint32_t{kEmptyPathOk} : 0u);
  VirtualDentry old = TRY_ASSIGN(ow.Full(old_start, old_path, follow, false));
  const std::shared_ptr<Inode>& target = old.dentry->inode();
  VfsInternal::Walker w(this, ctx, new_start, 0);
  return CreateLocked(
      w, new_start, new_path, false,
      [&](const VirtualDentry& dir, const Attr& da,
          const std::string& name) -> ErrorOr<std::shared_ptr<Inode>> {
        if (dir.mount != old.mount) return Err(EXDEV);
        Attr ta = TRY_ASSIGN(target->GetAttr());
        // may_linkat with protected_hardlinks: only the owner may link a
        // file it could not read and write, or a set-ID file.
        if (!OwnerOrCapable(ctx.creds, ta)) {
          bool safe = ta.IsRegular() && !(ta.mode & S_ISUID) &&
                      (ta.mode & (S_ISGID | S_IXGRP)) != (S_ISGID | S_IXGRP) &&
                      CheckPermission(ctx.creds, ta, kMayRead | kMayWrite) == 0;
          if (!safe) return Err(EPERM);
        }
        TRY(MayCreate(ctx.creds, *dir.dentry, da));
        if (target->fs() != dir.dentry->inode()->fs()) return Err(EXDEV);
        if (ta.IsDir()) return Err(EPERM);
        // A file with no name left stays nameless, except an O_TMPFILE file
        // opened without O_EXCL (vfs_link's I_LINKABLE), and only once.
        if (ta.nlink == 0 && !target->linkable()) return Err(ENOENT);
        TRY(dir.dentry->inode()->Link(name, target));
        target->set_linkable(false);
        NotifyInode(*target, IN_ATTRIB);  // its link count
        return target;
      });
}

}  // namespace sentry::vfs
