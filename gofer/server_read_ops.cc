// Handlers that only look: attach, walk, stat, open, readdir, readlink,
// and reading extended attributes.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>

#include "gofer/server_internal.h"

namespace gofer {
namespace {
// A walk of more names than this is EINVAL: bounds the work of one request.
constexpr int kMaxWalkNames = 256;
// A readdir page stops once its names add up to this much.
constexpr size_t kReadDirPageBytes = 64 * 1024;
}  // namespace

int Server::Attach(const pb::AttachRequest& r, pb::Response* resp) {
  if (r.mount() >= mounts_.size()) return ENOENT;
  std::shared_ptr<Node>& root = roots_[r.mount()];
  struct stat st;
  if (!root) {
    UniqueFd fd(openat(mounts_[r.mount()].root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!fd.ok()) return errno;
    if (fstat(fd.get(), &st) < 0) return errno;
    root = std::make_shared<Node>();
    root->fd = std::move(fd);
    root->dev = st.st_dev;
    root->ino = st.st_ino;
    root->type = S_IFDIR;
    root->mount = r.mount();
  } else if (fstat(root->fd.get(), &st) < 0) {
    return errno;
  }
  pb::AttachResponse* a = resp->mutable_attach();
  FillAttr(st, a->mutable_root()->mutable_attr());
  a->mutable_root()->set_fid(AddFid(root));
  a->set_read_only(ReadOnly(*root));
  return 0;
}

int Server::Walk(const pb::WalkRequest& r, pb::Response* resp) {
  if (r.names_size() > kMaxWalkNames) return EINVAL;
  for (const std::string& name : r.names()) {
    if (int e = CheckName(name)) return e;
  }
  std::shared_ptr<Node> cur = Find(r.dir_fid());
  if (!cur) return EBADF;
  pb::WalkResponse* w = resp->mutable_walk();
  for (const std::string& name : r.names()) {
    std::shared_ptr<Node> next;
    struct stat st;
    int e = WalkOne(cur, name, &next, &st);
    if (e != 0) {
      w->set_stop_errno(e);
      break;
    }
    pb::FileRef* f = w->add_files();
    FillAttr(st, f->mutable_attr());
    f->set_fid(AddFid(next));
    cur = std::move(next);
  }
  return 0;
}

int Server::Stat(const pb::StatRequest& r, pb::Response* resp) {
  auto n = Find(r.fid());
  if (!n) return EBADF;
  return StatNode(*n, resp->mutable_stat()->mutable_attr());
}

int Server::StatFS(const pb::StatFSRequest& r, pb::Response* resp) {
  auto n = Find(r.fid());
  if (!n) return EBADF;
  struct statfs s;
  if (fstatfs(n->fd.get(), &s) < 0) return errno;
  pb::StatFSResponse* o = resp->mutable_statfs();
  o->set_type(static_cast<uint64_t>(s.f_type));
  o->set_bsize(static_cast<uint64_t>(s.f_bsize));
  o->set_blocks(s.f_blocks);
  o->set_bfree(s.f_bfree);
  o->set_bavail(s.f_bavail);
  o->set_files(s.f_files);
  o->set_ffree(s.f_ffree);
  o->set_namelen(static_cast<uint64_t>(s.f_namelen));
  o->set_frsize(static_cast<uint64_t>(s.f_frsize));
  o->set_flags(static_cast<uint64_t>(s.f_flags));
  return 0;
}

int Server::Open(const pb::OpenRequest& r, pb::Response* resp, Fds* fds) {
  auto n = Find(r.fid());
  if (!n) return EBADF;
  int flags = static_cast<int>(r.flags() & (O_ACCMODE | O_TRUNC));
  if ((flags & O_ACCMODE) == O_ACCMODE) return EINVAL;
  if (((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC)) && ReadOnly(*n)) return EROFS;
  UniqueFd fd;
  if (int e = Reopen(*n, flags, &fd)) return e;
  fds->push_back(std::move(fd));
  resp->mutable_open();
  return 0;
}

int Server::ReadDir(const pb::ReadDirRequest& r, pb::Response* resp) {
  auto n = Find(r.fid());
  if (!n) return EBADF;
  if (n->type != S_IFDIR) return ENOTDIR;
  UniqueFd dir;
  if (int e = Reopen(*n, O_RDONLY, &dir)) return e;
  // getdents64 d_off values are lseek positions: the cookie resumes there.
  if (r.cookie() != 0 && lseek(dir.get(), static_cast<off_t>(r.cookie()), SEEK_SET) < 0) {
    return errno;
  }
  pb::ReadDirResponse* out = resp->mutable_readdir();
  alignas(8) char buf[32 * 1024];
  size_t bytes = 0;
  for (;;) {
    long got = syscall(SYS_getdents64, dir.get(), buf, sizeof(buf));
    if (got < 0) return errno;
    if (got == 0) {
      out->set_eof(true);
      return 0;
    }
    for (long off = 0; off < got;) {
      struct dirent64* d = reinterpret_cast<struct dirent64*>(buf + off);
      // The name runs to the record's end at most (d_name's declared size
      // means nothing).
      const char* name = buf + off + offsetof(struct dirent64, d_name);
      size_t len = strnlen(name, d->d_reclen - offsetof(struct dirent64, d_name));
      off += d->d_reclen;
      if ((len == 1 && name[0] == '.') || (len == 2 && memcmp(name, "..", 2) == 0)) {
        continue;
      }
      // Stop before the budget is exceeded; the next page seeks back to
      // the last cookie handed out.
      if (bytes + len + 32 > kReadDirPageBytes && out->entries_size() > 0) return 0;
      pb::Dirent* e = out->add_entries();
      e->set_name(name, len);
      e->set_ino(d->d_ino);
      e->set_type(d->d_type);
      e->set_next_cookie(static_cast<uint64_t>(d->d_off));
      bytes += len + 32;
    }
  }
}

int Server::ReadLink(const pb::ReadLinkRequest& r, pb::Response* resp) {
  auto n = Find(r.fid());
  if (!n) return EBADF;
  if (n->type != S_IFLNK) return EINVAL;
  char buf[4096];
  ssize_t len = readlinkat(n->fd.get(), "", buf, sizeof(buf));
  if (len < 0) return errno;
  resp->mutable_readlink()->set_target(buf, static_cast<size_t>(len));
  return 0;
}

int Server::GetXattr(const pb::GetXattrRequest& r, pb::Response* resp) {
  auto n = Find(r.fid());
  if (!n) return EBADF;
  if (!IsUserXattr(r.name())) return EOPNOTSUPP;
  // user.* attributes exist only on regular files and directories.
  if (n->type != S_IFREG && n->type != S_IFDIR) return ENODATA;
  UniqueFd fd;
  if (int e = Reopen(*n, O_RDONLY, &fd)) return e;
  std::string value(64 * 1024, '\0');  // XATTR_SIZE_MAX
  ssize_t len = fgetxattr(fd.get(), r.name().c_str(), value.data(), value.size());
  if (len < 0) return errno;
  value.resize(static_cast<size_t>(len));
  resp->mutable_getxattr()->set_value(std::move(value));
  return 0;
}

int Server::ListXattr(const pb::ListXattrRequest& r, pb::Response* resp) {
  auto n = Find(r.fid());
  if (!n) return EBADF;
  pb::ListXattrResponse* out = resp->mutable_listxattr();
  if (n->type != S_IFREG && n->type != S_IFDIR) return 0;
  UniqueFd fd;
  if (int e = Reopen(*n, O_RDONLY, &fd)) return e;
  std::string list(64 * 1024, '\0');
  ssize_t len = flistxattr(fd.get(), list.data(), list.size());
  if (len < 0) return errno;
  for (size_t pos = 0; pos < static_cast<size_t>(len);) {
    size_t end = list.find('\0', pos);
    if (end == std::string::npos || end > static_cast<size_t>(len)) end = static_cast<size_t>(len);
    std::string name = list.substr(pos, end - pos);
    if (IsUserXattr(name)) out->add_names(std::move(name));
    pos = end + 1;
  }
  return 0;
}

}  // namespace gofer
