// Path resolution, one component at a time, as path_resolution(7) and
// fs/namei.c's link_path_walk describe it.
#include <optional>

#include "fs/vfs/vfs_internal.h"

namespace sentry::vfs {

using Walker = VfsInternal::Walker;

Walker::Walker(VFS* vfs, const PathContext& ctx, const VirtualDentry& start, uint32_t flags)
    : vfs_(vfs), ctx_(&ctx), creds_(&ctx.creds), flags_(flags) {
  // RESOLVE_BENEATH and RESOLVE_IN_ROOT make the starting point the root
  // that "/" and ".." cannot leave (BENEATH fails instead of clamping).
  if (flags & (kBeneath | kInRoot)) {
    root_ = start;
  } else if (ctx.root.ok()) {
    root_ = ctx.root;
  } else {
    root_ = vfs->Root();
  }
}

Errno Walker::CrossDown(VirtualDentry& vd) {
  while (VfsInternal::mounts(*vd.dentry) > 0) {
    std::shared_ptr<Mount> top;
    {
      absl::ReaderMutexLock l(&vfs_->mounts_mu_);
      auto it = vfs_->mounted_.find(std::make_pair(vd.mount.get(), vd.dentry.get()));
      if (it == vfs_->mounted_.end() || it->second.empty()) break;
      top = it->second.back();
    }
    if (flags_ & kNoXdev) return EXDEV;
    vd.dentry = top->root;
    vd.mount = std::move(top);
  }
  return 0;
}

Errno Walker::DotDot(VirtualDentry& vd) {
  for (;;) {
    if (vd == root_) {
      if (flags_ & kBeneath) return EXDEV;
      return 0;  // ".." at the root is the root
    }
    if (vd.dentry != vd.mount->root) {
      const std::shared_ptr<Dentry>& p = vd.dentry->parent();
      if (!p) return 0;
      vd.dentry = p;
      break;
    }
    if (!vd.mount->parent) return 0;  // the namespace root
    if (flags_ & kNoXdev) return EXDEV;
    // At a mount's root: ".." is the parent of what it is mounted on.
    VirtualDentry up{vd.mount->parent, vd.mount->mountpoint};
    vd = std::move(up);
  }
  return CrossDown(vd);
}

ErrorOr<VirtualDentry> Walker::Child(const VirtualDentry& dir, std::string_view name) {
  std::shared_ptr<Dentry> d = TRY_ASSIGN(VfsInternal::LookupChild(dir.dentry, name));
  if (d->negative()) return Err(ENOENT);
  VirtualDentry vd{dir.mount, std::move(d)};
  TRY(CrossDown(vd));
  return vd;
}

ErrorOr<VirtualDentry> Walker::FollowLink(const VirtualDentry& dir, const VirtualDentry& link) {
  if (flags_ & kNoSymlinks) return Err(ELOOP);
  if (++links_ > kMaxSymlinks) return Err(ELOOP);
  Inode* in = link.dentry->inode().get();
  if (in->IsMagicLink()) {
    if (flags_ & kNoMagicLinks) return Err(ELOOP);
    VirtualDentry t = TRY_ASSIGN(in->MagicLinkTargetFor(*ctx_));
    if (!t.ok()) return Err(ENOENT);
    if ((flags_ & kNoXdev) && t.mount != dir.mount) return Err(EXDEV);
    // Not safe for scoped lookups (Linux's nd_jump_link).
    if (flags_ & (kBeneath | kInRoot)) return Err(EXDEV);
    return t;
  }
  std::string target = TRY_ASSIGN(in->ReadLinkFor(*ctx_));
  if (target.empty()) return Err(ENOENT);
  return Full(dir, target, /*follow=*/true, /*must_be_dir=*/false);
}

ErrorOr<ParentPath> Walker::Parent(const VirtualDentry& start, std::string_view path) {
  if (path.empty()) return Err(ENOENT);
  if (path.size() >= kPathMax) return Err(ENAMETOOLONG);
  VirtualDentry cur = start;
  size_t i = 0;
  const size_t n = path.size();
  if (path[0] == '/') {
    if (flags_ & kBeneath) return Err(EXDEV);
    if ((flags_ & kNoXdev) && root_.mount != cur.mount) return Err(EXDEV);
    cur = root_;
    if (!cur.ok()) return Err(ENOENT);  // no root (no namespace yet)
    while (i < n && path[i] == '/') i++;
    if (i == n) {
      ParentPath p;
      p.dir = std::move(cur);
      p.type = LastType::kRoot;
      return p;
    }
  }
  if (!cur.ok()) return Err(EBADF);
  // The attributes of `cur` when the previous step already fetched them.
  std::optional<Attr> cur_attr;
  for (;;) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = n;
    std::string_view name = path.substr(i, j - i);
    size_t k = j;
    while (k < n && path[k] == '/') k++;
    if (name.size() > kNameMax) return Err(ENAMETOOLONG);
    // Search permission on every directory walked through, including the
    // one holding the last component; ENOTDIR first if it is none.
    if (!cur_attr) cur_attr = TRY_ASSIGN(cur.dentry->inode()->GetAttr());
    if (!cur_attr->IsDir()) return Err(ENOTDIR);
    TRY(VFS::CheckPermission(*creds_, *cur_attr, kMayExec));
    if (k == n) {
      ParentPath p;
      p.dir = std::move(cur);
      p.trailing_slash = j < n;
      if (name == ".") {
        p.type = LastType::kDot;
      } else if (name == "..") {
        p.type = LastType::kDotDot;
      } else {
        p.last.assign(name.data(), name.size());
      }
      return p;
    }
    i = k;
    if (name == ".") continue;
    cur_attr.reset();
    if (name == "..") {
      TRY(DotDot(cur));
      continue;
    }
    VirtualDentry next = TRY_ASSIGN(Child(cur, name));
    Attr a = TRY_ASSIGN(next.dentry->inode()->GetAttr());
    if (a.IsSymlink()) {
      next = TRY_ASSIGN(FollowLink(cur, next));
    } else {
      cur_attr = a;
    }
    cur = std::move(next);
  }
}

ErrorOr<VirtualDentry> Walker::Last(const ParentPath& p, bool follow, bool must_be_dir) {
  VirtualDentry vd;
  switch (p.type) {
    case LastType::kRoot:
    case LastType::kDot:
      return p.dir;
    case LastType::kDotDot:
      vd = p.dir;
      TRY(DotDot(vd));
      return vd;
    case LastType::kNorm:
      break;
  }
  vd = TRY_ASSIGN(Child(p.dir, p.last));
  // A trailing slash means "a directory": a symlink there is followed even
  // without `follow`, and anything else fails with ENOTDIR.
  bool want_dir = must_be_dir || p.trailing_slash;
  if (!follow && !want_dir) return vd;
  Attr a = TRY_ASSIGN(vd.dentry->inode()->GetAttr());
  if (a.IsSymlink()) {
    if (!follow && !p.trailing_slash) {
      return Err(ENOTDIR);  // must_be_dir on an unfollowed symlink
    }
    vd = TRY_ASSIGN(FollowLink(p.dir, vd));
    if (!want_dir) return vd;
    a = TRY_ASSIGN(vd.dentry->inode()->GetAttr());
  }
  if (want_dir && !a.IsDir()) return Err(ENOTDIR);
  return vd;
}

ErrorOr<VirtualDentry> Walker::Full(const VirtualDentry& start, std::string_view path, bool follow,
                                    bool must_be_dir) {
  if (path.empty()) {
    if (!(flags_ & kEmptyPathOk)) return Err(ENOENT);
    if (!start.ok()) return Err(EBADF);
    if (must_be_dir) {
      Attr a = TRY_ASSIGN(start.dentry->inode()->GetAttr());
      if (!a.IsDir()) return Err(ENOTDIR);
    }
    return start;
  }
  ParentPath p = TRY_ASSIGN(Parent(start, path));
  return Last(p, follow, must_be_dir);
}

}  // namespace sentry::vfs
