// tmpfs regular files: the page map itself. Allocation, freeing,
// truncate, fallocate and Translate (the Mappable side).
#include <linux/falloc.h>

#include <cstring>

#include "fs/tmpfs/tmpfs_internal.h"

namespace sentry::tmpfs {
namespace {
uint64_t PagesUp(uint64_t bytes) { return bytes / kPageSize + (bytes % kPageSize != 0); }
}  // namespace

Errno TmpfsFile::AllocateLocked(uint64_t first, uint64_t end,
                                std::vector<std::pair<uint64_t, uint64_t>>* fresh) {
  uint64_t p = first;
  auto it = pages_.lower_bound(first);
  while (p < end) {
    if (it != pages_.end() && it->first == p) {
      ++p;
      ++it;
      continue;
    }
    uint64_t run_end = (it == pages_.end()) ? end : std::min(end, it->first);
    uint64_t want = run_end - p;
    uint64_t n = usage_->ReserveUpTo(want);
    if (n == 0) return ENOSPC;
    ErrorOr<uint64_t> off = mf_->Allocate(n * kPageSize);
    if (!off.ok()) {
      usage_->Release(n);
      return ENOSPC;
    }
    for (uint64_t i = 0; i < n; i++) {
      it = std::next(pages_.emplace_hint(it, p + i, *off + i * kPageSize));
    }
    if (fresh) fresh->emplace_back(p, p + n);
    if (n < want) return ENOSPC;
    p = run_end;
  }
  return 0;
}

void TmpfsFile::FreeLocked(uint64_t first, uint64_t end) {
  auto it = pages_.lower_bound(first);
  // Give back runs contiguous in the MemoryFile with one DecRef each.
  FileRange run{};
  uint64_t count = 0;
  while (it != pages_.end() && it->first < end) {
    if (run.end == it->second && run.end != 0) {
      run.end += kPageSize;
    } else {
      if (run.end) mf_->DecRef(run);
      run = FileRange{it->second, it->second + kPageSize};
    }
    count++;
    it = pages_.erase(it);
  }
  if (run.end) mf_->DecRef(run);
  usage_->Release(count);
}

void TmpfsFile::ZeroLocked(uint64_t from, uint64_t to) {
  while (from < to) {
    uint64_t page_end = PageRoundDown(from) + kPageSize;
    uint64_t end = std::min(to, page_end);
    auto it = pages_.find(from / kPageSize);
    if (it != pages_.end()) memset(mf_->Internal(it->second + from % kPageSize), 0, end - from);
    from = end;
  }
}

Errno TmpfsFile::Truncate(uint64_t size, bool update_mtime) {
  if (size > kMaxFileSize) return EFBIG;
  absl::MutexLock rw(&rw_mu_);
  struct timespec now = vfs::Now();
  absl::MutexLock l(&mu_);
  uint64_t old = attr_.size;
  if (size < old) {
    // Zero the tail of the new last page: growing again must read zeros.
    ZeroLocked(size, std::min(old, PageRoundDown(size) + kPageSize));
    FreeLocked(PagesUp(size), ~0ull);
  }
  attr_.size = size;
  if (size != old || update_mtime) attr_.mtime = attr_.ctime = now;
  return 0;
}

Errno TmpfsFile::SetAttrs(const vfs::SetAttr& a) {
  const uint32_t seals = seals_.load();
  if (a.mask & vfs::SetAttr::kSize) {
    uint64_t size;
    {
      absl::ReaderMutexLock l(&mu_);
      size = attr_.size;
    }
    if ((seals & F_SEAL_SHRINK) && a.size < size) return EPERM;
    if ((seals & F_SEAL_GROW) && a.size > size) return EPERM;
  }
  // F_SEAL_EXEC: the exec bits stay as they are.
  if ((seals & 0x20) && (a.mask & vfs::SetAttr::kMode)) {
    absl::ReaderMutexLock l(&mu_);
    if ((a.mode ^ attr_.mode) & 0111) return EPERM;
  }
  if (a.mask & vfs::SetAttr::kSize) {
    TRY(Truncate(a.size, a.mask & vfs::SetAttr::kMtime));
  }
  vfs::SetAttr rest = a;
  rest.mask &= ~vfs::SetAttr::kSize;
  if (rest.mask == 0) return 0;
  return TmpfsInode::SetAttrs(rest);
}

Errno TmpfsFile::Fallocate(int mode, uint64_t off, uint64_t len) {
  if (len == 0 || static_cast<int64_t>(off) < 0 || static_cast<int64_t>(len) < 0) return EINVAL;
  if (off + len < off || off + len > kMaxFileSize) return EFBIG;
  const bool keep = mode & FALLOC_FL_KEEP_SIZE;
  const bool punch = mode & FALLOC_FL_PUNCH_HOLE;
  if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) return EOPNOTSUPP;
  if (punch && !keep) return EOPNOTSUPP;
  const uint32_t seals = seals_.load();
  if (punch && (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))) return EPERM;
  absl::MutexLock rw(&rw_mu_);
  if (!punch && !keep && (seals & F_SEAL_GROW)) {
    absl::ReaderMutexLock l(&mu_);
    if (off + len > attr_.size) return EPERM;
  }
  struct timespec now = vfs::Now();
  absl::MutexLock l(&mu_);
  if (punch) {
    uint64_t end = off + len;
    if (off < end) {
      uint64_t first_full = PagesUp(off), end_full = end / kPageSize;
      if (first_full < end_full) {
        ZeroLocked(off, first_full * kPageSize);
        ZeroLocked(end_full * kPageSize, end);
        FreeLocked(first_full, end_full);
      } else {
        ZeroLocked(off, end);
      }
    }
    attr_.mtime = attr_.ctime = now;
    return 0;
  }
  std::vector<std::pair<uint64_t, uint64_t>> fresh;
  Errno e = AllocateLocked(off / kPageSize, PagesUp(off + len), &fresh);
  if (e) {
    for (auto [a, b] : fresh) FreeLocked(a, b);
    return e;
  }
  if (!keep && off + len > attr_.size) {
    attr_.size = off + len;
    attr_.mtime = now;
  }
  attr_.ctime = now;
  return 0;
}

ErrorOr<FileRange> TmpfsFile::Translate(uint64_t off, uint64_t max_len, bool write) {
  absl::MutexLock l(&mu_);
  if (off >= attr_.size) return Err(EFAULT);
  uint64_t first = off / kPageSize;
  uint64_t end = std::min(PagesUp(attr_.size), first + std::max<uint64_t>(1, max_len / kPageSize));
  auto it = pages_.find(first);
  if (it == pages_.end()) {
    // Fill the hole up to the next existing page as one run.
    auto next = pages_.lower_bound(first);
    if (next != pages_.end()) end = std::min(end, next->first);
    TRY(AllocateLocked(first, end, nullptr));
    it = pages_.find(first);
  }
  FileRange r{it->second, it->second + kPageSize};
  for (auto n = std::next(it); n != pages_.end() && n->first < end && n->second == r.end; ++n) {
    r.end += kPageSize;
  }
  mf_->IncRef(r);
  return r;
}

}  // namespace sentry::tmpfs
