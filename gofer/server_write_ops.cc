// Handlers that change the served tree. Each one first checks the mount
// is writable (EROFS otherwise), works on single names relative to a
// directory fid, and keeps the node tree in step with what it changed.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "gofer/server_internal.h"

namespace gofer {

int Server::Create(const pb::CreateRequest& r, pb::Response* resp, Fds* fds) {
  std::shared_ptr<Node> dir;
  if (int e = MutableDir(r.dir_fid(), r.name(), &dir)) return e;
  int acc = static_cast<int>(r.flags() & O_ACCMODE);
  if (acc == O_ACCMODE) return EINVAL;
  mode_t mode = r.mode() & 07777;
  UniqueFd fd(openat(dir->fd.get(), r.name().c_str(),
                     acc | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, mode));
  if (!fd.ok()) return errno;
  pb::NewFileResponse* out = resp->mutable_new_file();
  if (int e = FinishNew(dir, r.name(), r.uid(), r.gid(), static_cast<int>(mode), out)) {
    unlinkat(dir->fd.get(), r.name().c_str(), 0);  // do not leave half a file behind
    return e;
  }
  fds->push_back(std::move(fd));
  return 0;
}

int Server::Mkdir(const pb::MkdirRequest& r, pb::Response* resp) {
  std::shared_ptr<Node> dir;
  if (int e = MutableDir(r.dir_fid(), r.name(), &dir)) return e;
  mode_t mode = r.mode() & 07777;
  if (mkdirat(dir->fd.get(), r.name().c_str(), mode) < 0) return errno;
  if (int e = FinishNew(dir, r.name(), r.uid(), r.gid(), static_cast<int>(mode),
                        resp->mutable_new_file())) {
    unlinkat(dir->fd.get(), r.name().c_str(), AT_REMOVEDIR);
    return e;
  }
  return 0;
}

int Server::Symlink(const pb::SymlinkRequest& r, pb::Response* resp) {
  std::shared_ptr<Node> dir;
  if (int e = MutableDir(r.dir_fid(), r.name(), &dir)) return e;
  // The target is just bytes stored in the link: the Gofer never follows
  // it. It still must be a valid C string.
  if (r.target().empty() || r.target().size() >= 4096 ||
      r.target().find('\0') != std::string::npos) {
    return r.target().size() >= 4096 ? ENAMETOOLONG : ENOENT;
  }
  if (symlinkat(r.target().c_str(), dir->fd.get(), r.name().c_str()) < 0) return errno;
  if (int e = FinishNew(dir, r.name(), r.uid(), r.gid(), -1, resp->mutable_new_file())) {
    unlinkat(dir->fd.get(), r.name().c_str(), 0);
    return e;
  }
  return 0;
}

int Server::Mknod(const pb::MknodRequest& r, pb::Response* resp) {
  std::shared_ptr<Node> dir;
  if (int e = MutableDir(r.dir_fid(), r.name(), &dir)) return e;
  uint32_t type = r.mode() & S_IFMT;
  if (type != S_IFREG && type != S_IFIFO && type != S_IFSOCK) return EPERM;
  mode_t perm = r.mode() & 07777;
  if (mknodat(dir->fd.get(), r.name().c_str(), type | perm, 0) < 0) return errno;
  if (int e = FinishNew(dir, r.name(), r.uid(), r.gid(), static_cast<int>(perm),
                        resp->mutable_new_file())) {
    unlinkat(dir->fd.get(), r.name().c_str(), 0);
    return e;
  }
  return 0;
}

int Server::Link(const pb::LinkRequest& r, pb::Response* resp) {
  std::shared_ptr<Node> dir;
  if (int e = MutableDir(r.dir_fid(), r.name(), &dir)) return e;
  auto target = Find(r.target_fid());
  if (!target) return EBADF;
  if (target->mount != dir->mount) return EXDEV;
  if (target->type == S_IFDIR) return EPERM;
  if (!target->parent) return ENOENT;  // removed: linkat(AT_EMPTY_PATH) needs a capability
  // Through the target's parent and name, without following a symlink in
  // that name; then check the new name is the walked file.
  if (linkat(target->parent->fd.get(), target->name.c_str(), dir->fd.get(), r.name().c_str(),
             0) < 0) {
    return errno;
  }
  pb::NewFileResponse* out = resp->mutable_new_file();
  int e = FinishNew(dir, r.name(), ~0u, ~0u, -1, out);
  if (e == 0 && (out->file().attr().ino() != target->ino || out->file().attr().dev() != target->dev)) {
    fids_.erase(out->file().fid());
    e = ESTALE;
  }
  if (e != 0) unlinkat(dir->fd.get(), r.name().c_str(), 0);
  return e;
}

int Server::Unlink(const pb::UnlinkRequest& r, pb::Response* resp) {
  std::shared_ptr<Node> dir;
  if (int e = MutableDir(r.dir_fid(), r.name(), &dir)) return e;
  if (r.flags() & ~static_cast<uint32_t>(AT_REMOVEDIR)) return EINVAL;
  if (unlinkat(dir->fd.get(), r.name().c_str(), static_cast<int>(r.flags())) < 0) return errno;
  DetachChild(*dir, r.name());
  return StatNode(*dir, resp->mutable_unlink()->mutable_dir_attr());
}

int Server::Rename(const pb::RenameRequest& r, pb::Response* resp) {
  std::shared_ptr<Node> from, to;
  if (int e = MutableDir(r.old_dir_fid(), r.old_name(), &from)) return e;
  if (int e = MutableDir(r.new_dir_fid(), r.new_name(), &to)) return e;
  if (from->mount != to->mount) return EXDEV;
  if (r.flags() & ~static_cast<uint32_t>(RENAME_NOREPLACE | RENAME_EXCHANGE)) return EINVAL;
  // The raw syscall: glibc's wrapper turns flags == 0 into renameat,
  // which would be one more syscall to allow.
  if (syscall(SYS_renameat2, from->fd.get(), r.old_name().c_str(), to->fd.get(),
              r.new_name().c_str(), r.flags()) < 0) {
    return errno;
  }
  // Keep one node per path: move the renamed node (and, for an exchange,
  // the other one back); a replaced target loses its name.
  auto take = [](Node& d, const std::string& name) {
    std::shared_ptr<Node> n;
    auto it = d.children.find(name);
    if (it != d.children.end()) {
      n = it->second.lock();
      d.children.erase(it);
    }
    return n;
  };
  std::shared_ptr<Node> moved = take(*from, r.old_name());
  std::shared_ptr<Node> other = take(*to, r.new_name());
  auto place = [](const std::shared_ptr<Node>& n, const std::shared_ptr<Node>& d,
                  const std::string& name) {
    n->parent = d;
    n->name = name;
    d->children[name] = n;
  };
  if (moved) place(moved, to, r.new_name());
  if (other) {
    if (r.flags() & RENAME_EXCHANGE) {
      place(other, from, r.old_name());
    } else {
      other->parent.reset();
    }
  }
  pb::RenameResponse* out = resp->mutable_rename();
  if (int e = StatNode(*from, out->mutable_old_dir_attr())) return e;
  return StatNode(*to, out->mutable_new_dir_attr());
}

int Server::SetAttr(const pb::SetAttrRequest& r, pb::Response* resp) {
  auto n = Find(r.fid());
  if (!n) return EBADF;
  if (ReadOnly(*n)) return EROFS;
  uint32_t m = r.mask();
  if (m & pb::SetAttrRequest::SIZE) {
    if (n->type == S_IFDIR) return EISDIR;
    if (n->type != S_IFREG) return EINVAL;
    UniqueFd fd;
    if (int e = Reopen(*n, O_WRONLY, &fd)) return e;
    if (ftruncate(fd.get(), static_cast<off_t>(r.size())) < 0) return errno;
  }
  if (m & (pb::SetAttrRequest::UID | pb::SetAttrRequest::GID)) {
    uint32_t uid = (m & pb::SetAttrRequest::UID) ? r.uid() : ~0u;
    uint32_t gid = (m & pb::SetAttrRequest::GID) ? r.gid() : ~0u;
    if (int e = Chown(*n, uid, gid)) return e;
  }
  if (m & pb::SetAttrRequest::MODE) {
    if (int e = Chmod(*n, r.mode())) return e;
  }
  if (m & (pb::SetAttrRequest::ATIME | pb::SetAttrRequest::MTIME)) {
    struct timespec ts[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
    if (m & pb::SetAttrRequest::ATIME) ts[0] = {r.atime().sec(), r.atime().nsec()};
    if (m & pb::SetAttrRequest::MTIME) ts[1] = {r.mtime().sec(), r.mtime().nsec()};
    if (utimensat(n->fd.get(), "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) return errno;
  }
  return StatNode(*n, resp->mutable_setattr()->mutable_attr());
}

int Server::SetXattr(const pb::SetXattrRequest& r, pb::Response* resp) {
  auto n = Find(r.fid());
  if (!n) return EBADF;
  if (!IsUserXattr(r.name())) return EOPNOTSUPP;
  if (ReadOnly(*n)) return EROFS;
  if (n->type != S_IFREG && n->type != S_IFDIR) return EPERM;  // as Linux for user.*
  if (r.flags() & ~static_cast<uint32_t>(XATTR_CREATE | XATTR_REPLACE)) return EINVAL;
  UniqueFd fd;
  if (int e = Reopen(*n, O_RDONLY, &fd)) return e;
  if (fsetxattr(fd.get(), r.name().c_str(), r.value().data(), r.value().size(),
                static_cast<int>(r.flags())) < 0) {
    return errno;
  }
  resp->mutable_setxattr();
  return 0;
}

int Server::RemoveXattr(const pb::RemoveXattrRequest& r, pb::Response* resp) {
  auto n = Find(r.fid());
  if (!n) return EBADF;
  if (!IsUserXattr(r.name())) return EOPNOTSUPP;
  if (ReadOnly(*n)) return EROFS;
  if (n->type != S_IFREG && n->type != S_IFDIR) return EPERM;
  UniqueFd fd;
  if (int e = Reopen(*n, O_RDONLY, &fd)) return e;
  if (fremovexattr(fd.get(), r.name().c_str()) < 0) return errno;
  resp->mutable_removexattr();
  return 0;
}

}  // namespace gofer
