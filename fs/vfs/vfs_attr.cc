// readlink, access and attribute changes (chmod, chown, truncate,
// utimensat) with fs/attr.c's setattr_prepare rules.
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/vfs/vfs_internal.h"

namespace sentry::vfs {

ErrorOr<std::string> VFS::ReadLink(const PathContext& ctx, const VirtualDentry& start,
                                   std::string_view path, uint32_t flags) {
  VirtualDentry vd;
  {
    absl::ReaderMutexLock l(&tree_mu_);
    VfsInternal::Walker w(this, ctx, start, flags & ~kFollow);
    vd = TRY_ASSIGN(w.Full(start, path, false, false));
  }
  // Outside tree_mu_: /proc's links compute their text with PathOf.
  Attr a = TRY_ASSIGN(vd.dentry->inode()->GetAttr());
  // do_readlinkat: an empty path (AT_EMPTY_PATH on the dirfd itself) that
  // is no symlink is ENOENT; a named non-symlink is EINVAL.
  if (!a.IsSymlink()) return Err(path.empty() ? ENOENT : EINVAL);
  return vd.dentry->inode()->ReadLinkFor(ctx);
}

Errno VFS::Access(const PathContext& ctx, const VirtualDentry& start, std::string_view path,
                  int mode, uint32_t flags, bool use_effective) {
  if (mode & ~(R_OK | W_OK | X_OK)) return EINVAL;
  PathContext c = ctx;
  if (!use_effective) {
    // access(2) checks with the real ids; a non-root real uid has no
    // capabilities for the check.
    c.creds.fsuid = ctx.creds.uid;
    c.creds.fsgid = ctx.creds.gid;
    if (ctx.creds.uid != 0) c.creds.cap_effective = 0;
  }
  VirtualDentry vd = TRY_ASSIGN(Resolve(c, start, path, flags));
  if (mode == F_OK) return 0;
  Attr a = TRY_ASSIGN(vd.dentry->inode()->GetAttr());
  int may = ((mode & R_OK) ? kMayRead : 0) | ((mode & W_OK) ? kMayWrite : 0) |
            ((mode & X_OK) ? kMayExec : 0);
  TRY(CheckPermission(c.creds, a, may));
  bool special = !(a.IsRegular() || a.IsDir() || a.IsSymlink());
  if ((mode & W_OK) && !special && vd.mount->read_only()) return EROFS;
  return 0;
}

Errno VFS::SetAttrs(const PathContext& ctx, const VirtualDentry& vd, const SetAttr& in,
                    bool opened_for_write) {
  const Credentials& c = ctx.creds;
  const std::shared_ptr<Inode>& inode = vd.dentry->inode();
  Attr a = TRY_ASSIGN(inode->GetAttr());
  SetAttr s = in;
  s.mask &= ~SetAttr::kCtime;  // ctime is the file system's business
  if (s.mask & SetAttr::kSize) {
    if (a.IsDir()) return EISDIR;
    if (!a.IsRegular()) return EINVAL;
  }
  if (s.mask == 0) return 0;
  if (vd.mount->read_only()) return EROFS;
  const bool owner = OwnerOrCapable(c, a);
  if (s.mask & SetAttr::kSize) {
    if (!opened_for_write) TRY(CheckPermission(c, a, kMayWrite));
  }
  if (s.mask & SetAttr::kUid) {
    if (!(c.fsuid == a.uid && s.uid == a.uid) && !c.HasCap(kCapChown)) return EPERM;
  }
  if (s.mask & SetAttr::kGid) {
    bool ok = c.fsuid == a.uid && (c.InGroup(s.gid) || s.gid == a.gid);
    if (!ok && !c.HasCap(kCapChown)) return EPERM;
  }
  if (s.mask & SetAttr::kMode) {
    if (!owner) return EPERM;
    s.mode &= 07777;
    uint32_t gid = (s.mask & SetAttr::kGid) ? s.gid : a.gid;
    if (!c.InGroup(gid) && !c.HasCap(kCapFsetid)) s.mode &= ~S_ISGID;
  }
  const uint32_t times = s.mask & (SetAttr::kAtime | SetAttr::kMtime);
  if (times) {
    bool all_now = (!(times & SetAttr::kAtime) || s.atime.tv_nsec == UTIME_NOW) &&
                   (!(times & SetAttr::kMtime) || s.mtime.tv_nsec == UTIME_NOW);
    if (!owner) {
      // Explicit times need ownership; "now" is enough with write access.
      if (!all_now) return EPERM;
      TRY(CheckPermission(c, a, kMayWrite));
    }
    struct timespec now = Now();
    if ((times & SetAttr::kAtime) && s.atime.tv_nsec == UTIME_NOW) s.atime = now;
    if ((times & SetAttr::kMtime) && s.mtime.tv_nsec == UTIME_NOW) s.mtime = now;
  }
  // chown clears set-user-ID always and set-group-ID of group-executable
  // files; so does truncation by an unprivileged caller.
  bool kill = false;
  if ((s.mask & (SetAttr::kUid | SetAttr::kGid)) && !a.IsDir()) kill = true;
  if ((s.mask & SetAttr::kSize) && !c.HasCap(kCapFsetid)) kill = true;
  if (kill) {
    uint32_t mode = (s.mask & SetAttr::kMode) ? s.mode : (a.mode & 07777);
    uint32_t killed = mode & ~S_ISUID;
    if ((killed & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP)) killed &= ~S_ISGID;
    if (killed != mode || (s.mask & SetAttr::kMode)) {
      s.mask |= SetAttr::kMode;
      s.mode = killed;
    }
  }
  TRY(inode->SetAttrs(s));
  // notify_change: a size change is a modification, the rest attributes.
  uint32_t ev = 0;
  if (s.mask & SetAttr::kSize) ev |= IN_MODIFY;
  if (s.mask & ~(SetAttr::kSize | SetAttr::kCtime)) ev |= IN_ATTRIB;
  if (ev != 0) NotifyDentry(*vd.dentry, ev, a.IsDir());
  return 0;
}

}  // namespace sentry::vfs
