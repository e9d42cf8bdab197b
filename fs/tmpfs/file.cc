// tmpfs regular files: data in MemoryFile pages, a page-granular map from
// file page to MemoryFile offset. Writes allocate missing pages a run at a
// time so mappings get long contiguous ranges.
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

SysRet TmpfsFile::Read(IOSequence& dst, int64_t off, bool touch) {
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
  if (touch) Accessed();
  return static_cast<int64_t>(total);
}

SysRet TmpfsFile::Write(IOSequence& src, int64_t off) {
  absl::MutexLock rw(&rw_mu_);
  const uint32_t seals = seals_.load();
  if (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) return SysRet::Err(EPERM);
  uint64_t size;
  {
    absl::ReaderMutexLock l(&mu_);
    size = attr_.size;
  }
  if (off == -1) off = static_cast<int64_t>(size);
  if (off < 0) return SysRet::Err(EINVAL);
  uint64_t n = src.remaining();
  if (n == 0) return 0;
  // F_SEAL_GROW refuses a write that would extend the file, all of it.
  if ((seals & F_SEAL_GROW) && static_cast<uint64_t>(off) + n > size) return SysRet::Err(EPERM);
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

SysRet TmpfsFileFD::PRead(Task* t, IOSequence& dst, int64_t off) {
  return file_->Read(dst, off, !(flags() & O_NOATIME));
}

SysRet TmpfsFileFD::PWrite(Task* t, IOSequence& src, int64_t off) {
  return file_->Write(src, off);
}

Errno TmpfsFileFD::AddSeals(uint32_t seals) {
  // memfd_add_seals: only through a writable descriptor.
  if (!writable()) return EPERM;
  return file_->AddSeals(seals);
}

Errno TmpfsFile::AddSeals(uint32_t s) {
  constexpr uint32_t kKnown =
      F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE | 0x20;
  if (s & ~kKnown) return EINVAL;
  absl::MutexLock rw(&rw_mu_);
  uint32_t cur = seals_.load();
  if (cur & F_SEAL_SEAL) return EPERM;
  seals_ = cur | s;
  return 0;
}

Errno TmpfsFileFD::Allocate(int mode, uint64_t off, uint64_t len) {
  if (static_cast<int64_t>(off) < 0 || static_cast<int64_t>(len) <= 0) return EINVAL;
  if (!writable()) return EBADF;
  return file_->Fallocate(mode, off, len);
}

void SetSeals(vfs::FileDescription* f, uint32_t seals) {
  auto* t = dynamic_cast<TmpfsFileFD*>(f);
  if (t != nullptr) t->file()->set_seals(seals);
}

}  // namespace sentry::tmpfs
