// Attributes, timestamps and extended attributes common to tmpfs inodes.
#include <sys/xattr.h>

#include "fs/tmpfs/tmpfs_internal.h"

namespace sentry::tmpfs {
namespace {

bool Before(const struct timespec& a, const struct timespec& b) {
  return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec <= b.tv_nsec);
}

// Namespaces tmpfs stores: user.* and trusted.*. Returns 0, EINVAL for a
// bare prefix, ENOTSUP for other namespaces.
Errno CheckXattrName(std::string_view name) {
  if (name.size() > 255) return ERANGE;
  for (std::string_view prefix : {std::string_view("user."), std::string_view("trusted.")}) {
    if (name.substr(0, prefix.size()) == prefix) return name.size() == prefix.size() ? EINVAL : 0;
  }
  return ENOTSUP;
}

}  // namespace

TmpfsInode::TmpfsInode(TmpfsFs* fs, uint32_t mode, uint32_t uid, uint32_t gid, uint64_t rdev)
    : vfs::Inode(fs), ino_(vfs::NextInodeNumber()), type_(mode & S_IFMT) {
  struct timespec now = vfs::Now();
  absl::MutexLock l(&mu_);
  attr_.dev = fs->dev();
  attr_.ino = ino_;
  attr_.mode = mode;
  attr_.uid = uid;
  attr_.gid = gid;
  attr_.rdev = rdev;
  attr_.nlink = 1;
  attr_.blksize = kPageSize;
  attr_.atime = attr_.mtime = attr_.ctime = attr_.btime = now;
}

ErrorOr<vfs::Attr> TmpfsInode::GetAttr() {
  absl::ReaderMutexLock l(&mu_);
  vfs::Attr a = attr_;
  a.blocks = BlocksLocked();
  return a;
}

void TmpfsInode::ApplyLocked(const vfs::SetAttr& a, const struct timespec& now) {
  if (a.mask & vfs::SetAttr::kMode) attr_.mode = type_ | (a.mode & 07777);
  if (a.mask & vfs::SetAttr::kUid) attr_.uid = a.uid;
  if (a.mask & vfs::SetAttr::kGid) attr_.gid = a.gid;
  if (a.mask & vfs::SetAttr::kAtime) attr_.atime = a.atime;
  if (a.mask & vfs::SetAttr::kMtime) attr_.mtime = a.mtime;
  attr_.ctime = (a.mask & vfs::SetAttr::kCtime) ? a.ctime : now;
}

Errno TmpfsInode::SetAttrs(const vfs::SetAttr& a) {
  if (a.mask & vfs::SetAttr::kSize) return is_dir() ? EISDIR : EINVAL;
  if (a.mask == 0) return 0;
  struct timespec now = vfs::Now();
  absl::MutexLock l(&mu_);
  ApplyLocked(a, now);
  return 0;
}

void TmpfsInode::AdjustLinks(int delta) {
  struct timespec now = vfs::Now();
  absl::MutexLock l(&mu_);
  attr_.nlink += delta;
  attr_.ctime = now;
}

void TmpfsInode::SetLinks(uint32_t n) {
  struct timespec now = vfs::Now();
  absl::MutexLock l(&mu_);
  attr_.nlink = n;
  attr_.ctime = now;
}

void TmpfsInode::Touch(bool modify) {
  struct timespec now = vfs::Now();
  absl::MutexLock l(&mu_);
  attr_.ctime = now;
  if (modify) attr_.mtime = now;
}

void TmpfsInode::Accessed() {
  struct timespec now = vfs::Now();
  {
    absl::ReaderMutexLock l(&mu_);
    bool stale = Before(attr_.atime, attr_.mtime) || Before(attr_.atime, attr_.ctime) ||
                 now.tv_sec - attr_.atime.tv_sec >= 24 * 3600;
    if (!stale) return;
  }
  absl::MutexLock l(&mu_);
  attr_.atime = now;
}

ErrorOr<std::string> TmpfsInode::GetXattr(std::string_view name) {
  TRY(CheckXattrName(name));
  absl::ReaderMutexLock l(&mu_);
  auto it = xattrs_.find(name);
  if (it == xattrs_.end()) return Err(ENODATA);
  return it->second;
}

Errno TmpfsInode::SetXattr(std::string_view name, std::string_view value, int flags) {
  TRY(CheckXattrName(name));
  if (flags & ~(XATTR_CREATE | XATTR_REPLACE)) return EINVAL;
  if (value.size() > 65536) return E2BIG;
  // user.* is for regular files and directories only (xattr_permission).
  if (name.substr(0, 5) == "user." && type_ != S_IFREG && type_ != S_IFDIR) return EPERM;
  struct timespec now = vfs::Now();
  absl::MutexLock l(&mu_);
  auto it = xattrs_.find(name);
  if ((flags & XATTR_CREATE) && it != xattrs_.end()) return EEXIST;
  if ((flags & XATTR_REPLACE) && it == xattrs_.end()) return ENODATA;
  if (it == xattrs_.end()) {
    xattrs_.emplace(std::string(name), std::string(value));
  } else {
    it->second.assign(value.data(), value.size());
  }
  attr_.ctime = now;
  return 0;
}

ErrorOr<std::vector<std::string>> TmpfsInode::ListXattr() {
  absl::ReaderMutexLock l(&mu_);
  std::vector<std::string> out;
  out.reserve(xattrs_.size());
  for (const auto& [k, v] : xattrs_) out.push_back(k);
  return out;
}

Errno TmpfsInode::RemoveXattr(std::string_view name) {
  TRY(CheckXattrName(name));
  struct timespec now = vfs::Now();
  absl::MutexLock l(&mu_);
  auto it = xattrs_.find(name);
  if (it == xattrs_.end()) return ENODATA;
  xattrs_.erase(it);
  attr_.ctime = now;
  return 0;
}

TmpfsSymlink::TmpfsSymlink(TmpfsFs* fs, std::string target, uint32_t uid, uint32_t gid)
    : TmpfsInode(fs, S_IFLNK | 0777, uid, gid, 0), target_(std::move(target)) {
  absl::MutexLock l(&mu_);
  attr_.size = target_.size();
}

ErrorOr<std::string> TmpfsSymlink::ReadLink() {
  Accessed();
  return target_;
}

}  // namespace sentry::tmpfs
