// The union view: lookup (upper first, whiteouts, opaque directories),
// merged readdir, attributes and extended attributes.
#include <dirent.h>

#include <set>

#include "absl/strings/numbers.h"
#include "fs/overlay/overlay_internal.h"

namespace sentry::overlay {

OverlayInode::OverlayInode(OverlayFs* fs, std::shared_ptr<OverlayInode> parent, std::string name,
                           std::shared_ptr<vfs::Inode> upper, std::shared_ptr<vfs::Inode> lower,
                           uint32_t type, uint64_t ino)
    : vfs::Inode(fs), type_(type), ino_(ino), lower_(std::move(lower)) {
  absl::MutexLock l(&mu_);
  upper_ = std::move(upper);
  parent_ = std::move(parent);
  name_ = std::move(name);
}

void OverlayInode::Forget(std::string_view name) {
  absl::MutexLock l(&mu_);
  auto it = children_.find(name);
  if (it != children_.end()) children_.erase(it);
}

void OverlayInode::Remember(std::string_view name, const std::shared_ptr<OverlayInode>& c) {
  absl::MutexLock l(&mu_);
  children_.insert_or_assign(std::string(name), c);
}

bool OverlayInode::LowerHas(std::string_view name) {
  return is_dir() && lower_ && lower_->Lookup(name).ok();
}

ErrorOr<std::shared_ptr<vfs::Inode>> OverlayInode::Lookup(std::string_view name) {
  absl::ReaderMutexLock l(&ofs()->mu_);
  std::shared_ptr<OverlayInode> c = TRY_ASSIGN(LookupLocked(name));
  return std::shared_ptr<vfs::Inode>(std::move(c));
}

ErrorOr<std::shared_ptr<OverlayInode>> OverlayInode::LookupLocked(std::string_view name) {
  if (!is_dir()) return Err(ENOTDIR);
  std::shared_ptr<vfs::Inode> udir;
  {
    absl::MutexLock l(&mu_);
    auto it = children_.find(name);
    if (it != children_.end()) {
      if (auto c = it->second.lock()) return c;
      children_.erase(it);
    }
    udir = upper_;
  }
  std::shared_ptr<vfs::Inode> u, lo;
  uint64_t ino = 0;
  uint32_t type = 0;
  if (udir) {
    ErrorOr<std::shared_ptr<vfs::Inode>> r = udir->Lookup(name);
    if (!r.ok() && r.error() != ENOENT) return Err(r.error());
    if (r.ok()) u = std::move(*r);
  }
  if (u) {
    vfs::Attr ua = TRY_ASSIGN(u->GetAttr());
    if (IsWhiteout(ua)) return Err(ENOENT);
    type = ua.type();
    ino = ua.ino;
    if (ua.IsDir()) {
      ErrorOr<std::string> op = u->GetXattr(kOpaqueXattr);
      bool opaque = op.ok() && *op == "y";
      if (!opaque && lower_) {
        ErrorOr<std::shared_ptr<vfs::Inode>> lr = lower_->Lookup(name);
        if (lr.ok()) {
          vfs::Attr la = TRY_ASSIGN((*lr)->GetAttr());
          if (la.IsDir()) {
            lo = std::move(*lr);
            ino = la.ino;  // merged directories keep the lower's number
          }
        }
      }
    } else if (lower_) {
      // A copied-up file keeps the inode number it had in the lower.
      ErrorOr<std::string> origin = u->GetXattr(kOriginXattr);
      uint64_t o;
      if (origin.ok() && absl::SimpleAtoi(*origin, &o)) ino = o;
    }
  } else {
    if (!lower_) return Err(ENOENT);
    lo = TRY_ASSIGN(lower_->Lookup(name));
    vfs::Attr la = TRY_ASSIGN(lo->GetAttr());
    type = la.type();
    ino = la.ino;
  }
  auto self = std::static_pointer_cast<OverlayInode>(shared_from_this());
  auto c = std::make_shared<OverlayInode>(ofs(), self, std::string(name), std::move(u),
                                          std::move(lo), type, ino);
  absl::MutexLock l(&mu_);
  auto it = children_.find(name);
  if (it != children_.end()) {
    // A concurrent lookup won: everyone must share one object.
    if (auto other = it->second.lock()) return other;
  }
  children_.insert_or_assign(std::string(name), c);
  return c;
}

ErrorOr<std::vector<vfs::DirEntry>> OverlayInode::ReadDir() {
  absl::ReaderMutexLock l(&ofs()->mu_);
  return ReadDirLocked();
}

ErrorOr<std::vector<vfs::DirEntry>> OverlayInode::ReadDirLocked() {
  if (!is_dir()) return Err(ENOTDIR);
  std::shared_ptr<vfs::Inode> udir;
  {
    absl::MutexLock l(&mu_);
    if (removed_) return Err(ENOENT);
    udir = upper_;
  }
  std::map<std::string, vfs::DirEntry, std::less<>> merged;
  std::set<std::string, std::less<>> hidden;
  if (udir) {
    std::vector<vfs::DirEntry> ue = TRY_ASSIGN(udir->ReadDir());
    for (vfs::DirEntry& e : ue) {
      if (e.type == DT_CHR) {
        ErrorOr<std::shared_ptr<vfs::Inode>> w = udir->Lookup(e.name);
        if (w.ok()) {
          ErrorOr<vfs::Attr> wa = (*w)->GetAttr();
          if (wa.ok() && IsWhiteout(*wa)) {
            hidden.insert(std::move(e.name));
            continue;
          }
        }
      }
      if (lower_) {
        // The union's inode number (lower's for merged and copied-up
        // objects) comes from a lookup.
        ErrorOr<std::shared_ptr<OverlayInode>> c = LookupLocked(e.name);
        if (c.ok()) e.ino = (*c)->ino_;
      }
      std::string name = e.name;
      merged.emplace(std::move(name), std::move(e));
    }
  }
  if (lower_) {
    std::vector<vfs::DirEntry> le = TRY_ASSIGN(lower_->ReadDir());
    for (vfs::DirEntry& e : le) {
      if (hidden.count(e.name) || merged.count(e.name)) continue;
      std::string name = e.name;
      merged.emplace(std::move(name), std::move(e));
    }
  }
  std::vector<vfs::DirEntry> out;
  out.reserve(merged.size());
  for (auto& [name, e] : merged) out.push_back(std::move(e));
  return out;
}

ErrorOr<vfs::Attr> OverlayInode::GetAttr() {
  std::shared_ptr<vfs::Inode> r;
  bool removed;
  {
    absl::MutexLock l(&mu_);
    r = upper_ ? upper_ : lower_;
    removed = removed_ && !upper_;
  }
  vfs::Attr a = TRY_ASSIGN(r->GetAttr());
  a.dev = fs()->dev();
  a.ino = ino_;
  if (is_dir() && lower_ && r != lower_) a.nlink = 1;  // merged: as overlayfs reports
  if (removed) a.nlink = 0;
  return a;
}

ErrorOr<std::string> OverlayInode::ReadLink() { return real()->ReadLink(); }

ErrorOr<std::string> OverlayInode::GetXattr(std::string_view name) {
  if (name.substr(0, kPrivatePrefix.size()) == kPrivatePrefix) return Err(ENODATA);
  return real()->GetXattr(name);
}

ErrorOr<std::vector<std::string>> OverlayInode::ListXattr() {
  std::vector<std::string> all = TRY_ASSIGN(real()->ListXattr());
  std::vector<std::string> out;
  for (std::string& n : all) {
    if (std::string_view(n).substr(0, kPrivatePrefix.size()) != kPrivatePrefix) {
      out.push_back(std::move(n));
    }
  }
  return out;
}

}  // namespace sentry::overlay
