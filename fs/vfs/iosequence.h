// IOSequence: where the bytes of a read or write come from or go to.
//
// File implementations never see application addresses. A read fills an
// IOSequence (CopyOut), a write drains one (CopyIn). For application
// buffers the sequence walks the iovecs through the MemoryManager; inside
// the Sentry (loader, splice) it wraps a plain buffer. Blocks() exposes the
// Sentry's own view of the memory so host I/O can go straight into
// application pages without a bounce buffer.
#ifndef FS_VFS_IOSEQUENCE_H_
#define FS_VFS_IOSEQUENCE_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "sentry/base/error.h"
#include "sentry/usermem/addr.h"

namespace sentry {

class MemoryManager;

struct IoVec {
  UserAddr base;
  uint64_t len = 0;
};

class IOSequence {
 public:
  virtual ~IOSequence() = default;
  // Bytes left in the sequence.
  virtual size_t remaining() const = 0;
  // Copies n bytes (at most remaining()) from src into the sequence and
  // advances. Returns bytes copied; EFAULT only if nothing could be copied.
  virtual ErrorOr<size_t> CopyOut(const void* src, size_t n) = 0;
  // Copies up to n bytes out of the sequence into dst and advances.
  virtual ErrorOr<size_t> CopyIn(void* dst, size_t n) = 0;
  // Calls fn on successive contiguous pieces covering up to n bytes;
  // `write` means fn stores into them. fn returns how many bytes of the
  // piece it used (less than the piece ends the walk) or an error. The
  // sequence advances by the total used. Returns the total, or fn's first
  // error / EFAULT if nothing was used.
  using BlockFn = std::function<ErrorOr<size_t>(uint8_t* p, size_t len)>;
  virtual ErrorOr<size_t> Blocks(size_t n, bool write, const BlockFn& fn) = 0;
};

// Application memory, as given by read/readv/pread/...
class UserIOSequence : public IOSequence {
 public:
  UserIOSequence(MemoryManager* mm, std::vector<IoVec> iovs);
  UserIOSequence(MemoryManager* mm, UserAddr addr, uint64_t len);
  size_t remaining() const override { return remaining_; }
  ErrorOr<size_t> CopyOut(const void* src, size_t n) override;
  ErrorOr<size_t> CopyIn(void* dst, size_t n) override;
  ErrorOr<size_t> Blocks(size_t n, bool write, const BlockFn& fn) override;

 private:
  MemoryManager* mm_;
  std::vector<IoVec> iovs_;
  size_t idx_ = 0;       // current iovec
  uint64_t off_ = 0;     // offset within it
  size_t remaining_ = 0;
};

// A buffer inside the Sentry.
class BufferIOSequence : public IOSequence {
 public:
  BufferIOSequence(void* buf, size_t len) : buf_(static_cast<uint8_t*>(buf)), len_(len) {}
  size_t remaining() const override { return len_ - pos_; }
  size_t consumed() const { return pos_; }
  ErrorOr<size_t> CopyOut(const void* src, size_t n) override;
  ErrorOr<size_t> CopyIn(void* dst, size_t n) override;
  ErrorOr<size_t> Blocks(size_t n, bool write, const BlockFn& fn) override;

 private:
  uint8_t* buf_;
  size_t len_;
  size_t pos_ = 0;
};

// The first `limit` bytes of another sequence (RLIMIT_FSIZE cuts a write
// short this way). Consuming it consumes the inner sequence.
class LimitedIOSequence : public IOSequence {
 public:
  LimitedIOSequence(IOSequence& inner, size_t limit)
      : inner_(inner), left_(std::min(limit, inner.remaining())) {}
  size_t remaining() const override { return std::min(left_, inner_.remaining()); }
  ErrorOr<size_t> CopyOut(const void* src, size_t n) override;
  ErrorOr<size_t> CopyIn(void* dst, size_t n) override;
  ErrorOr<size_t> Blocks(size_t n, bool write, const BlockFn& fn) override;

 private:
  ErrorOr<size_t> Took(ErrorOr<size_t> r);
  IOSequence& inner_;
  size_t left_;
};

}  // namespace sentry

#endif  // FS_VFS_IOSEQUENCE_H_
