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

namespace {

// Post-order: a directory's children go first so it can become unused.
// Precondition: tree_mu_ held exclusively (nobody is between finding a
// dentry and taking a reference to it).
size_t Trim(Dentry& d) {
  size_t n = 0;
  std::vector<std::shared_ptr<Dentry>> kids;
  {
    absl::MutexLock l(&VfsInternal::mu(d));
    VfsInternal::ChildrenLocked(d, &kids);
  }
  for (auto& k : kids) n += Trim(*k);
  kids.clear();  // our own references would make every child look used
  absl::MutexLock l(&VfsInternal::mu(d));
  n += VfsInternal::DropUnusedLocked(d);
  return n;
}

}  // namespace

size_t VFS::TrimDentryCache() {
  absl::MutexLock t(&tree_mu_);
  std::vector<std::shared_ptr<Mount>> mounts;
  {
    absl::ReaderMutexLock l(&mounts_mu_);
    mounts = all_mounts_;
  }
  size_t n = 0;
  for (auto& m : mounts) n += Trim(*m->root);
  return n;
}

size_t VfsInternal::DropUnusedLocked(Dentry& d) {
  size_t n = 0;
  for (auto it = d.children_.begin(); it != d.children_.end();) {
    const std::shared_ptr<Dentry>& c = it->second;
    // use_count 1: only this map holds it. Children of c would hold
    // references to c, and mounts hold their mountpoints.
    if (c.use_count() == 1 && c->mounts_ == 0) {
      d.children_.erase(it++);
      n++;
    } else {
      ++it;
    }
  }
  return n;
}

}  // namespace sentry::vfs
