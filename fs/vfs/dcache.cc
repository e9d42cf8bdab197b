// The dentry cache: positive and negative lookups, kept in step with every
// successful change to a directory. Fills and changes of a directory's
// entries all happen under that directory dentry's mu_.
#include "fs/vfs/vfs_internal.h"

namespace sentry::vfs {
namespace {
absl::string_view Key(std::string_view s) { return absl::string_view(s.data(), s.size()); }
}  // namespace

ErrorOr<std::shared_ptr<Dentry>> VfsInternal::LookupChild(const std::shared_ptr<Dentry>& dir,
                                                          std::string_view name) {
  {
    absl::ReaderMutexLock l(&dir->mu_);
    auto it = dir->children_.find(Key(name));
    if (it != dir->children_.end()) return it->second;
  }
  absl::MutexLock l(&dir->mu_);
  return LookupChildLocked(dir, name);
}

ErrorOr<std::shared_ptr<Dentry>> VfsInternal::LookupChildLocked(const std::shared_ptr<Dentry>& dir,
                                                                std::string_view name) {
  auto it = dir->children_.find(Key(name));
  if (it != dir->children_.end()) return it->second;
  if (dir->dead_) return Err(ENOENT);
  ErrorOr<std::shared_ptr<Inode>> r = dir->inode_->Lookup(name);
  if (!r.ok() && r.error() != ENOENT) return Err(r.error());
  std::shared_ptr<Inode> inode = r.ok() ? std::move(*r) : nullptr;
  auto d = std::make_shared<Dentry>(std::move(inode), std::string(name), dir);
  if (dir->inode_->fs()->CacheDentries()) dir->children_.emplace(std::string(name), d);
  return d;
}

std::shared_ptr<Dentry> VfsInternal::AddChildLocked(const std::shared_ptr<Dentry>& dir,
                                                    std::string_view name,
                                                    std::shared_ptr<Inode> inode) {
  auto d = std::make_shared<Dentry>(std::move(inode), std::string(name), dir);
  if (dir->inode_->fs()->CacheDentries()) {
    dir->children_.insert_or_assign(std::string(name), d);
  }
  return d;
}

void VfsInternal::RemoveChildLocked(const std::shared_ptr<Dentry>& dir,
                                    const std::shared_ptr<Dentry>& child) {
  child->dead_ = true;
  if (!dir->inode_->fs()->CacheDentries()) return;
  dir->children_.insert_or_assign(child->name_,
                                  std::make_shared<Dentry>(nullptr, child->name_, dir));
}

void VfsInternal::SetChildLocked(Dentry& dir, std::string_view name, std::shared_ptr<Dentry> c) {
  if (!dir.inode_->fs()->CacheDentries()) return;
  dir.children_.insert_or_assign(std::string(name), std::move(c));
}

void VfsInternal::EraseChildLocked(Dentry& dir, std::string_view name) {
  dir.children_.erase(Key(name));
}

}  // namespace sentry::vfs
