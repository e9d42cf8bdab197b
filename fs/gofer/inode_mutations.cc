// GoferInode: changes to the tree (create, link, unlink, rename, setattr).
// Each one is a single round trip whose response carries the new
// attributes of everything it touched, so the caches stay exact.
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "fs/gofer/inode.h"

namespace sentry::goferfs {

void GoferInode::ApplyDirAttr(const pb::Attr& a) {
  absl::MutexLock l(&mu_);
  attr_ = AttrFromProto(a, 0);
  stale_ = false;
  dirents_.reset();
}

void GoferInode::ForgetChild(const std::string& name) {
  std::shared_ptr<GoferInode> c;
  {
    absl::MutexLock l(&mu_);
    auto it = children_.find(name);
    if (it == children_.end()) return;
    c = it->second.lock();
    children_.erase(it);
  }
  if (c) c->MarkStale();  // nlink and ctime moved; open files still stat it
}

ErrorOr<std::shared_ptr<vfs::Inode>> GoferInode::NewChild(pb::Request& req, std::string_view name,
                                                          UniqueFd* fd_out) {
  if (type_ != S_IFDIR) return Err(ENOTDIR);
  if (gfs()->read_only()) return Err(EROFS);
  pb::Response resp;
  std::vector<UniqueFd> fds;
  TRY(client_->Call(req, &resp, &fds));
  if (!resp.has_new_file()) return Err(EIO);
  ApplyDirAttr(resp.new_file().dir_attr());
  auto c = AdoptChild(std::string(name), resp.new_file().file());
  if (fd_out != nullptr && fds.size() == 1) *fd_out = std::move(fds[0]);
  return std::shared_ptr<vfs::Inode>(std::move(c));
}

ErrorOr<std::shared_ptr<vfs::Inode>> GoferInode::CreateChild(std::string_view name, uint32_t mode,
                                                             uint64_t rdev, uint32_t uid,
                                                             uint32_t gid) {
  pb::Request req;
  std::string n(name);
  switch (mode & S_IFMT) {
    case 0:
    case S_IFREG: {
      pb::CreateRequest* c = req.mutable_create();
      c->set_dir_fid(fid_);
      c->set_name(n);
      c->set_mode(mode & 07777);
      c->set_flags(O_RDWR);  // the new inode's write fd also serves reads
      c->set_uid(uid);
      c->set_gid(gid);
      UniqueFd fd;
      auto inode = TRY_ASSIGN(NewChild(req, name, &fd));
      if (fd.ok()) {
        auto* g = static_cast<GoferInode*>(inode.get());
        absl::MutexLock l(&g->mu_);
        if (g->wr_fd_ < 0) {
          g->wr_fd_ = fd.release();
          g->wr_fd_reads_ = true;
        }
      }
      return inode;
    }
    case S_IFDIR: {
      pb::MkdirRequest* m = req.mutable_mkdir();
      m->set_dir_fid(fid_);
      m->set_name(n);
      m->set_mode(mode & 07777);
      m->set_uid(uid);
      m->set_gid(gid);
      return NewChild(req, name, nullptr);
    }
    case S_IFIFO:
    case S_IFSOCK: {
      pb::MknodRequest* m = req.mutable_mknod();
      m->set_dir_fid(fid_);
      m->set_name(n);
      m->set_mode(mode);
      m->set_uid(uid);
      m->set_gid(gid);
      return NewChild(req, name, nullptr);
    }
    default:
      return Err(EPERM);  // device nodes are never made on the host
  }
}

ErrorOr<std::shared_ptr<vfs::Inode>> GoferInode::CreateSymlink(std::string_view name,
                                                               std::string_view target,
                                                               uint32_t uid, uint32_t gid) {
  pb::Request req;
  pb::SymlinkRequest* s = req.mutable_symlink();
  s->set_dir_fid(fid_);
  s->set_name(std::string(name));
  s->set_target(std::string(target));
  s->set_uid(uid);
  s->set_gid(gid);
  return NewChild(req, name, nullptr);
}

Errno GoferInode::Link(std::string_view name, const std::shared_ptr<vfs::Inode>& target) {
  if (type_ != S_IFDIR) return ENOTDIR;
  auto t = std::dynamic_pointer_cast<GoferInode>(target);
  if (!t || t->fs() != fs()) return EXDEV;
  if (gfs()->read_only()) return EROFS;
  pb::Request req;
  pb::LinkRequest* l = req.mutable_link();
  l->set_target_fid(t->fid_);
  l->set_dir_fid(fid_);
  l->set_name(std::string(name));
  pb::Response resp;
  TRY(client_->Call(req, &resp));
  const pb::NewFileResponse& nf = resp.new_file();
  // The new name is the target inode itself; the extra fid is not needed.
  client_->Clunk(nf.file().fid());
  {
    absl::MutexLock g(&t->mu_);
    t->attr_ = AttrFromProto(nf.file().attr(), 0);
    t->stale_ = false;
  }
  ApplyDirAttr(nf.dir_attr());
  absl::MutexLock g(&mu_);
  children_[std::string(name)] = t;
  return 0;
}

Errno GoferInode::RemoveChild(std::string_view name, uint32_t flags) {
  if (type_ != S_IFDIR) return ENOTDIR;
  if (gfs()->read_only()) return EROFS;
  pb::Request req;
  pb::UnlinkRequest* u = req.mutable_unlink();
  u->set_dir_fid(fid_);
  u->set_name(std::string(name));
  u->set_flags(flags);
  pb::Response resp;
  TRY(client_->Call(req, &resp));
  ApplyDirAttr(resp.unlink().dir_attr());
  ForgetChild(std::string(name));
  return 0;
}

Errno GoferInode::Unlink(std::string_view name) { return RemoveChild(name, 0); }
Errno GoferInode::Rmdir(std::string_view name) { return RemoveChild(name, AT_REMOVEDIR); }

Errno GoferInode::Rename(std::string_view old_name, vfs::Inode* new_dir, std::string_view new_name,
                         uint32_t flags) {
  if (type_ != S_IFDIR) return ENOTDIR;
  auto* to = dynamic_cast<GoferInode*>(new_dir);
  if (to == nullptr || to->fs() != fs()) return EXDEV;
  if (gfs()->read_only()) return EROFS;
  pb::Request req;
  pb::RenameRequest* r = req.mutable_rename();
  r->set_old_dir_fid(fid_);
  r->set_old_name(std::string(old_name));
  r->set_new_dir_fid(to->fid_);
  r->set_new_name(std::string(new_name));
  r->set_flags(flags);
  pb::Response resp;
  TRY(client_->Call(req, &resp));
  ApplyDirAttr(resp.rename().old_dir_attr());
  to->ApplyDirAttr(resp.rename().new_dir_attr());
  // Move the cached children like the Gofer moved its nodes.
  auto take = [](GoferInode* d, const std::string& n) {
    absl::MutexLock l(&d->mu_);
    std::shared_ptr<GoferInode> c;
    if (auto it = d->children_.find(n); it != d->children_.end()) {
      c = it->second.lock();
      d->children_.erase(it);
    }
    return c;
  };
  auto put = [](GoferInode* d, const std::string& n, const std::shared_ptr<GoferInode>& c) {
    absl::MutexLock l(&d->mu_);
    d->children_[n] = c;
  };
  std::string on(old_name), nn(new_name);
  std::shared_ptr<GoferInode> moved = take(this, on);
  std::shared_ptr<GoferInode> other = take(to, nn);
  if (moved) {
    put(to, nn, moved);
    moved->MarkStale();  // ctime
  }
  if (other) {
    if (flags & RENAME_EXCHANGE) put(this, on, other);
    other->MarkStale();  // ctime, or nlink when replaced
  }
  return 0;
}

Errno GoferInode::SetAttrs(const vfs::SetAttr& a) {
  if (gfs()->read_only()) return EROFS;
  if (a.mask & vfs::SetAttr::kSize) {
    if (type_ == S_IFDIR) return EISDIR;
    if (type_ != S_IFREG) return EINVAL;
    TRY(Truncate(a.size));
  }
  pb::Request req;
  pb::SetAttrRequest* s = req.mutable_setattr();
  uint32_t m = 0;
  if (a.mask & vfs::SetAttr::kMode) m |= pb::SetAttrRequest::MODE;
  if (a.mask & vfs::SetAttr::kUid) m |= pb::SetAttrRequest::UID;
  if (a.mask & vfs::SetAttr::kGid) m |= pb::SetAttrRequest::GID;
  if (a.mask & vfs::SetAttr::kAtime) m |= pb::SetAttrRequest::ATIME;
  if (a.mask & vfs::SetAttr::kMtime) m |= pb::SetAttrRequest::MTIME;
  // ctime alone: the host moves it on every change, we cannot set it.
  if (m == 0) return 0;
  s->set_fid(fid_);
  s->set_mask(m);
  s->set_mode(a.mode);
  s->set_uid(a.uid);
  s->set_gid(a.gid);
  s->mutable_atime()->set_sec(a.atime.tv_sec);
  s->mutable_atime()->set_nsec(a.atime.tv_nsec);
  s->mutable_mtime()->set_sec(a.mtime.tv_sec);
  s->mutable_mtime()->set_nsec(a.mtime.tv_nsec);
  pb::Response resp;
  TRY(client_->Call(req, &resp));
  absl::MutexLock l(&mu_);
  attr_ = AttrFromProto(resp.setattr().attr(), 0);
  stale_ = false;
  host_stale_ = false;
  return 0;
}

Errno GoferInode::Truncate(uint64_t size) {
  absl::MutexLock io(&io_mu_);
  return TruncateLocked(size);
}

Errno GoferInode::TruncateLocked(uint64_t size) {
  if (gfs()->read_only()) return EROFS;
  uint64_t old;
  int fd;
  {
    absl::MutexLock l(&mu_);
    old = attr_.size;
    fd = wr_fd_;
  }
  if (fd >= 0) {
    // We hold a writable fd: no round trip needed.
    if (ftruncate(fd, static_cast<off_t>(size)) < 0) return errno;
    absl::MutexLock l(&mu_);
    attr_.size = size;
    host_stale_ = true;
  } else {
    pb::Request req;
    req.mutable_setattr()->set_fid(fid_);
    req.mutable_setattr()->set_mask(pb::SetAttrRequest::SIZE);
    req.mutable_setattr()->set_size(size);
    pb::Response resp;
    TRY(client_->Call(req, &resp));
    absl::MutexLock l(&mu_);
    attr_ = AttrFromProto(resp.setattr().attr(), 0);
    stale_ = false;
  }
  if (size < old) {
    // Dirty pages below the new end go to the host before the cache
    // forgets them (only shared writable mappings make pages dirty, and
    // they imply a writable fd).
    if (fd >= 0 && cache_.HasDirty()) TRY(cache_.Writeback(fd, size));
    cache_.Invalidate();
  }
  return 0;
}

}  // namespace sentry::goferfs
