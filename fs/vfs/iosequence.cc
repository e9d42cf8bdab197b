// IOSequence implementations: application iovecs (through the
// MemoryManager's view of the MemoryFile) and Sentry-internal buffers.
#include "fs/vfs/iosequence.h"

#include <algorithm>
#include <cstring>

#include "sentry/mm/mm.h"

namespace sentry {

UserIOSequence::UserIOSequence(MemoryManager* mm, std::vector<IoVec> iovs)
    : mm_(mm), iovs_(std::move(iovs)) {
  for (const IoVec& v : iovs_) remaining_ += v.len;
  // Skip leading empty iovecs so idx_ always points at bytes (or the end).
  while (idx_ < iovs_.size() && iovs_[idx_].len == 0) idx_++;
}

UserIOSequence::UserIOSequence(MemoryManager* mm, UserAddr addr, uint64_t len)
    : UserIOSequence(mm, std::vector<IoVec>{IoVec{addr, len}}) {}

ErrorOr<size_t> UserIOSequence::Blocks(size_t n, bool write, const BlockFn& fn) {
  n = std::min(n, remaining_);
  size_t total = 0;
  int err = 0;
  bool stop = false;
  while (total < n && idx_ < iovs_.size() && !stop) {
    const IoVec& v = iovs_[idx_];
    size_t want = std::min<uint64_t>(v.len - off_, n - total);
    size_t used_here = 0;
    size_t covered = mm_->WithBlocks(v.base + off_, want, write, [&](uint8_t* p, size_t len) {
      ErrorOr<size_t> r = fn(p, len);
      if (!r.ok()) {
        err = r.error();
        stop = true;
        return false;
      }
      used_here += *r;
      if (*r < len) {
        stop = true;
        return false;
      }
      return true;
    });
    total += used_here;
    off_ += used_here;
    remaining_ -= used_here;
    if (off_ == v.len) {
      off_ = 0;
      idx_++;
      while (idx_ < iovs_.size() && iovs_[idx_].len == 0) idx_++;
    }
    // A fault: the MemoryManager covered less than asked and fn wanted more.
    if (!stop && covered < want) {
      if (total == 0) err = EFAULT;
      break;
    }
  }
  if (total == 0 && err != 0) return Err(err);
  return total;
}

ErrorOr<size_t> UserIOSequence::CopyOut(const void* src, size_t n) {
  const uint8_t* s = static_cast<const uint8_t*>(src);
  return Blocks(n, true, [&](uint8_t* p, size_t len) -> ErrorOr<size_t> {
    memcpy(p, s, len);
    s += len;
    return len;
  });
}

ErrorOr<size_t> UserIOSequence::CopyIn(void* dst, size_t n) {
  uint8_t* d = static_cast<uint8_t*>(dst);
  return Blocks(n, false, [&](uint8_t* p, size_t len) -> ErrorOr<size_t> {
    memcpy(d, p, len);
    d += len;
    return len;
  });
}

ErrorOr<size_t> BufferIOSequence::Blocks(size_t n, bool write, const BlockFn& fn) {
  n = std::min(n, remaining());
  if (n == 0) return size_t{0};
  ErrorOr<size_t> r = fn(buf_ + pos_, n);
  if (!r.ok()) return r;
  pos_ += std::min(*r, n);
  return std::min(*r, n);
}

ErrorOr<size_t> BufferIOSequence::CopyOut(const void* src, size_t n) {
  n = std::min(n, remaining());
  if (n) memcpy(buf_ + pos_, src, n);
  pos_ += n;
  return n;
}

ErrorOr<size_t> BufferIOSequence::CopyIn(void* dst, size_t n) {
  n = std::min(n, remaining());
  if (n) memcpy(dst, buf_ + pos_, n);
  pos_ += n;
  return n;
}

ErrorOr<size_t> LimitedIOSequence::Took(ErrorOr<size_t> r) {
  if (r.ok()) left_ -= std::min(*r, left_);
  return r;
}
ErrorOr<size_t> LimitedIOSequence::CopyOut(const void* src, size_t n) {
  return Took(inner_.CopyOut(src, std::min(n, remaining())));
}
ErrorOr<size_t> LimitedIOSequence::CopyIn(void* dst, size_t n) {
  return Took(inner_.CopyIn(dst, std::min(n, remaining())));
}
ErrorOr<size_t> LimitedIOSequence::Blocks(size_t n, bool write, const BlockFn& fn) {
  return Took(inner_.Blocks(std::min(n, remaining()), write, fn));
}

}  // namespace sentry
