// GoferInode: attributes, lookups, listings, symlinks, xattrs and the
// host fds. Mutations are in inode_mutations.cc, file data in file.cc.
#include "fs/gofer/inode.h"

#include <fcntl.h>
#include <unistd.h>

#include "sentry/base/log.h"

namespace sentry::goferfs {

GoferInode::GoferInode(GoferFilesystem* fs, uint64_t fid, const pb::Attr& attr)
    : vfs::Inode(fs),
      fid_(fid),
      host_dev_(attr.dev()),
      host_ino_(attr.ino()),
      ino_(fs->MapIno(attr.dev(), attr.ino())),
      type_(attr.mode() & S_IFMT),
      client_(fs->client_ptr()),
      attr_(AttrFromProto(attr, 0)),
      cache_(fs->mf()) {}

GoferInode::~GoferInode() {
  absl::MutexLock l(&mu_);
  // Last chance for pages that shared writable mappings dirtied.
  if (wr_fd_ >= 0 && cache_.HasDirty()) {
    if (Errno e = cache_.Writeback(wr_fd_, attr_.size)) {
      SLOG(kWarning, "gofer: lost dirty pages of inode %d: errno %d", ino_, e);
    }
  }
  if (rd_fd_ >= 0) close(rd_fd_);
  if (wr_fd_ >= 0) close(wr_fd_);
  client_->Clunk(fid_);
}

void GoferInode::MarkStale() {
  absl::MutexLock l(&mu_);
  stale_ = true;
}

ErrorOr<vfs::Attr> GoferInode::GetAttr() {
  bool need_stat = false;
  {
    absl::MutexLock l(&mu_);
    if (host_stale_) {
      int fd = wr_fd_ >= 0 ? wr_fd_ : rd_fd_;
      struct stat st;
      if (fd >= 0 && fstat(fd, &st) == 0) {
        attr_.size = static_cast<uint64_t>(st.st_size);
        attr_.blocks = static_cast<uint64_t>(st.st_blocks);
        attr_.mtime = st.st_mtim;
        attr_.ctime = st.st_ctim;
        attr_.atime = st.st_atim;
        host_stale_ = false;
      }
    }
    need_stat = stale_;
    if (!need_stat) {
      vfs::Attr a = attr_;
      a.dev = fs()->dev();
      a.ino = ino_;
      return a;
    }
  }
  pb::Request req;
  req.mutable_stat()->set_fid(fid_);
  pb::Response resp;
  TRY(client_->Call(req, &resp));
  absl::MutexLock l(&mu_);
  attr_ = AttrFromProto(resp.stat().attr(), 0);
  stale_ = false;
  vfs::Attr a = attr_;
  a.dev = fs()->dev();
  a.ino = ino_;
  return a;
}

std::shared_ptr<GoferInode> GoferInode::AdoptChild(const std::string& name, const pb::FileRef& f) {
  std::shared_ptr<GoferInode> c;  // outside the lock: may be the last reference
  {
    absl::MutexLock l(&mu_);
    auto it = children_.find(name);
    if (it != children_.end()) c = it->second.lock();
    if (!c || c->host_ino_ != f.attr().ino() || c->host_dev_ != f.attr().dev()) {
      auto fresh = std::make_shared<GoferInode>(gfs(), f.fid(), f.attr());
      children_[name] = fresh;
      return fresh;
    }
  }
  // Someone walked here first (or the VFS dropped the name while the
  // inode lived on): one inode per file keeps caches and fds shared.
  client_->Clunk(f.fid());
  return c;
}

ErrorOr<GoferInode::WalkResult> GoferInode::WalkPath(const std::vector<std::string>& names) {
  if (type_ != S_IFDIR) return Err(ENOTDIR);
  pb::Request req;
  pb::WalkRequest* w = req.mutable_walk();
  w->set_dir_fid(fid_);
  for (const std::string& n : names) w->add_names(n);
  pb::Response resp;
  TRY(client_->Call(req, &resp));
  const pb::WalkResponse& wr = resp.walk();
  WalkResult out;
  GoferInode* dir = this;
  std::shared_ptr<GoferInode> hold;
  for (int i = 0; i < wr.files_size(); i++) {
    if (static_cast<size_t>(i) >= names.size()) {  // more than asked: a confused Gofer
      client_->Clunk(wr.files(i).fid());
      continue;
    }
    hold = dir->AdoptChild(names[i], wr.files(i));
    out.inodes.push_back(hold);
    dir = hold.get();
  }
  out.stop = out.inodes.size() < names.size() ? (wr.stop_errno() ? wr.stop_errno() : EIO) : 0;
  return out;
}

ErrorOr<std::shared_ptr<vfs::Inode>> GoferInode::Lookup(std::string_view name) {
  if (type_ != S_IFDIR) return Err(ENOTDIR);
  std::string key(name);
  {
    absl::MutexLock l(&mu_);
    auto it = children_.find(key);
    if (it != children_.end()) {
      if (auto c = it->second.lock()) return std::shared_ptr<vfs::Inode>(std::move(c));
    }
  }
  WalkResult r = TRY_ASSIGN(WalkPath({key}));
  if (r.inodes.empty()) return Err(r.stop);
  return std::shared_ptr<vfs::Inode>(std::move(r.inodes[0]));
}

ErrorOr<std::vector<vfs::DirEntry>> GoferInode::ReadDir() {
  if (type_ != S_IFDIR) return Err(ENOTDIR);
  {
    absl::MutexLock l(&mu_);
    if (dirents_) return *dirents_;
  }
  std::vector<vfs::DirEntry> out;
  uint64_t cookie = 0;
  for (;;) {
    pb::Request req;
    req.mutable_readdir()->set_fid(fid_);
    req.mutable_readdir()->set_cookie(cookie);
    pb::Response resp;
    TRY(client_->Call(req, &resp));
    const pb::ReadDirResponse& page = resp.readdir();
    for (const pb::Dirent& d : page.entries()) {
      // Entries live on this directory's host device (a submount's root
      // shows the number of the directory under it, as on Linux).
      out.push_back(vfs::DirEntry{d.name(), gfs()->MapIno(host_dev_, d.ino()),
                                  static_cast<uint8_t>(d.type())});
      cookie = d.next_cookie();
    }
    if (page.eof()) break;
    if (page.entries_size() == 0) return Err(EIO);  // no progress: do not spin
  }
  absl::MutexLock l(&mu_);
  dirents_ = out;
  return out;
}

ErrorOr<std::string> GoferInode::ReadLink() {
  if (type_ != S_IFLNK) return Err(EINVAL);
  {
    absl::MutexLock l(&mu_);
    if (link_target_) return *link_target_;
  }
  pb::Request req;
  req.mutable_readlink()->set_fid(fid_);
  pb::Response resp;
  TRY(client_->Call(req, &resp));
  absl::MutexLock l(&mu_);
  link_target_ = resp.readlink().target();
  return *link_target_;
}

// --- host fds ---

ErrorOr<int> GoferInode::ReadFd() {
  auto have = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return rd_fd_ >= 0 ? rd_fd_ : (wr_fd_reads_ ? wr_fd_ : -1);
  };
  {
    absl::MutexLock l(&mu_);
    if (int fd = have(); fd >= 0) return fd;
  }
  absl::MutexLock ol(&open_mu_);
  {
    absl::MutexLock l(&mu_);
    if (int fd = have(); fd >= 0) return fd;  // another task opened it meanwhile
  }
  pb::Request req;
  req.mutable_open()->set_fid(fid_);
  req.mutable_open()->set_flags(O_RDONLY);
  pb::Response resp;
  std::vector<UniqueFd> fds;
  TRY(client_->Call(req, &resp, &fds));
  if (fds.size() != 1) return Err(EIO);
  absl::MutexLock l(&mu_);
  rd_fd_ = fds[0].release();
  return rd_fd_;
}

ErrorOr<int> GoferInode::WriteFd() {
  if (gfs()->read_only()) return Err(EROFS);
  {
    absl::MutexLock l(&mu_);
    if (wr_fd_ >= 0) return wr_fd_;
  }
  absl::MutexLock ol(&open_mu_);
  {
    absl::MutexLock l(&mu_);
    if (wr_fd_ >= 0) return wr_fd_;
  }
  // O_RDWR so the one fd also serves reads; O_WRONLY if the Gofer may not
  // read the file (rootless, mode -w-).
  std::vector<UniqueFd> fds;
  bool reads = true;
  for (uint32_t flags : {O_RDWR, O_WRONLY}) {
    pb::Request req;
    req.mutable_open()->set_fid(fid_);
    req.mutable_open()->set_flags(flags);
    pb::Response resp;
    fds.clear();
    Errno e = client_->Call(req, &resp, &fds);
    if (e == 0) break;
    if (e != EACCES || flags == O_WRONLY) return Err(e);
    reads = false;
  }
  if (fds.size() != 1) return Err(EIO);
  absl::MutexLock l(&mu_);
  wr_fd_ = fds[0].release();
  wr_fd_reads_ = reads;
  return wr_fd_;
}

// --- extended attributes: user.* only, like the Gofer ---

namespace {
bool IsUser(std::string_view name) { return name.size() > 5 && name.substr(0, 5) == "user."; }
}  // namespace

ErrorOr<std::string> GoferInode::GetXattr(std::string_view name) {
  // Other namespaces (security.capability, asked on every exec) simply
  // have no attributes here.
  if (!IsUser(name)) return Err(ENODATA);
  pb::Request req;
  req.mutable_getxattr()->set_fid(fid_);
  req.mutable_getxattr()->set_name(std::string(name));
  pb::Response resp;
  TRY(client_->Call(req, &resp));
  return resp.getxattr().value();
}

Errno GoferInode::SetXattr(std::string_view name, std::string_view value, int flags) {
  if (!IsUser(name)) return EOPNOTSUPP;
  if (gfs()->read_only()) return EROFS;
  pb::Request req;
  pb::SetXattrRequest* s = req.mutable_setxattr();
  s->set_fid(fid_);
  s->set_name(std::string(name));
  s->set_value(std::string(value));
  s->set_flags(static_cast<uint32_t>(flags));
  pb::Response resp;
  TRY(client_->Call(req, &resp));
  MarkStale();  // ctime
  return 0;
}

ErrorOr<std::vector<std::string>> GoferInode::ListXattr() {
  pb::Request req;
  req.mutable_listxattr()->set_fid(fid_);
  pb::Response resp;
  TRY(client_->Call(req, &resp));
  return std::vector<std::string>(resp.listxattr().names().begin(), resp.listxattr().names().end());
}

Errno GoferInode::RemoveXattr(std::string_view name) {
  if (!IsUser(name)) return EOPNOTSUPP;
  if (gfs()->read_only()) return EROFS;
  pb::Request req;
  req.mutable_removexattr()->set_fid(fid_);
  req.mutable_removexattr()->set_name(std::string(name));
  pb::Response resp;
  TRY(client_->Call(req, &resp));
  MarkStale();
  return 0;
}

}  // namespace sentry::goferfs
