// tmpfs regular files: data in MemoryFile pages, a page-granular map from
// file page to MemoryFile offset. Writes allocate missing pages a run at a
// time so mappings get long contiguous ranges.
#include <linux/falloc.h>

#include <cstring>

#include "absl/container/inlined_vector.h"
#include "fs/tmpfs/tmpfs_internal.h"

namespace sentry::tmpfs {
namespace {

// Writes allocate and copy in chunks so a huge buffer that faults early
// does not allocate pages it never fills.
constexpr uint64_t kWriteChunk = 4ull << 20;

uint64_t PagesUp(uint64_t bytes) { return bytes / kPageSize + (bytes % kPageSize != 0); }

// A contiguous piece of file data for one copy: MemoryFile offset (0 for a
// hole) and length.
struct Piece {
  uint64_t mf_off;
  uint64_t len;
};

}  // namespace

TmpfsFile::TmpfsFile(TmpfsFs* fs, uint32_t mode, uint32_t uid, uint32_t gid)
    : TmpfsInode(fs, S_IFREG | (mode & 07777), uid, gid, 0),
      mf_(fs->mf()),
      usage_(fs->usage()),
      fs_dev_(fs->dev()) {}

TmpfsFile::~TmpfsFile() {
  absl::MutexLock l(&mu_);
  FreeLocked(0, ~0ull);
}

ErrorOr<std::shared_ptr<vfs::FileDescription>> TmpfsFile::Open(const vfs::OpenOptions& opts) {
  auto self = std::static_pointer_cast<TmpfsFile>(shared_from_this());
  return std::shared_ptr<vfs::FileDescription>(std::make_shared<TmpfsFileFD>(std::move(self)));
}

uint64_t TmpfsFile::PageForTest(uint64_t idx) {
  absl::ReaderMutexLock l(&mu_);
  auto it = pages_.find(idx);
  return it == pages_.end() ? 0 : it->second;
}

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

SysRet TmpfsFile::Read(IOSequence& dst, int64_t off) {
  if (off < 0) return SysRet::Err(EINVAL);
  if (dst.remaining() == 0) return 0;
  // Shared rw_mu_ keeps pages from being freed while we copy without mu_
  // (the copy may fault on a mapping of this very file).
  absl::ReaderMutexLock rw(&rw_mu_);
  absl::InlinedVector<Piece, 8> pieces;
  {
    absl::ReaderMutexLock l(&mu_);
    uint64_t size = attr_.size;
    uint64_t start = static_cast<uint64_t>(off);
    if (start >= size) return 0;
    uint64_t end = size - start < dst.remaining() ? size : start + dst.remaining();
    auto it = pages_.lower_bound(start / kPageSize);
    for (uint64_t pos = start; pos < end;) {
      uint64_t idx = pos / kPageSize;
      uint64_t len = std::min(end, (idx + 1) * kPageSize) - pos;
      while (it != pages_.end() && it->first < idx) ++it;
      uint64_t mf_off = (it != pages_.end() && it->first == idx) ? it->second + pos % kPageSize : 0;
      Piece& last = pieces.empty() ? pieces.emplace_back(Piece{mf_off, 0}) : pieces.back();
      bool joins = (mf_off == 0) ? last.mf_off == 0 : last.mf_off != 0 && last.mf_off + last.len == mf_off;
      if (joins) {
        last.len += len;
      } else {
        pieces.push_back(Piece{mf_off, len});
      }
      pos += len;
    }
  }
  uint64_t total = 0;
  for (const Piece& pc : pieces) {
    const uint8_t* src = pc.mf_off ? mf_->Internal(pc.mf_off) : nullptr;
    ErrorOr<size_t> r = dst.Blocks(pc.len, true, [&](uint8_t* p, size_t len) -> ErrorOr<size_t> {
      if (src) {
        memcpy(p, src, len);
        src += len;
      } else {
        memset(p, 0, len);
      }
      return len;
    });
    if (!r.ok()) {
      if (total == 0) return SysRet::Err(r.error());
      break;
    }
    total += *r;
    if (*r < pc.len) break;
  }
  Accessed();
  return static_cast<int64_t>(total);
}

SysRet TmpfsFile::Write(IOSequence& src, int64_t off) {
  absl::MutexLock rw(&rw_mu_);
  if (off == -1) {
    absl::ReaderMutexLock l(&mu_);
    off = static_cast<int64_t>(attr_.size);
  }
  if (off < 0) return SysRet::Err(EINVAL);
  uint64_t n = src.remaining();
  if (n == 0) return 0;
  uint64_t start = static_cast<uint64_t>(off);
  if (start >= kMaxFileSize) return SysRet::Err(EFBIG);
  n = std::min(n, kMaxFileSize - start);
  std::vector<std::pair<uint64_t, uint64_t>> fresh;
  uint64_t total = 0;
  int err = 0;
  while (total < n) {
    uint64_t pos = start + total;
    uint64_t chunk = std::min(n - total, kWriteChunk);
    absl::InlinedVector<Piece, 8> pieces;
    {
      absl::MutexLock l(&mu_);
      err = AllocateLocked(pos / kPageSize, PagesUp(pos + chunk), &fresh);
      if (err) {
        // Out of space: write what the pages we have can hold.
        uint64_t idx = pos / kPageSize;
        for (auto it = pages_.find(idx); it != pages_.end() && it->first == idx; ++it) idx++;
        uint64_t room = idx * kPageSize > pos ? idx * kPageSize - pos : 0;
        if (room == 0) break;
        chunk = std::min(chunk, room);
      }
      auto it = pages_.find(pos / kPageSize);
      for (uint64_t p = pos; p < pos + chunk; ++it) {
        uint64_t len = std::min(pos + chunk, (it->first + 1) * kPageSize) - p;
        uint64_t mf_off = it->second + p % kPageSize;
        if (!pieces.empty() && pieces.back().mf_off + pieces.back().len == mf_off) {
          pieces.back().len += len;
        } else {
          pieces.push_back(Piece{mf_off, len});
        }
        p += len;
      }
    }
    // rw_mu_ (held) keeps these pages in the file while we copy.
    uint64_t copied = 0;
    for (const Piece& pc : pieces) {
      uint8_t* d = mf_->Internal(pc.mf_off);
      ErrorOr<size_t> r = src.Blocks(pc.len, false, [&](uint8_t* p, size_t len) -> ErrorOr<size_t> {
        memcpy(d, p, len);
        d += len;
        return len;
      });
      if (!r.ok()) {
        err = r.error();
        break;
      }
      copied += *r;
      if (*r < pc.len) {
        err = EFAULT;
        break;
      }
    }
    total += copied;
    if (copied > 0) {
      struct timespec now = vfs::Now();
      absl::MutexLock l(&mu_);
      if (start + total > attr_.size) attr_.size = start + total;
      attr_.mtime = attr_.ctime = now;
    }
    if (err) break;
  }
  // Pages this write allocated past the final end of file hold nothing.
  {
    absl::MutexLock l(&mu_);
    uint64_t keep = PagesUp(attr_.size);
    for (auto [a, b] : fresh) {
      if (b > keep) FreeLocked(std::max(a, keep), b);
    }
  }
  if (total == 0 && err) return SysRet::Err(err);
  return static_cast<int64_t>(total);
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
  absl::MutexLock rw(&rw_mu_);
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

SysRet TmpfsFileFD::PRead(Task* t, IOSequence& dst, int64_t off) { return file_->Read(dst, off); }

SysRet TmpfsFileFD::PWrite(Task* t, IOSequence& src, int64_t off) {
  return file_->Write(src, off);
}

Errno TmpfsFileFD::Allocate(int mode, uint64_t off, uint64_t len) {
  if (static_cast<int64_t>(off) < 0 || static_cast<int64_t>(len) <= 0) return EINVAL;
  if (!writable()) return EBADF;
  return file_->Fallocate(mode, off, len);
}

}  // namespace sentry::tmpfs
