// tmpfs directories: a sorted map of children. Link counts follow Linux:
// a directory has 2 + (number of subdirectories) links.
#include <stdio.h>

#include <optional>

#include "fs/tmpfs/tmpfs_internal.h"

namespace sentry::tmpfs {

TmpfsDir::TmpfsDir(TmpfsFs* fs, uint32_t mode, uint32_t uid, uint32_t gid)
    : TmpfsInode(fs, S_IFDIR | (mode & 07777), uid, gid, 0) {
  absl::MutexLock l(&mu_);
  attr_.nlink = 2;
  attr_.size = 4096;  // as disk file systems show; tmpfs itself counts 20 bytes an entry
}

ErrorOr<std::shared_ptr<vfs::Inode>> TmpfsDir::Lookup(std::string_view name) {
  absl::ReaderMutexLock l(&tfs()->tree_mu_);
  auto it = children_.find(name);
  if (it == children_.end()) return Err(ENOENT);
  return std::shared_ptr<vfs::Inode>(it->second);
}

ErrorOr<std::shared_ptr<vfs::Inode>> TmpfsDir::Insert(std::string_view name,
                                                      std::shared_ptr<TmpfsInode> child) {
  {
    absl::MutexLock l(&tfs()->tree_mu_);
    if (dead_) return Err(ENOENT);
    if (children_.find(name) != children_.end()) return Err(EEXIST);
    children_.emplace(std::string(name), child);
  }
  if (child->is_dir()) AdjustLinks(1);
  Touch(true);
  return std::shared_ptr<vfs::Inode>(std::move(child));
}

ErrorOr<std::shared_ptr<vfs::Inode>> TmpfsDir::CreateChild(std::string_view name, uint32_t mode,
                                                           uint64_t rdev, uint32_t uid,
                                                           uint32_t gid) {
  std::shared_ptr<TmpfsInode> child;
  switch (mode & S_IFMT) {
    case S_IFDIR:
      child = std::make_shared<TmpfsDir>(tfs(), mode, uid, gid);
      break;
    case S_IFREG:
      child = std::make_shared<TmpfsFile>(tfs(), mode, uid, gid);
      break;
    case S_IFCHR:
    case S_IFBLK:
      child = std::make_shared<TmpfsNode>(tfs(), mode, uid, gid, rdev);
      break;
    case S_IFIFO:
    case S_IFSOCK:
      child = std::make_shared<TmpfsNode>(tfs(), mode, uid, gid, 0);
      break;
    default:
      return Err(EINVAL);
  }
  return Insert(name, std::move(child));
}

ErrorOr<std::shared_ptr<vfs::Inode>> TmpfsDir::CreateSymlink(std::string_view name,
                                                             std::string_view target,
                                                             uint32_t uid, uint32_t gid) {
  return Insert(name, std::make_shared<TmpfsSymlink>(tfs(), std::string(target), uid, gid));
}

ErrorOr<std::shared_ptr<vfs::Inode>> TmpfsDir::CreateTmpfile(uint32_t mode, uint32_t uid,
                                                             uint32_t gid) {
  if ((mode & S_IFMT) != S_IFREG) return Err(EINVAL);
  // shmem_tmpfile: a file in no directory, with no link; the directory
  // itself does not change.
  auto f = std::make_shared<TmpfsFile>(tfs(), mode, uid, gid);
  f->SetLinks(0);
  return std::shared_ptr<vfs::Inode>(std::move(f));
}

Errno TmpfsDir::Link(std::string_view name, const std::shared_ptr<vfs::Inode>& target) {
  auto t = std::dynamic_pointer_cast<TmpfsInode>(target);
  if (!t || t->fs() != fs()) return EXDEV;
  if (t->is_dir()) return EPERM;
  {
    absl::MutexLock l(&tfs()->tree_mu_);
    if (dead_) return ENOENT;
    if (children_.find(name) != children_.end()) return EEXIST;
    vfs::Attr ta = TRY_ASSIGN(t->GetAttr());
    // An unlinked file cannot come back, unless it is an O_TMPFILE file
    // still allowed a name (see Inode::linkable).
    if (ta.nlink == 0 && !t->linkable()) return ENOENT;
    children_.emplace(std::string(name), t);
  }
  t->AdjustLinks(1);
  Touch(true);
  return 0;
}

Errno TmpfsDir::Unlink(std::string_view name) {
  std::shared_ptr<TmpfsInode> child;
  {
    absl::MutexLock l(&tfs()->tree_mu_);
    auto it = children_.find(name);
    if (it == children_.end()) return ENOENT;
    if (it->second->is_dir()) return EISDIR;
    child = std::move(it->second);
    children_.erase(it);
  }
  child->AdjustLinks(-1);
  Touch(true);
  return 0;
}

Errno TmpfsDir::Rmdir(std::string_view name) {
  std::shared_ptr<TmpfsDir> child;
  {
    absl::MutexLock l(&tfs()->tree_mu_);
    auto it = children_.find(name);
    if (it == children_.end()) return ENOENT;
    if (!it->second->is_dir()) return ENOTDIR;
    child = std::static_pointer_cast<TmpfsDir>(it->second);
    if (!child->children_.empty()) return ENOTEMPTY;
    child->dead_ = true;
    children_.erase(it);
  }
  child->SetLinks(0);
  AdjustLinks(-1);
  Touch(true);
  return 0;
}

Errno TmpfsDir::Rename(std::string_view old_name, vfs::Inode* new_dir_in,
                       std::string_view new_name, uint32_t flags) {
  auto* nd = dynamic_cast<TmpfsDir*>(new_dir_in);
  if (nd == nullptr || nd->fs() != fs()) return EXDEV;
  const bool exchange = flags & RENAME_EXCHANGE;
  absl::MutexLock l(&tfs()->tree_mu_);
  if (dead_ || nd->dead_) return ENOENT;
  auto oit = children_.find(old_name);
  if (oit == children_.end()) return ENOENT;
  std::shared_ptr<TmpfsInode> moved = oit->second;
  auto nit = nd->children_.find(new_name);
  std::shared_ptr<TmpfsInode> replaced = nit == nd->children_.end() ? nullptr : nit->second;
  if ((flags & RENAME_NOREPLACE) && replaced) return EEXIST;
  if (exchange && !replaced) return ENOENT;
  if (replaced == moved) return 0;
  if (exchange) {
    oit->second = replaced;
    nit->second = moved;
    if (nd != this && moved->is_dir() != replaced->is_dir()) {
      int d = moved->is_dir() ? 1 : -1;  // nd gains a directory, this loses one
      nd->AdjustLinks(d);
      AdjustLinks(-d);
    }
    moved->Touch(false);
    replaced->Touch(false);
  } else {
    if (replaced) {
      if (moved->is_dir() && !replaced->is_dir()) return ENOTDIR;
      if (!moved->is_dir() && replaced->is_dir()) return EISDIR;
      if (replaced->is_dir()) {
        auto rd = std::static_pointer_cast<TmpfsDir>(replaced);
        if (!rd->children_.empty()) return ENOTEMPTY;
        rd->dead_ = true;
      }
    }
    children_.erase(oit);
    nd->children_.insert_or_assign(std::string(new_name), moved);
    if (replaced) {
      if (replaced->is_dir()) {
        replaced->SetLinks(0);
        nd->AdjustLinks(-1);
      } else {
        replaced->AdjustLinks(-1);
      }
    }
    if (moved->is_dir() && nd != this) {
      AdjustLinks(-1);
      nd->AdjustLinks(1);
    }
    moved->Touch(false);
  }
  Touch(true);
  if (nd != this) nd->Touch(true);
  return 0;
}

ErrorOr<std::vector<vfs::DirEntry>> TmpfsDir::ReadDir() {
  std::vector<vfs::DirEntry> out;
  {
    absl::ReaderMutexLock l(&tfs()->tree_mu_);
    if (dead_) return Err(ENOENT);  // iterate_dir on a removed directory
    out.reserve(children_.size());
    for (const auto& [name, c] : children_) {
      out.push_back(vfs::DirEntry{name, c->ino(), vfs::DirentType(c->type())});
    }
  }
  Accessed();
  return out;
}

}  // namespace sentry::tmpfs
