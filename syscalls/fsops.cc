// Changes to the file tree and to attributes; the working directory.
#include <linux/stat.h>
#include <sys/sysmacros.h>

#include "fs/vfs/types.h"
#include "syscalls/handlers.h"
#include "syscalls/util.h"

namespace sentry::sys {
namespace {

struct PathAt {
  vfs::VirtualDentry start;
  std::string path;
};

ErrorOr<PathAt> GetPathAt(Task& t, int dirfd, uint64_t addr) {
  PathAt p;
  p.path = TRY_ASSIGN(CopyInPath(t, addr));
  p.start = TRY_ASSIGN(StartDir(t, dirfd, p.path));
  return p;
}

// Resolves an object for chmod/chown/utimes-like calls.
ErrorOr<vfs::VirtualDentry> ResolveObject(Task& t, int dirfd, uint64_t addr, bool follow,
                                          bool empty_ok) {
  std::string path = TRY_ASSIGN(CopyInPath(t, addr));
  if (path.empty()) {
    if (!empty_ok) return Err(ENOENT);
    return FdDentry(t, dirfd);
  }
  vfs::VirtualDentry start = TRY_ASSIGN(StartDir(t, dirfd, path));
  return t.kernel().vfs()->Resolve(t.PathCtx(), start, path, follow ? vfs::kFollow : 0u);
}

// fchmod/fchown: an O_PATH descriptor allows no operation on the file
// itself (Linux's fdget() refuses it with EBADF).
ErrorOr<vfs::VirtualDentry> FileObject(Task& t, int fd) {
  FilePtr f = TRY_ASSIGN(GetIOFile(t, fd));
  if (!f->vd().ok()) return Err(EBADF);
  return f->vd();
}

SysRet MkdirCommon(Task& t, int dirfd, uint64_t path, uint64_t mode) {
  PathAt p = TRY_ASSIGN(GetPathAt(t, dirfd, path));
  return t.kernel().vfs()->Mkdir(t.PathCtx(), p.start, p.path, static_cast<uint32_t>(mode & 07777));
}

SysRet MknodCommon(Task& t, int dirfd, uint64_t path, uint64_t mode, uint64_t dev) {
  uint32_t type = static_cast<uint32_t>(mode) & S_IFMT;
  if (type == 0) type = S_IFREG;
  if (type == S_IFDIR) return SysRet::Err(EPERM);
  if (type != S_IFREG && type != S_IFCHR && type != S_IFBLK && type != S_IFIFO && type != S_IFSOCK) {
    return SysRet::Err(EINVAL);
  }
  if ((type == S_IFCHR || type == S_IFBLK) && !t.creds().HasCap(vfs::kCapMknod)) {
    return SysRet::Err(EPERM);
  }
  PathAt p = TRY_ASSIGN(GetPathAt(t, dirfd, path));
  // The kernel's dev_t from the old 32-bit encoding userspace passes.
  uint32_t d = static_cast<uint32_t>(dev);
  uint64_t rdev = makedev((d >> 8) & 0xfff, (d & 0xff) | ((d >> 12) & 0xfff00));
  return t.kernel().vfs()->Mknod(t.PathCtx(), p.start, p.path, type | (mode & 07777), rdev);
}

SysRet UnlinkCommon(Task& t, int dirfd, uint64_t path, uint64_t flags) {
  if (flags & ~uint64_t{AT_REMOVEDIR}) return SysRet::Err(EINVAL);
  PathAt p = TRY_ASSIGN(GetPathAt(t, dirfd, path));
  if (flags & AT_REMOVEDIR) return t.kernel().vfs()->Rmdir(t.PathCtx(), p.start, p.path);
  return t.kernel().vfs()->Unlink(t.PathCtx(), p.start, p.path);
}

SysRet RenameCommon(Task& t, int olddir, uint64_t oldp, int newdir, uint64_t newp, uint64_t flags) {
  if (flags & ~uint64_t{RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT}) {
    return SysRet::Err(EINVAL);
  }
  if ((flags & RENAME_EXCHANGE) && (flags & (RENAME_NOREPLACE | RENAME_WHITEOUT))) {
    return SysRet::Err(EINVAL);
  }
  PathAt o = TRY_ASSIGN(GetPathAt(t, olddir, oldp));
  PathAt n = TRY_ASSIGN(GetPathAt(t, newdir, newp));
  return t.kernel().vfs()->Rename(t.PathCtx(), o.start, o.path, n.start, n.path,
                                  static_cast<uint32_t>(flags));
}

SysRet LinkCommon(Task& t, int olddir, uint64_t oldp, int newdir, uint64_t newp, uint64_t flags) {
  if (flags & ~uint64_t{AT_SYMLINK_FOLLOW | AT_EMPTY_PATH}) return SysRet::Err(EINVAL);
  std::string old_path = TRY_ASSIGN(CopyInPath(t, oldp));
  vfs::VirtualDentry ostart;
  if (old_path.empty() && (flags & AT_EMPTY_PATH)) {
    ostart = TRY_ASSIGN(FdDentry(t, olddir));
  } else {
    ostart = TRY_ASSIGN(StartDir(t, olddir, old_path));
  }
  PathAt n = TRY_ASSIGN(GetPathAt(t, newdir, newp));
  return t.kernel().vfs()->Link(t.PathCtx(), ostart, old_path, n.start, n.path,
                                flags & AT_SYMLINK_FOLLOW, flags & AT_EMPTY_PATH);
}

SysRet SymlinkCommon(Task& t, uint64_t target, int dirfd, uint64_t path) {
  std::string tgt = TRY_ASSIGN(CopyInPath(t, target));
  if (tgt.empty()) return SysRet::Err(ENOENT);
  PathAt p = TRY_ASSIGN(GetPathAt(t, dirfd, path));
  return t.kernel().vfs()->Symlink(t.PathCtx(), tgt, p.start, p.path);
}

SysRet Chmod(Task& t, const vfs::VirtualDentry& vd, uint64_t mode) {
  vfs::SetAttr s;
  s.mask = vfs::SetAttr::kMode;
  s.mode = static_cast<uint32_t>(mode & 07777);
  return t.kernel().vfs()->SetAttrs(t.PathCtx(), vd, s);
}

SysRet Chown(Task& t, const vfs::VirtualDentry& vd, uint64_t uid, uint64_t gid) {
  vfs::SetAttr s;
  if (static_cast<int32_t>(uid) != -1) {
    s.mask |= vfs::SetAttr::kUid;
    s.uid = static_cast<uint32_t>(uid);
  }
  if (static_cast<int32_t>(gid) != -1) {
    s.mask |= vfs::SetAttr::kGid;
    s.gid = static_cast<uint32_t>(gid);
  }
  return t.kernel().vfs()->SetAttrs(t.PathCtx(), vd, s);
}

SysRet Truncate(Task& t, const vfs::VirtualDentry& vd, int64_t len) {
  if (len < 0) return SysRet::Err(EINVAL);
  vfs::SetAttr s;
  s.mask = vfs::SetAttr::kSize;
  s.size = static_cast<uint64_t>(len);
  return t.kernel().vfs()->SetAttrs(t.PathCtx(), vd, s);
}

// utimensat's times: NULL = now; UTIME_NOW / UTIME_OMIT per field. The
// VFS takes tv_nsec == UTIME_NOW as "now" (write permission suffices).
SysRet SetTimes(Task& t, const vfs::VirtualDentry& vd, const struct timespec* ts) {
  vfs::SetAttr s;
  if (ts == nullptr) {
    s.mask = vfs::SetAttr::kAtime | vfs::SetAttr::kMtime;
    s.atime.tv_nsec = s.mtime.tv_nsec = UTIME_NOW;
  } else {
    for (int i = 0; i < 2; i++) {
      if (ts[i].tv_nsec == UTIME_OMIT) continue;
      if (ts[i].tv_nsec != UTIME_NOW && (ts[i].tv_nsec < 0 || ts[i].tv_nsec >= 1000000000)) {
        return SysRet::Err(EINVAL);
      }
      if (i == 0) {
        s.mask |= vfs::SetAttr::kAtime;
        s.atime = ts[i];
      } else {
        s.mask |= vfs::SetAttr::kMtime;
        s.mtime = ts[i];
      }
    }
    if (s.mask == 0) return 0;
  }
  return t.kernel().vfs()->SetAttrs(t.PathCtx(), vd, s);
}

}  // namespace

SysRet Mkdir(Task& t, const SyscallArgs& a) { return MkdirCommon(t, AT_FDCWD, a[0], a[1]); }
SysRet Mkdirat(Task& t, const SyscallArgs& a) {
  return MkdirCommon(t, static_cast<int>(a[0]), a[1], a[2]);
}
SysRet Mknod(Task& t, const SyscallArgs& a) { return MknodCommon(t, AT_FDCWD, a[0], a[1], a[2]); }
SysRet Mknodat(Task& t, const SyscallArgs& a) {
  return MknodCommon(t, static_cast<int>(a[0]), a[1], a[2], a[3]);
}
SysRet Rmdir(Task& t, const SyscallArgs& a) { return UnlinkCommon(t, AT_FDCWD, a[0], AT_REMOVEDIR); }
SysRet Unlink(Task& t, const SyscallArgs& a) { return UnlinkCommon(t, AT_FDCWD, a[0], 0); }
SysRet Unlinkat(Task& t, const SyscallArgs& a) {
  return UnlinkCommon(t, static_cast<int>(a[0]), a[1], a[2]);
}
SysRet Rename(Task& t, const SyscallArgs& a) {
  return RenameCommon(t, AT_FDCWD, a[0], AT_FDCWD, a[1], 0);
}
SysRet Renameat(Task& t, const SyscallArgs& a) {
  return RenameCommon(t, static_cast<int>(a[0]), a[1], static_cast<int>(a[2]), a[3], 0);
}
SysRet Renameat2(Task& t, const SyscallArgs& a) {
  return RenameCommon(t, static_cast<int>(a[0]), a[1], static_cast<int>(a[2]), a[3], a[4]);
}
SysRet Link(Task& t, const SyscallArgs& a) { return LinkCommon(t, AT_FDCWD, a[0], AT_FDCWD, a[1], 0); }
SysRet Linkat(Task& t, const SyscallArgs& a) {
  return LinkCommon(t, static_cast<int>(a[0]), a[1], static_cast<int>(a[2]), a[3], a[4]);
}
SysRet Symlink(Task& t, const SyscallArgs& a) { return SymlinkCommon(t, a[0], AT_FDCWD, a[1]); }
SysRet Symlinkat(Task& t, const SyscallArgs& a) {
  return SymlinkCommon(t, a[0], static_cast<int>(a[1]), a[2]);
}

SysRet Chmod(Task& t, const SyscallArgs& a) {
  return Chmod(t, TRY_ASSIGN(ResolveObject(t, AT_FDCWD, a[0], true, false)), a[1]);
}
SysRet Fchmod(Task& t, const SyscallArgs& a) {
  return Chmod(t, TRY_ASSIGN(FileObject(t, static_cast<int>(a[0]))), a[1]);
}
SysRet Fchmodat(Task& t, const SyscallArgs& a) {
  return Chmod(t, TRY_ASSIGN(ResolveObject(t, static_cast<int>(a[0]), a[1], true, false)), a[2]);
}
SysRet Fchmodat2(Task& t, const SyscallArgs& a) {
  uint64_t flags = a[3];
  if (flags & ~uint64_t{AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH}) return SysRet::Err(EINVAL);
  auto vd = TRY_ASSIGN(ResolveObject(t, static_cast<int>(a[0]), a[1], !(flags & AT_SYMLINK_NOFOLLOW),
                                     flags & AT_EMPTY_PATH));
  auto at = TRY_ASSIGN(vd.dentry->inode()->GetAttr());
  if (at.IsSymlink()) return SysRet::Err(EOPNOTSUPP);  // Linux can't chmod links
  return Chmod(t, vd, a[2]);
}
SysRet Chown(Task& t, const SyscallArgs& a) {
  return Chown(t, TRY_ASSIGN(ResolveObject(t, AT_FDCWD, a[0], true, false)), a[1], a[2]);
}
SysRet Lchown(Task& t, const SyscallArgs& a) {
  return Chown(t, TRY_ASSIGN(ResolveObject(t, AT_FDCWD, a[0], false, false)), a[1], a[2]);
}
SysRet Fchown(Task& t, const SyscallArgs& a) {
  return Chown(t, TRY_ASSIGN(FileObject(t, static_cast<int>(a[0]))), a[1], a[2]);
}
SysRet Fchownat(Task& t, const SyscallArgs& a) {
  uint64_t flags = a[4];
  if (flags & ~uint64_t{AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH}) return SysRet::Err(EINVAL);
  return Chown(t, TRY_ASSIGN(ResolveObject(t, static_cast<int>(a[0]), a[1],
                                           !(flags & AT_SYMLINK_NOFOLLOW), flags & AT_EMPTY_PATH)),
               a[2], a[3]);
}
SysRet Truncate(Task& t, const SyscallArgs& a) {
  return Truncate(t, TRY_ASSIGN(ResolveObject(t, AT_FDCWD, a[0], true, false)),
                  static_cast<int64_t>(a[1]));
}
SysRet Ftruncate(Task& t, const SyscallArgs& a) {
  FilePtr f = TRY_ASSIGN(GetIOFile(t, static_cast<int>(a[0])));
  if (static_cast<int64_t>(a[1]) < 0) return SysRet::Err(EINVAL);
  if (!f->writable()) return SysRet::Err(EINVAL);
  if (!f->vd().ok()) return SysRet::Err(EINVAL);
  auto at = TRY_ASSIGN(f->Stat());
  if (!at.IsRegular()) return SysRet::Err(EINVAL);
  vfs::SetAttr s;
  s.mask = vfs::SetAttr::kSize;
  s.size = a[1];
  // An open writable fd is permission enough (no path permission check).
  return t.kernel().vfs()->SetAttrs(t.PathCtx(), f->vd(), s, /*opened_for_write=*/true);
}

SysRet Utimensat(Task& t, const SyscallArgs& a) {
  int dirfd = static_cast<int>(a[0]);
  uint64_t flags = a[3];
  if (flags & ~uint64_t{AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH}) return SysRet::Err(EINVAL);
  struct timespec ts[2];
  if (a[2] != 0) TRY(t.CopyInBytes(UserAddr(a[2]), ts, sizeof(ts)));
  vfs::VirtualDentry vd;
  if (a[1] == 0) {
    // utimensat(fd, NULL, ...) is futimens.
    vd = TRY_ASSIGN(FdDentry(t, dirfd));
    if (dirfd == AT_FDCWD) return SysRet::Err(EFAULT);
  } else {
    vd = TRY_ASSIGN(ResolveObject(t, dirfd, a[1], !(flags & AT_SYMLINK_NOFOLLOW),
                                  flags & AT_EMPTY_PATH));
  }
  return SetTimes(t, vd, a[2] != 0 ? ts : nullptr);
}

namespace {
SysRet TimevalTimes(Task& t, int dirfd, uint64_t path, uint64_t tv_addr) {
  auto vd = TRY_ASSIGN(ResolveObject(t, dirfd, path, true, false));
  if (tv_addr == 0) return SetTimes(t, vd, nullptr);
  struct timeval tv[2];
  TRY(t.CopyInBytes(UserAddr(tv_addr), tv, sizeof(tv)));
  struct timespec ts[2];
  for (int i = 0; i < 2; i++) {
    if (tv[i].tv_usec < 0 || tv[i].tv_usec >= 1000000) return SysRet::Err(EINVAL);
    ts[i].tv_sec = tv[i].tv_sec;
    ts[i].tv_nsec = tv[i].tv_usec * 1000;
  }
  return SetTimes(t, vd, ts);
}
}  // namespace

SysRet Utimes(Task& t, const SyscallArgs& a) { return TimevalTimes(t, AT_FDCWD, a[0], a[1]); }
SysRet Futimesat(Task& t, const SyscallArgs& a) {
  return TimevalTimes(t, static_cast<int>(a[0]), a[1], a[2]);
}
SysRet Utime(Task& t, const SyscallArgs& a) {
  auto vd = TRY_ASSIGN(ResolveObject(t, AT_FDCWD, a[0], true, false));
  if (a[1] == 0) return SetTimes(t, vd, nullptr);
  struct { int64_t actime, modtime; } ub;
  TRY(t.CopyInBytes(UserAddr(a[1]), &ub, sizeof(ub)));
  struct timespec ts[2] = {{ub.actime, 0}, {ub.modtime, 0}};
  return SetTimes(t, vd, ts);
}

SysRet Chdir(Task& t, const SyscallArgs& a) {
  std::string path = TRY_ASSIGN(CopyInPath(t, a[0]));
  auto vd = TRY_ASSIGN(t.kernel().vfs()->Resolve(t.PathCtx(), t.fs()->cwd(), path,
                                                 vfs::kFollow | vfs::kMustBeDir));
  auto at = TRY_ASSIGN(vd.dentry->inode()->GetAttr());
  TRY(vfs::VFS::CheckPermission(t.creds(), at, vfs::kMayExec));
  t.fs()->SetCwd(vd);
  return 0;
}

SysRet Fchdir(Task& t, const SyscallArgs& a) {
  FilePtr f = TRY_ASSIGN(GetFile(t, static_cast<int>(a[0])));
  if (!f->vd().ok()) return SysRet::Err(ENOTDIR);
  auto at = TRY_ASSIGN(f->vd().dentry->inode()->GetAttr());
  if (!at.IsDir()) return SysRet::Err(ENOTDIR);
  TRY(vfs::VFS::CheckPermission(t.creds(), at, vfs::kMayExec));
  t.fs()->SetCwd(f->vd());
  return 0;
}

SysRet Getcwd(Task& t, const SyscallArgs& a) {
  bool reachable = true;
  vfs::VirtualDentry cwd = t.fs()->cwd();
  std::string p = t.kernel().vfs()->PathOf(cwd, t.fs()->root(), &reachable);
  if (cwd.dentry->dead()) return SysRet::Err(ENOENT);
  if (!reachable) p = "(unreachable)" + p;
  if (p.size() + 1 > a[1]) return SysRet::Err(ERANGE);
  TRY(t.CopyOutBytes(UserAddr(a[0]), p.c_str(), p.size() + 1));
  return static_cast<int64_t>(p.size() + 1);
}

SysRet Chroot(Task& t, const SyscallArgs& a) {
  if (!t.creds().HasCap(18 /* CAP_SYS_CHROOT */)) return SysRet::Err(EPERM);
  std::string path = TRY_ASSIGN(CopyInPath(t, a[0]));
  auto vd = TRY_ASSIGN(t.kernel().vfs()->Resolve(t.PathCtx(), t.fs()->cwd(), path,
                                                 vfs::kFollow | vfs::kMustBeDir));
  auto at = TRY_ASSIGN(vd.dentry->inode()->GetAttr());
  TRY(vfs::VFS::CheckPermission(t.creds(), at, vfs::kMayExec));
  t.fs()->SetRoot(vd);
  return 0;
}

SysRet Umask(Task& t, const SyscallArgs& a) {
  return t.fs()->SwapUmask(static_cast<uint32_t>(a[0]));
}

}  // namespace sentry::sys
