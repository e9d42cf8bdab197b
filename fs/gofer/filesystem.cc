#include "fs/gofer/filesystem.h"

#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstring>

#include "fs/gofer/inode.h"

namespace sentry::goferfs {

ErrorOr<std::shared_ptr<vfs::Filesystem>> NewGoferFilesystem(int sock_fd, MemoryFile* mf,
                                                             const GoferClientOptions& opts) {
  if (sock_fd < 0 || mf == nullptr) {
    if (sock_fd >= 0) close(sock_fd);
    return Err(EINVAL);
  }
  auto client = TRY_ASSIGN(Client::New(sock_fd, std::max(1, opts.channels)));
  pb::Request req;
  req.mutable_attach()->set_mount(opts.mount);
  pb::Response resp;
  TRY(client->Call(req, &resp));
  if (!resp.has_attach() || !S_ISDIR(resp.attach().root().attr().mode())) return Err(EIO);
  std::shared_ptr<GoferFilesystem> fs(new GoferFilesystem());
  fs->client_ = std::move(client);
  fs->mf_ = mf;
  fs->read_only_ = opts.read_only || resp.attach().read_only();
  fs->root_host_dev_ = resp.attach().root().attr().dev();
  fs->root_ = std::make_shared<GoferInode>(fs.get(), resp.attach().root().fid(),
                                           resp.attach().root().attr());
  return std::shared_ptr<vfs::Filesystem>(std::move(fs));
}

std::shared_ptr<vfs::Inode> GoferRootInode(vfs::Filesystem& fs) {
  auto* g = dynamic_cast<GoferFilesystem*>(&fs);
  return g ? g->root() : nullptr;
}

uint64_t GoferFilesystem::MapIno(uint64_t host_dev, uint64_t host_ino) {
  if (host_dev == root_host_dev_) return host_ino;
  absl::MutexLock l(&ino_mu_);
  auto [it, fresh] = foreign_inos_.try_emplace({host_dev, host_ino}, next_foreign_ino_);
  if (fresh) next_foreign_ino_++;
  return it->second;
}

Errno GoferFilesystem::StatFS(struct statfs* out) {
  pb::Request req;
  req.mutable_statfs()->set_fid(root_->fid());
  pb::Response resp;
  TRY(client_->Call(req, &resp));
  const pb::StatFSResponse& s = resp.statfs();
  memset(out, 0, sizeof(*out));
  // The type the application sees is the 9p one (V9FS_MAGIC), matching
  // Name(); sizes and counts are the host's.
  out->f_type = 0x01021997;
  out->f_bsize = static_cast<long>(s.bsize());
  out->f_blocks = s.blocks();
  out->f_bfree = s.bfree();
  out->f_bavail = s.bavail();
  out->f_files = s.files();
  out->f_ffree = s.ffree();
  out->f_namelen = static_cast<long>(s.namelen());
  out->f_frsize = static_cast<long>(s.frsize());
  out->f_flags = static_cast<long>(s.flags()) | (read_only_ ? ST_RDONLY : 0);
  return 0;
}

}  // namespace sentry::goferfs
