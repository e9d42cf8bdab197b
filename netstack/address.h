// Addresses. Every address is held as 16 bytes: IPv6 as is, IPv4 as an
// IPv4-mapped IPv6 address (::ffff:a.b.c.d). One representation lets a
// dual-stack AF_INET6 socket and an AF_INET socket share the port and
// demultiplexing tables; the wire format is chosen per packet.
#ifndef NETSTACK_ADDRESS_H_
#define NETSTACK_ADDRESS_H_

#include <array>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/hash/hash.h"

namespace netstack {

class Address {
 public:
  Address() = default;  // :: (the IPv6 wildcard)
  static Address V4(uint32_t host_order) {
    Address a;
    a.b_[10] = a.b_[11] = 0xff;
    a.b_[12] = uint8_t(host_order >> 24);
    a.b_[13] = uint8_t(host_order >> 16);
    a.b_[14] = uint8_t(host_order >> 8);
    a.b_[15] = uint8_t(host_order);
    return a;
  }
  static Address V4Bytes(const uint8_t* p) {
    Address a;
    a.b_[10] = a.b_[11] = 0xff;
    std::memcpy(&a.b_[12], p, 4);
    return a;
  }
  static Address V6Bytes(const uint8_t* p) {
    Address a;
    std::memcpy(a.b_.data(), p, 16);
    return a;
  }
  static Address V4Any() { return V4(0); }
  static Address V6Any() { return Address(); }
  static Address V4Loopback() { return V4(0x7f000001); }
  static Address V6Loopback() {
    Address a;
    a.b_[15] = 1;
    return a;
  }

  const uint8_t* bytes() const { return b_.data(); }
  bool is_v4() const {
    static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return std::memcmp(b_.data(), kPrefix, 12) == 0;
  }
  uint32_t v4() const { return uint32_t(b_[12]) << 24 | b_[13] << 16 | b_[14] << 8 | b_[15]; }
  // The wildcard of this address's family (0.0.0.0 or ::).
  bool is_any() const { return is_v4() ? v4() == 0 : *this == Address(); }
  bool is_multicast() const { return is_v4() ? (v4() >> 28) == 0xe : b_[0] == 0xff; }
  bool is_broadcast() const { return is_v4() && v4() == 0xffffffff; }
  // True when the first `prefix` bits (counted in this family) equal s's.
  bool InSubnet(const Address& net, int prefix) const;
  std::string ToString() const;

  bool operator==(const Address& o) const { return b_ == o.b_; }
  bool operator!=(const Address& o) const { return b_ != o.b_; }
  template <typename H>
  friend H AbslHashValue(H h, const Address& a) {
    return H::combine(std::move(h), a.b_);
  }

 private:
  std::array<uint8_t, 16> b_{};
};

struct Subnet {
  Address addr;  // the interface's own address
  int prefix;    // bits, in the address's family
};

// A transport endpoint address.
struct FullAddress {
  Address addr;
  uint16_t port = 0;
  bool operator==(const FullAddress& o) const { return addr == o.addr && port == o.port; }
  template <typename H>
  friend H AbslHashValue(H h, const FullAddress& a) {
    return H::combine(std::move(h), a.addr, a.port);
  }
};

}  // namespace netstack

#endif  // NETSTACK_ADDRESS_H_
