// open(2): resolution with O_CREAT/O_EXCL/O_NOFOLLOW/O_DIRECTORY/O_PATH,
// then may_open's checks and the open itself (fs/namei.c: path_openat,
// open_last_lookups, do_open, may_open).
#include <sys/mount.h>

#include "absl/strings/str_format.h"

#include "fs/vfs/device.h"
#include "fs/vfs/vfs_internal.h"

namespace sentry::vfs {
namespace {

int AccModeMay(uint32_t flags) {
  switch (flags & O_ACCMODE) {
    case O_RDONLY:
      return kMayRead;
    case O_WRONLY:
      return kMayWrite;
    default:  // O_RDWR, and 3 (which Linux checks as read+write)
      return kMayRead | kMayWrite;
  }
}

uint32_t ResolveFlags(uint32_t resolve) {
  return resolve & (kNoSymlinks | kNoMagicLinks | kNoXdev | kBeneath | kInRoot);
}

}  // namespace

ErrorOr<std::shared_ptr<FileDescription>> VFS::OpenAt(const PathContext& ctx,
                                                      const VirtualDentry& vd, uint32_t flags) {
  const std::shared_ptr<Inode>& inode = vd.dentry->inode();
  Attr a = TRY_ASSIGN(inode->GetAttr());
  // do_open checks O_DIRECTORY before anything may_open looks at.
  if ((flags & O_DIRECTORY) && !a.IsDir()) return Err(ENOTDIR);
  if (flags & O_PATH) {
    auto fd = std::make_shared<FileDescription>();
    fd->Init(vd, flags & (O_PATH | O_DIRECTORY | O_NOFOLLOW));
    return fd;
  }
  int may = AccModeMay(flags);
  bool trunc = flags & O_TRUNC;
  if (trunc) may |= kMayWrite;
  switch (a.type()) {
    case S_IFLNK:
      return Err(ELOOP);
    case S_IFDIR:
      if (may & kMayWrite) return Err(EISDIR);
      break;
    case S_IFCHR:
    case S_IFBLK:
      if (vd.mount->flags & MS_NODEV) return Err(EACCES);
      trunc = false;
      break;
    case S_IFIFO:
    case S_IFSOCK:
      trunc = false;
      break;
    default:
      break;
  }
  bool plain = a.IsRegular() || a.IsDir();
  // O_TRUNC takes write access to the mount before permission checks.
  if (trunc && a.IsRegular() && vd.mount->read_only()) return Err(EROFS);
  TRY(CheckPermission(ctx.creds, a, may));
  if ((may & kMayWrite) && plain && vd.mount->read_only()) return Err(EROFS);
  if ((flags & O_NOATIME) && !OwnerOrCapable(ctx.creds, a)) return Err(EPERM);
  return OpenChecked(ctx, vd, a, flags, trunc && a.IsRegular());
}

ErrorOr<std::shared_ptr<FileDescription>> VFS::OpenChecked(const PathContext& ctx,
                                                            const VirtualDentry& vd, const Attr& a,
                                                            uint32_t flags, bool trunc) {
  std::shared_ptr<FileDescription> fd;
  // A proxy for an open pipe or host file opens itself: its type says
  // what it looks like, not which registry serves it.
  const uint32_t type = vd.dentry->inode()->OpensAsProxy() ? 0 : a.type();
  switch (type) {
    case S_IFCHR:
      fd = TRY_ASSIGN(OpenCharDevice(a.rdev, vd, flags, ctx.task));
      break;
    case S_IFIFO:
      fd = TRY_ASSIGN(OpenFifo(vd.dentry->inode(), vd, flags, ctx.task));
      break;
    case S_IFBLK:
    case S_IFSOCK:
      return Err(ENXIO);
    default:
      fd = TRY_ASSIGN(vd.dentry->inode()->Open(OpenOptions{flags}));
      break;
  }
  fd->Init(vd, flags);
  if (trunc) {
    SetAttr t;
    t.mask = SetAttr::kSize | SetAttr::kMtime | SetAttr::kCtime;
    t.mtime = t.ctime = Now();
    TRY(vd.dentry->inode()->SetAttrs(t));
    NotifyDentry(*vd.dentry, IN_MODIFY, false);
  }
  NotifyDentry(*vd.dentry, IN_OPEN, a.IsDir());
  return fd;
}

ErrorOr<std::shared_ptr<FileDescription>> VFS::Open(const PathContext& ctx,
                                                    const VirtualDentry& start,
                                                    std::string_view path, uint32_t flags,
                                                    uint32_t mode, uint32_t resolve) {
  // build_open_how / build_open_flags, in their order: O_PATH beats
  // everything else (O_TMPFILE included), then the flag combinations.
  if (flags & O_PATH) flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  if ((flags & O_CREAT) && (flags & O_DIRECTORY)) return Err(EINVAL);
  uint32_t rflags = ResolveFlags(resolve);
  if (flags & kOTmpfileBit) {
    if (!(flags & O_DIRECTORY)) return Err(EINVAL);
    if (!(AccModeMay(flags) & kMayWrite)) return Err(EINVAL);
    return OpenTmpfile(ctx, start, path, flags, mode, rflags);
  }
  bool follow = !(flags & O_NOFOLLOW);
  VirtualDentry vd;
  bool created = false;
  {
    absl::ReaderMutexLock l(&tree_mu_);
    VfsInternal::Walker w(this, ctx, start, rflags);
    if (!(flags & O_CREAT)) {
      vd = TRY_ASSIGN(w.Full(start, path, follow, flags & O_DIRECTORY));
    } else {
      ParentPath p = TRY_ASSIGN(w.Parent(start, path));
      for (;;) {
        if (p.type != LastType::kNorm) {
          if (flags & O_EXCL) return Err(EEXIST);
          return Err(EISDIR);
        }
        if (p.trailing_slash) return Err(EISDIR);
        const std::shared_ptr<Dentry>& dir = p.dir.dentry;
        absl::ReleasableMutexLock dl(&VfsInternal::mu(*dir));
        std::shared_ptr<Dentry> child =
            TRY_ASSIGN(VfsInternal::LookupChildLocked(dir, p.last));
        if (child->negative()) {
          // may_o_create: write access to the mount and the directory.
          if (p.dir.mount->read_only()) return Err(EROFS);
          Attr da = TRY_ASSIGN(dir->inode()->GetAttr());
          TRY(MayCreate(ctx.creds, *dir, da));
          uint32_t m = (mode & 07777 & ~ctx.umask) | S_IFREG;
          uint32_t uid, gid;
          InitOwner(ctx.creds, da, &m, &uid, &gid);
          std::shared_ptr<Inode> in =
              TRY_ASSIGN(dir->inode()->CreateChild(p.last, m, 0, uid, gid));
          vd = VirtualDentry{p.dir.mount, VfsInternal::AddChildLocked(dir, p.last, std::move(in))};
          NotifyChild(*dir, p.last, IN_CREATE);
          created = true;
          break;
        }
        if (flags & O_EXCL) return Err(EEXIST);
        VirtualDentry c{p.dir.mount, child};
        Attr ca = TRY_ASSIGN(child->inode()->GetAttr());
        if (ca.IsDir()) return Err(EISDIR);
        if (!ca.IsSymlink()) {
          dl.Release();
          TRY(w.CrossDownPublic(c));
          vd = std::move(c);
          break;
        }
        if (!follow) return Err(ELOOP);
        dl.Release();
        // A symlink under O_CREAT: its target is opened, or created when
        // dangling, in the directory the link names.
        if (child->inode()->IsMagicLink()) {
          vd = TRY_ASSIGN(w.FollowLink(p.dir, c));
          break;
        }
        if (rflags & kNoSymlinks) return Err(ELOOP);
        TRY(w.CountLink());
        std::string target = TRY_ASSIGN(child->inode()->ReadLinkFor(ctx));
        if (target.empty()) return Err(ENOENT);
        p = TRY_ASSIGN(w.Parent(p.dir, target));
      }
    }
  }
  if (created) {
    Attr a = TRY_ASSIGN(vd.dentry->inode()->GetAttr());
    return OpenChecked(ctx, vd, a, flags, false);
  }
  return OpenAt(ctx, vd, flags);
}

ErrorOr<std::shared_ptr<FileDescription>> VFS::OpenNamedTmpfile(const PathContext& ctx,
                                                                const VirtualDentry& dir,
                                                                std::string_view name,
                                                                uint32_t flags, uint32_t mode) {
  return OpenTmpfile(ctx, dir, ".", flags | O_TMPFILE, mode, 0, name);
}

ErrorOr<std::shared_ptr<FileDescription>> VFS::OpenTmpfile(const PathContext& ctx,
                                                           const VirtualDentry& start,
                                                           std::string_view path, uint32_t flags,
                                                           uint32_t mode, uint32_t rflags,
                                                           std::string_view dentry_name) {
  // fs/namei.c do_tmpfile: the directory (symlinks followed unless
  // O_NOFOLLOW), write access to its mount, then vfs_tmpfile's checks.
  VirtualDentry dir;
  {
    absl::ReaderMutexLock l(&tree_mu_);
    VfsInternal::Walker w(this, ctx, start, rflags);
    dir = TRY_ASSIGN(w.Full(start, path, !(flags & O_NOFOLLOW), /*must_be_dir=*/true));
  }
  if (dir.mount->read_only()) return Err(EROFS);
  Attr da = TRY_ASSIGN(dir.dentry->inode()->GetAttr());
  TRY(CheckPermission(ctx.creds, da, kMayWrite | kMayExec));
  uint32_t m = (mode & 07777 & ~ctx.umask) | S_IFREG;
  uint32_t uid, gid;
  InitOwner(ctx.creds, da, &m, &uid, &gid);
  std::shared_ptr<Inode> in = TRY_ASSIGN(dir.dentry->inode()->CreateTmpfile(m, uid, gid));
  if (!(flags & O_EXCL)) in->set_linkable(true);
  Attr a = TRY_ASSIGN(in->GetAttr());
  // An unhashed child of the directory, as Linux's d_tmpfile names it:
  // "#<ino>", shown "(deleted)" by /proc/<pid>/fd.
  std::string name =
      dentry_name.empty() ? absl::StrFormat("#%d", a.ino) : std::string(dentry_name);
  auto d = std::make_shared<Dentry>(in, std::move(name), dir.dentry);
  VfsInternal::MarkDead(*d);
  // The new file is opened whatever its mode (may_open with no access
  // mode to check).
  return OpenChecked(ctx, VirtualDentry{dir.mount, std::move(d)}, a, flags, false);
}

}  // namespace sentry::vfs
