// Fids, nodes and the few primitives every handler builds on: walking one
// component, reopening a node for I/O, and changing mode/owner through the
// node's own fd (never through a path).
#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gofer/server_internal.h"

namespace gofer {
namespace {
// fchmodat2(2) (Linux 6.6) is the only way to chmod through an O_PATH fd;
// glibc 2.36 has no number for it yet.
constexpr long kSysFchmodat2 = 452;
}  // namespace

Node::~Node() {
  // The map entry for us (if still ours) can no longer be locked: drop it
  // so a long-lived directory does not collect dead entries.
  if (parent) {
    auto it = parent->children.find(name);
    if (it != parent->children.end() && it->second.expired()) parent->children.erase(it);
  }
}

int CheckName(const std::string& name) {
  if (name.empty() || name == "." || name == "..") return EINVAL;
  if (name.find('/') != std::string::npos || name.find('\0') != std::string::npos) return EINVAL;
  if (name.size() > 255) return ENAMETOOLONG;
  return 0;
}

bool IsUserXattr(const std::string& name) { return name.rfind("user.", 0) == 0 && name.size() > 5; }

void FillAttr(const struct stat& st, pb::Attr* a) {
  a->set_dev(st.st_dev);
  a->set_ino(st.st_ino);
  a->set_mode(st.st_mode);
  a->set_nlink(st.st_nlink);
  a->set_uid(st.st_uid);
  a->set_gid(st.st_gid);
  a->set_rdev(st.st_rdev);
  a->set_size(static_cast<uint64_t>(st.st_size));
  a->set_blocks(static_cast<uint64_t>(st.st_blocks));
  a->set_blksize(static_cast<uint32_t>(st.st_blksize));
  a->mutable_atime()->set_sec(st.st_atim.tv_sec);
  a->mutable_atime()->set_nsec(st.st_atim.tv_nsec);
  a->mutable_mtime()->set_sec(st.st_mtim.tv_sec);
  a->mutable_mtime()->set_nsec(st.st_mtim.tv_nsec);
  a->mutable_ctime()->set_sec(st.st_ctim.tv_sec);
  a->mutable_ctime()->set_nsec(st.st_ctim.tv_nsec);
}

std::shared_ptr<Node> Server::Find(uint64_t fid) const {
  auto it = fids_.find(fid);
  return it == fids_.end() ? nullptr : it->second;
}

uint64_t Server::AddFid(std::shared_ptr<Node> n) {
  uint64_t fid = next_fid_++;
  fids_.emplace(fid, std::move(n));
  return fid;
}

bool Server::ReadOnly(const Node& n) const { return opts_.read_only || mounts_[n.mount].read_only; }

int Server::MutableDir(uint64_t fid, const std::string& name, std::shared_ptr<Node>* out) {
  if (int e = CheckName(name)) return e;
  auto d = Find(fid);
  if (!d) return EBADF;
  if (ReadOnly(*d)) return EROFS;
  if (d->type != S_IFDIR) return ENOTDIR;
  *out = std::move(d);
  return 0;
}

int Server::WalkOne(const std::shared_ptr<Node>& dir, const std::string& name,
                    std::shared_ptr<Node>* out, struct stat* st) {
  if (dir->type != S_IFDIR) return ENOTDIR;
  // O_PATH|O_NOFOLLOW on a single component: no traversal at all, and a
  // symlink is opened as itself.
  UniqueFd fd(openat(dir->fd.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.ok()) return errno;
  if (fstat(fd.get(), st) < 0) return errno;
  auto it = dir->children.find(name);
  if (it != dir->children.end()) {
    auto n = it->second.lock();
    if (n && n->dev == st->st_dev && n->ino == st->st_ino) {
      *out = std::move(n);
      return 0;
    }
  }
  auto n = std::make_shared<Node>();
  n->fd = std::move(fd);
  n->dev = st->st_dev;
  n->ino = st->st_ino;
  n->type = st->st_mode & S_IFMT;
  n->mount = dir->mount;
  n->parent = dir;
  n->name = name;
  dir->children[name] = n;
  *out = std::move(n);
  return 0;
}

int Server::Reopen(const Node& n, int flags, UniqueFd* out) {
  int acc = flags & O_ACCMODE;
  int fd;
  switch (n.type) {
    case S_IFDIR:
      if (acc != O_RDONLY) return EISDIR;
      // An O_PATH directory fd reopens itself through ".": no name, no race.
      fd = openat(n.fd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      break;
    case S_IFREG:
    case S_IFIFO:
      if (!n.parent) return ESTALE;  // removed: no name to reopen it by
      fd = openat(n.parent->fd.get(), n.name.c_str(),
                  acc | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC | (n.type == S_IFIFO ? O_NONBLOCK : 0));
      break;
    case S_IFLNK:
      return ELOOP;
    case S_IFSOCK:
      return ENXIO;
    default:
      return EPERM;  // devices are never opened by the Gofer
  }
  if (fd < 0) return errno;
  UniqueFd f(fd);
  // The name may lead elsewhere now (replaced on the host): refuse rather
  // than hand out some other file.
  struct stat st;
  if (fstat(fd, &st) < 0) return errno;
  if (st.st_dev != n.dev || st.st_ino != n.ino) return ESTALE;
  // O_TRUNC only now that we know whose data it drops.
  if ((flags & O_TRUNC) && n.type == S_IFREG && ftruncate(fd, 0) < 0) return errno;
  *out = std::move(f);
  return 0;
}

int Server::StatNode(const Node& n, pb::Attr* out) {
  struct stat st;
  if (fstat(n.fd.get(), &st) < 0) return errno;
  FillAttr(st, out);
  return 0;
}

int Server::Chmod(const Node& n, uint32_t mode) {
  if (n.type == S_IFLNK) return EOPNOTSUPP;  // Linux has no symlink modes
  if (syscall(kSysFchmodat2, n.fd.get(), "", mode & 07777, AT_EMPTY_PATH) == 0) return 0;
  if (errno != ENOSYS) return errno;
  UniqueFd f;  // older kernels: through a real fd
  if (int e = Reopen(n, O_RDONLY, &f)) return e;
  return fchmod(f.get(), mode & 07777) < 0 ? errno : 0;
}

int Server::Chown(const Node& n, uint32_t uid, uint32_t gid) {
  return fchownat(n.fd.get(), "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 ? errno : 0;
}

int Server::FinishNew(const std::shared_ptr<Node>& dir, const std::string& name, uint32_t uid,
                      uint32_t gid, int mode, pb::NewFileResponse* out) {
  std::shared_ptr<Node> n;
  struct stat st;
  if (int e = WalkOne(dir, name, &n, &st)) return e;
  // Owner first: chown clears set-id bits that the chmod then restores.
  if (st.st_uid != uid || st.st_gid != gid) {
    int e = Chown(*n, uid, gid);
    // Without CAP_CHOWN (rootless) files stay the Gofer's: what runc does.
    if (e != 0 && e != EPERM) return e;
  }
  if (mode >= 0 && (st.st_mode & 07777) != static_cast<uint32_t>(mode)) {
    if (int e = Chmod(*n, static_cast<uint32_t>(mode))) return e;
  }
  pb::FileRef* f = out->mutable_file();
  if (int e = StatNode(*n, f->mutable_attr())) return e;
  if (int e = StatNode(*dir, out->mutable_dir_attr())) return e;
  f->set_fid(AddFid(std::move(n)));
  return 0;
}

void Server::DetachChild(Node& dir, const std::string& name) {
  auto it = dir.children.find(name);
  if (it == dir.children.end()) return;
  auto n = it->second.lock();
  dir.children.erase(it);
  if (n) n->parent.reset();
}

}  // namespace gofer
