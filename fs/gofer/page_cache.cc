#include "fs/gofer/page_cache.h"

#include <errno.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "fs/gofer/host_io.h"
#include "sentry/usermem/addr.h"

namespace sentry::goferfs {
namespace {
uint64_t RoundUpTo(uint64_t v, uint64_t align) { return (v + align - 1) / align * align; }

}  // namespace

PageCache::~PageCache() {
  absl::MutexLock l(&mu_);
  ReleaseLocked();
}

void PageCache::ReleaseLocked() {
  if (reserved_ > 0) mf_->DecRef({base_, base_ + reserved_});
  base_ = 0;
  reserved_ = 0;
  state_.clear();
  dirty_ = 0;
}

void PageCache::Invalidate() {
  absl::MutexLock l(&mu_);
  ReleaseLocked();
}

Errno PageCache::ReserveLocked(uint64_t size) {
  uint64_t need = std::max(RoundUpTo(size, kChunk), kChunk);
  if (need <= reserved_) return 0;
  // Double on growth so a file written and mapped in turns does not move
  // to a new extent on every fault.
  uint64_t want = std::max(need, reserved_ * 2);
  auto base = mf_->Allocate(want);
  if (!base.ok() && want > need) {
    want = need;
    base = mf_->Allocate(want);
  }
  if (!base.ok()) return base.error();
  if (reserved_ > 0) {
    for (size_t i = 0; i < state_.size(); i++) {
      if (state_[i] != kAbsent) {
        memcpy(mf_->Internal(*base + i * kChunk), mf_->Internal(base_ + i * kChunk), kChunk);
      }
    }
    mf_->DecRef({base_, base_ + reserved_});
  }
  base_ = *base;
  reserved_ = want;
  state_.resize(want / kChunk, kAbsent);
  return 0;
}

Errno PageCache::FillLocked(int fd, uint64_t size, uint64_t chunk) {
  uint64_t off = chunk * kChunk;
  size_t len = static_cast<size_t>(std::min(kChunk, size - off));
  // Bytes past EOF stay zero: the extent came zeroed from the MemoryFile.
  auto n = HostIo(false, fd, mf_->Internal(base_ + off), len, off);
  if (!n.ok()) return EIO;
  state_[chunk] = kFilled;
  return 0;
}

ErrorOr<FileRange> PageCache::Translate(int fd, uint64_t size, uint64_t off, uint64_t max_len,
                                        bool write) {
  if (!IsPageAligned(off)) return Err(EINVAL);
  if (off >= size) return Err(EFAULT);
  max_len = std::clamp<uint64_t>(max_len, kPageSize, kMaxTranslate);
  uint64_t end = std::min(off + RoundUpTo(max_len, kPageSize), RoundUpTo(size, kPageSize));
  absl::MutexLock l(&mu_);
  TRY(ReserveLocked(size));
  for (uint64_t c = off / kChunk; c * kChunk < end; c++) {
    if (state_[c] == kAbsent) {
      if (Errno e = FillLocked(fd, size, c)) {
        if (c == off / kChunk) return Err(e);
        end = c * kChunk;  // return what we have
        break;
      }
    }
    if (write && state_[c] != kDirty) {
      state_[c] = kDirty;
      dirty_++;
    }
  }
  FileRange r{base_ + off, base_ + end};
  mf_->IncRef(r);
  return r;
}

void PageCache::Update(uint64_t off, const uint8_t* src, size_t len) {
  absl::MutexLock l(&mu_);
  while (len > 0 && off < reserved_) {
    uint64_t c = off / kChunk;
    size_t n = static_cast<size_t>(std::min<uint64_t>(len, kChunk - off % kChunk));
    if (state_[c] != kAbsent) memcpy(mf_->Internal(base_ + off), src, n);
    off += n;
    src += n;
    len -= n;
  }
}

bool PageCache::HasDirty() {
  absl::MutexLock l(&mu_);
  return dirty_ > 0;
}

ErrorOr<size_t> PageCache::Read(int fd, IOSequence& dst, uint64_t off, uint64_t n) {
  size_t total = 0;
  while (total < n) {
    uint64_t pos = off + total;
    size_t piece = static_cast<size_t>(std::min<uint64_t>(n - total, kChunk - pos % kChunk));
    // Never copy into `dst` with mu_ held: dst may be a mapping of this
    // very file, and faulting it in takes mu_ (Translate). A reference
    // keeps the dirty pages alive meanwhile.
    FileRange pin{};
    {
      absl::MutexLock l(&mu_);
      if (pos < reserved_ && state_[pos / kChunk] == kDirty) {
        pin = {base_ + PageRoundDown(pos), base_ + RoundUpTo(pos + piece, kPageSize)};
        mf_->IncRef(pin);
      }
    }
    ErrorOr<size_t> got = size_t{0};
    if (pin.length() > 0) {
      got = dst.CopyOut(mf_->Internal(pin.start + pos % kPageSize), piece);
      mf_->DecRef(pin);
    } else {
      uint64_t at = pos;
      got = dst.Blocks(piece, true, [&](uint8_t* p, size_t len) -> ErrorOr<size_t> {
        size_t done = TRY_ASSIGN(HostIo(false, fd, p, len, at));
        at += done;
        return done;
      });
    }
    if (!got.ok()) {
      if (total > 0) break;
      return Err(got.error());
    }
    total += *got;
    if (*got < piece) break;
  }
  return total;
}

Errno PageCache::Writeback(int fd, uint64_t size) {
  absl::MutexLock l(&mu_);
  for (size_t c = 0; c < state_.size() && c * kChunk < size; c++) {
    if (state_[c] != kDirty) continue;
    uint64_t off = c * kChunk;
    size_t len = static_cast<size_t>(std::min(kChunk, size - off));
    auto n = HostIo(true, fd, mf_->Internal(base_ + off), len, off);
    if (!n.ok()) return n.error();
    if (*n < len) return EIO;
  }
  return 0;
}

}  // namespace sentry::goferfs
