// FIFOs (mknod S_IFIFO on any file system): every open of one file shares
// one Pipe, as Linux hangs a pipe_inode_info off the inode (fs/pipe.c
// fifo_open). The pipe lives while an end is open; when the last end
// closes, its data is gone and the next open starts a fresh pipe.
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "fs/pipe/pipe.h"
#include "fs/vfs/device.h"

namespace sentry::vfs {
namespace {

// A file's identity: (st_dev, st_ino). Keying on it rather than on Inode
// objects lets file systems that make several Inode objects for one file
// (overlay, gofer) share the pipe too.
using FileKey = std::pair<uint64_t, uint64_t>;

struct FifoRegistry {
  absl::Mutex mu;
  absl::flat_hash_map<FileKey, std::weak_ptr<Pipe>> pipes ABSL_GUARDED_BY(mu);
};

FifoRegistry& Registry() {
  static FifoRegistry* r = new FifoRegistry;  // never destroyed: ends may close late
  return *r;
}

// Forgets the pipe of `key` if nobody has it open any more (a newer pipe
// made for the same file meanwhile stays).
void Forget(const FileKey& key) {
  FifoRegistry& r = Registry();
  absl::MutexLock l(&r.mu);
  auto it = r.pipes.find(key);
  if (it != r.pipes.end() && it->second.expired()) r.pipes.erase(it);
}

ErrorOr<std::shared_ptr<FileDescription>> OpenFifoFile(const std::shared_ptr<Inode>& inode,
                                                       const VirtualDentry& vd, uint32_t flags,
                                                       Task* t) {
  Attr a = TRY_ASSIGN(inode->GetAttr());
  const FileKey key{a.dev, a.ino};
  std::shared_ptr<Pipe> p;
  {
    FifoRegistry& r = Registry();
    absl::MutexLock l(&r.mu);
    std::weak_ptr<Pipe>& slot = r.pipes[key];
    p = slot.lock();
    if (!p) {
      p = std::make_shared<Pipe>(a.uid, a.gid);
      slot = p;
    }
  }
  ErrorOr<uint64_t> seen = p->OpenEnd(flags, /*is_fifo=*/true, t);
  if (!seen.ok()) {
    p.reset();
    Forget(key);
    return Err(seen.error());
  }
  return NewPipeEnd(std::move(p), flags, *seen, /*named=*/true, [key] { Forget(key); });
}

}  // namespace

void RegisterFifoOpener() { SetFifoOpener(OpenFifoFile); }

}  // namespace sentry::vfs
