// stat family, access, readlink, statfs.
#include <linux/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

#include <cstring>

#include "syscalls/handlers.h"
#include "syscalls/util.h"

namespace sentry::sys {
namespace {

// Resolves (dirfd, path, flags) for the *at stat-like calls.
ErrorOr<vfs::VirtualDentry> ResolveAt(Task& t, int dirfd, uint64_t path_addr, uint64_t at_flags,
                                      bool follow_default) {
  std::string path = TRY_ASSIGN(CopyInPath(t, path_addr));
  if (path.empty()) {
    if (!(at_flags & AT_EMPTY_PATH)) return Err(ENOENT);
    return FdDentry(t, dirfd);
  }
  vfs::VirtualDentry start = TRY_ASSIGN(StartDir(t, dirfd, path));
  uint32_t flags = follow_default ? vfs::kFollow : 0;
  if (at_flags & AT_SYMLINK_NOFOLLOW) flags &= ~vfs::kFollow;
  if (at_flags & AT_SYMLINK_FOLLOW) flags |= vfs::kFollow;
  return t.kernel().vfs()->Resolve(t.PathCtx(), start, path, flags);
}

SysRet StatOut(Task& t, const vfs::Attr& attr, uint64_t addr) {
  struct stat s = ToStat(attr);
  TRY(t.CopyOutBytes(UserAddr(addr), &s, sizeof(s)));
  return 0;
}

ErrorOr<vfs::Attr> AttrOf(const vfs::VirtualDentry& vd) { return vd.dentry->inode()->GetAttr(); }

}  // namespace

SysRet Stat(Task& t, const SyscallArgs& a) {
  auto vd = TRY_ASSIGN(ResolveAt(t, AT_FDCWD, a[0], 0, true));
  return StatOut(t, TRY_ASSIGN(AttrOf(vd)), a[1]);
}

SysRet Lstat(Task& t, const SyscallArgs& a) {
  auto vd = TRY_ASSIGN(ResolveAt(t, AT_FDCWD, a[0], AT_SYMLINK_NOFOLLOW, true));
  return StatOut(t, TRY_ASSIGN(AttrOf(vd)), a[1]);
}

SysRet Fstat(Task& t, const SyscallArgs& a) {
  FilePtr f = TRY_ASSIGN(GetFile(t, static_cast<int>(a[0])));
  return StatOut(t, TRY_ASSIGN(f->Stat()), a[1]);
}

SysRet Newfstatat(Task& t, const SyscallArgs& a) {
  uint64_t flags = a[3];
  if (flags & ~uint64_t{AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT}) {
    return SysRet::Err(EINVAL);
  }
  int dirfd = static_cast<int>(a[0]);
  std::string path = TRY_ASSIGN(CopyInPath(t, a[1]));
  if (path.empty() && (flags & AT_EMPTY_PATH) && dirfd != AT_FDCWD) {
    FilePtr f = TRY_ASSIGN(GetFile(t, dirfd));
    return StatOut(t, TRY_ASSIGN(f->Stat()), a[2]);
  }
  auto vd = TRY_ASSIGN(ResolveAt(t, dirfd, a[1], flags, true));
  return StatOut(t, TRY_ASSIGN(AttrOf(vd)), a[2]);
}

SysRet Statx(Task& t, const SyscallArgs& a) {
  int dirfd = static_cast<int>(a[0]);
  uint64_t flags = a[2];
  uint32_t mask = static_cast<uint32_t>(a[3]);
  if (flags & ~uint64_t{AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT |
                        AT_STATX_SYNC_TYPE}) {
    return SysRet::Err(EINVAL);
  }
  if ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE) return SysRet::Err(EINVAL);
  if (mask & STATX__RESERVED) return SysRet::Err(EINVAL);
  std::string path = TRY_ASSIGN(CopyInPath(t, a[1]));
  vfs::Attr at;
  uint32_t mnt_id = 0;
  if (path.empty() && (flags & AT_EMPTY_PATH) && dirfd != AT_FDCWD) {
    FilePtr f = TRY_ASSIGN(GetFile(t, dirfd));
    at = TRY_ASSIGN(f->Stat());
    if (f->vd().ok()) mnt_id = static_cast<uint32_t>(f->vd().mount->id);
  } else {
    auto vd = TRY_ASSIGN(ResolveAt(t, dirfd, a[1], flags, true));
    at = TRY_ASSIGN(AttrOf(vd));
    mnt_id = static_cast<uint32_t>(vd.mount->id);
  }
  struct statx sx;
  memset(&sx, 0, sizeof(sx));
  sx.stx_mask = STATX_BASIC_STATS | STATX_BTIME | STATX_MNT_ID;
  sx.stx_blksize = at.blksize;
  sx.stx_nlink = at.nlink;
  sx.stx_uid = at.uid;
  sx.stx_gid = at.gid;
  sx.stx_mode = static_cast<uint16_t>(at.mode);
  sx.stx_ino = at.ino;
  sx.stx_size = at.size;
  sx.stx_blocks = at.blocks;
  auto ts = [](const struct timespec& x) {
    struct statx_timestamp s{};
    s.tv_sec = x.tv_sec;
    s.tv_nsec = static_cast<uint32_t>(x.tv_nsec);
    return s;
  };
  sx.stx_atime = ts(at.atime);
  sx.stx_btime = ts(at.btime);
  sx.stx_ctime = ts(at.ctime);
  sx.stx_mtime = ts(at.mtime);
  sx.stx_rdev_major = major(at.rdev);
  sx.stx_rdev_minor = minor(at.rdev);
  sx.stx_dev_major = major(at.dev);
  sx.stx_dev_minor = minor(at.dev);
  sx.stx_mnt_id = mnt_id;
  TRY(t.CopyOutBytes(UserAddr(a[4]), &sx, sizeof(sx)));
  return 0;
}

namespace {
SysRet AccessCommon(Task& t, int dirfd, uint64_t path_addr, uint64_t mode, uint64_t flags) {
  if (mode & ~uint64_t{R_OK | W_OK | X_OK}) return SysRet::Err(EINVAL);
  if (flags & ~uint64_t{AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH}) return SysRet::Err(EINVAL);
  std::string path = TRY_ASSIGN(CopyInPath(t, path_addr));
  vfs::VirtualDentry start;
  if (path.empty()) {
    if (!(flags & AT_EMPTY_PATH)) return SysRet::Err(ENOENT);
    start = TRY_ASSIGN(FdDentry(t, dirfd));
    flags |= AT_EMPTY_PATH;
  } else {
    start = TRY_ASSIGN(StartDir(t, dirfd, path));
  }
  uint32_t rf = (flags & AT_SYMLINK_NOFOLLOW) ? 0 : vfs::kFollow;
  if (flags & AT_EMPTY_PATH) rf |= vfs::kEmptyPathOk;
  return t.kernel().vfs()->Access(t.PathCtx(), start, path, static_cast<int>(mode), rf,
                                  flags & AT_EACCESS);
}
}  // namespace

SysRet Access(Task& t, const SyscallArgs& a) { return AccessCommon(t, AT_FDCWD, a[0], a[1], 0); }
SysRet Faccessat(Task& t, const SyscallArgs& a) {
  return AccessCommon(t, static_cast<int>(a[0]), a[1], a[2], 0);
}
SysRet Faccessat2(Task& t, const SyscallArgs& a) {
  return AccessCommon(t, static_cast<int>(a[0]), a[1], a[2], a[3]);
}

namespace {
SysRet ReadlinkCommon(Task& t, int dirfd, uint64_t path_addr, uint64_t buf, uint64_t size) {
  if (static_cast<int64_t>(size) <= 0) return SysRet::Err(EINVAL);
  std::string path = TRY_ASSIGN(CopyInPath(t, path_addr));
  vfs::VirtualDentry start;
  uint32_t flags = 0;
  if (path.empty()) {
    // readlinkat(fd, "") reads the link fd refers to (opened with O_PATH).
    start = TRY_ASSIGN(FdDentry(t, dirfd));
    flags |= vfs::kEmptyPathOk;
  } else {
    start = TRY_ASSIGN(StartDir(t, dirfd, path));
  }
  std::string target = TRY_ASSIGN(t.kernel().vfs()->ReadLink(t.PathCtx(), start, path, flags));
  size_t n = std::min<size_t>(target.size(), size);
  TRY(t.CopyOutBytes(UserAddr(buf), target.data(), n));
  return static_cast<int64_t>(n);
}
}  // namespace

SysRet Readlink(Task& t, const SyscallArgs& a) { return ReadlinkCommon(t, AT_FDCWD, a[0], a[1], a[2]); }
SysRet Readlinkat(Task& t, const SyscallArgs& a) {
  return ReadlinkCommon(t, static_cast<int>(a[0]), a[1], a[2], a[3]);
}

SysRet Statfs(Task& t, const SyscallArgs& a) {
  auto vd = TRY_ASSIGN(ResolveAt(t, AT_FDCWD, a[0], 0, true));
  struct statfs s;
  memset(&s, 0, sizeof(s));
  TRY(vd.dentry->inode()->fs()->StatFS(&s));
  TRY(t.CopyOutBytes(UserAddr(a[1]), &s, sizeof(s)));
  return 0;
}

SysRet Fstatfs(Task& t, const SyscallArgs& a) {
  FilePtr f = TRY_ASSIGN(GetFile(t, static_cast<int>(a[0])));
  struct statfs s;
  memset(&s, 0, sizeof(s));
  if (f->vd().ok()) {
    TRY(f->vd().dentry->inode()->fs()->StatFS(&s));
  } else {
    s.f_type = 0x50495045;  // PIPEFS_MAGIC-like for anonymous files
    s.f_bsize = 4096;
    s.f_namelen = 255;
  }
  TRY(t.CopyOutBytes(UserAddr(a[1]), &s, sizeof(s)));
  return 0;
}

}  // namespace sentry::sys
