// A FIFO of bytes in chunks: TCP's send buffer. Appends fill fresh chunks
// in place (the application's bytes are copied once, by the caller's
// fill function); segments copy ranges out at any offset (retransmissions
// read the same bytes again); acknowledged bytes are dropped from the front.
#ifndef NETSTACK_BYTE_QUEUE_H_
#define NETSTACK_BYTE_QUEUE_H_

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <vector>

namespace netstack {

// Copies up to n bytes into dst; returns bytes copied or -errno (EFAULT).
using FillFn = std::function<int64_t(uint8_t* dst, size_t n)>;
// Takes up to n bytes from src; returns bytes taken or -errno.
using DrainFn = std::function<int64_t(const uint8_t* src, size_t n)>;

class ByteQueue {
 public:
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Appends up to n bytes produced by fill. Returns what fill returned.
  int64_t Append(size_t n, const FillFn& fill) {
    if (n == 0) return 0;
    std::vector<uint8_t> c(n);
    int64_t got = fill(c.data(), n);
    if (got <= 0) return got;
    c.resize(size_t(got));
    size_ += c.size();
    chunks_.push_back(std::move(c));
    return got;
  }

  // Copies n bytes starting at `off` (precondition: off + n <= size()).
  void Read(size_t off, uint8_t* dst, size_t n) const {
    off += head_;
    for (const auto& c : chunks_) {
      if (n == 0) return;
      if (off >= c.size()) {
        off -= c.size();
        continue;
      }
      size_t k = std::min(n, c.size() - off);
      std::memcpy(dst, c.data() + off, k);
      dst += k;
      n -= k;
      off = 0;
    }
  }

  void Drop(size_t n) {
    n = std::min(n, size_);
    size_ -= n;
    while (n > 0) {
      size_t left = chunks_.front().size() - head_;
      if (n < left) {
        head_ += n;
        return;
      }
      n -= left;
      head_ = 0;
      chunks_.pop_front();
    }
  }

  void Clear() {
    chunks_.clear();
    head_ = 0;
    size_ = 0;
  }

 private:
  std::deque<std::vector<uint8_t>> chunks_;
  size_t head_ = 0;  // bytes of chunks_.front() already dropped
  size_t size_ = 0;
};

}  // namespace netstack

#endif  // NETSTACK_BYTE_QUEUE_H_
