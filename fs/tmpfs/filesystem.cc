// The tmpfs Filesystem object and its public constructors.
#include <sys/vfs.h>

#include "absl/strings/str_format.h"
#include "fs/tmpfs/tmpfs_internal.h"

namespace sentry::tmpfs {

Errno Usage::Reserve(uint64_t n) {
  uint64_t old = pages.fetch_add(n, std::memory_order_relaxed);
  if (limit_pages != 0 && old + n > limit_pages) {
    pages.fetch_sub(n, std::memory_order_relaxed);
    return ENOSPC;
  }
  return 0;
}

uint64_t Usage::ReserveUpTo(uint64_t n) {
  if (limit_pages == 0) {
    pages.fetch_add(n, std::memory_order_relaxed);
    return n;
  }
  uint64_t cur = pages.load(std::memory_order_relaxed);
  for (;;) {
    uint64_t avail = cur >= limit_pages ? 0 : limit_pages - cur;
    uint64_t take = std::min(n, avail);
    if (take == 0) return 0;
    if (pages.compare_exchange_weak(cur, cur + take, std::memory_order_relaxed)) return take;
  }
}

TmpfsFs::TmpfsFs(MemoryFile* mf, const TmpfsOptions& opts)
    : mf_(mf), opts_(opts), usage_(std::make_shared<Usage>()) {
  uint64_t limit = 0;
  if (opts.size_limit != 0 && !PageRoundUp(opts.size_limit, &limit)) limit = ~0ull;
  usage_->limit_pages = limit / kPageSize;
  root_ = std::make_shared<TmpfsDir>(this, opts.root_mode & 07777, opts.root_uid, opts.root_gid);
}

Errno TmpfsFs::StatFS(struct statfs* out) {
  *out = {};
  out->f_type = 0x01021994;  // TMPFS_MAGIC
  out->f_bsize = kPageSize;
  out->f_frsize = kPageSize;
  out->f_namelen = 255;
  uint64_t used = usage_->pages.load(std::memory_order_relaxed);
  // Without a limit Linux reports zero blocks; we report what fits in the
  // MemoryFile so df shows something sensible.
  uint64_t total = usage_->limit_pages ? usage_->limit_pages : mf_->capacity() / kPageSize;
  out->f_blocks = total;
  out->f_bfree = out->f_bavail = total > used ? total - used : 0;
  return 0;
}

std::string TmpfsFs::MountOptions() const {
  std::string s;
  if (opts_.size_limit) s += absl::StrFormat("size=%uk,", opts_.size_limit / 1024);
  s += absl::StrFormat("mode=%o", opts_.root_mode & 07777);
  if (opts_.root_uid) s += absl::StrFormat(",uid=%u", opts_.root_uid);
  if (opts_.root_gid) s += absl::StrFormat(",gid=%u", opts_.root_gid);
  return s;
}

std::shared_ptr<vfs::Filesystem> NewTmpfs(MemoryFile* mf, const TmpfsOptions& opts) {
  return std::make_shared<TmpfsFs>(mf, opts);
}

std::shared_ptr<vfs::Inode> TmpfsRoot(vfs::Filesystem* fs) {
  auto* t = dynamic_cast<TmpfsFs*>(fs);
  if (t == nullptr) return nullptr;
  return t->root();
}

}  // namespace sentry::tmpfs
