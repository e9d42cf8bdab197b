// Packet bytes without needless copies.
//
// A View is a slice of a reference-counted, immutable block. A received
// packet is one block; parsing a header trims the view, and the payload
// that a socket queues is the same block, so bytes are copied once on the
// way in (from the link) and once on the way out (to the application).
// Outgoing packets are built back to front in a PacketBuilder: transport
// payload first, then each layer prepends its header into reserved room.
#ifndef NETSTACK_BUFFER_H_
#define NETSTACK_BUFFER_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

namespace netstack {

class View {
 public:
  View() = default;
  explicit View(std::vector<uint8_t> bytes)
      : block_(std::make_shared<const std::vector<uint8_t>>(std::move(bytes))),
        off_(0),
        len_(block_->size()) {}
  View(std::shared_ptr<const std::vector<uint8_t>> block, size_t off, size_t len)
      : block_(std::move(block)), off_(off), len_(len) {}

  const uint8_t* data() const { return block_ ? block_->data() + off_ : nullptr; }
  size_t size() const { return len_; }
  bool empty() const { return len_ == 0; }

  // Precondition: off + len <= size().
  View Slice(size_t off, size_t len) const { return View(block_, off_ + off, len); }
  void TrimFront(size_t n) {
    n = n > len_ ? len_ : n;
    off_ += n;
    len_ -= n;
  }
  void Truncate(size_t n) {
    if (n < len_) len_ = n;
  }
  std::vector<uint8_t> ToVector() const { return std::vector<uint8_t>(data(), data() + len_); }

 private:
  std::shared_ptr<const std::vector<uint8_t>> block_;
  size_t off_ = 0;
  size_t len_ = 0;
};

// Builds a packet with `headroom` bytes free in front of the payload for
// the headers that lower layers prepend.
class PacketBuilder {
 public:
  static constexpr size_t kMaxHeaders = 128;  // IPv6 (40) + TCP with options (60), rounded up

  explicit PacketBuilder(size_t payload_len, size_t headroom = kMaxHeaders)
      : buf_(headroom + payload_len), head_(headroom) {}
  uint8_t* payload() { return buf_.data() + head_; }
  size_t size() const { return buf_.size() - head_; }
  // Room for n more header bytes in front; returns where they start.
  // Precondition: n <= headroom left (the builders here never exceed it).
  uint8_t* Prepend(size_t n) {
    head_ -= n;
    return buf_.data() + head_;
  }
  uint8_t* front() { return buf_.data() + head_; }
  View Finish() && {
    size_t head = head_;
    size_t len = buf_.size() - head_;
    return View(std::make_shared<const std::vector<uint8_t>>(std::move(buf_)), head, len);
  }

 private:
  std::vector<uint8_t> buf_;
  size_t head_;
};

// Network byte order helpers on unaligned bytes.
inline uint16_t Load16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
inline uint32_t Load32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
inline void Store16(uint8_t* p, uint16_t v) {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}
inline void Store32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 24);
  p[1] = uint8_t(v >> 16);
  p[2] = uint8_t(v >> 8);
  p[3] = uint8_t(v);
}

}  // namespace netstack

#endif  // NETSTACK_BUFFER_H_
