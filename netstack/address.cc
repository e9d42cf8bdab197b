#include "netstack/address.h"

#include <arpa/inet.h>

namespace netstack {

bool Address::InSubnet(const Address& net, int prefix) const {
  if (is_v4() != net.is_v4()) return false;
  int first = is_v4() ? 96 : 0;  // bit where this family's address starts
  int bits = first + prefix;
  for (int i = 0; i < 16 && bits > 0; i++, bits -= 8) {
    uint8_t mask = bits >= 8 ? 0xff : uint8_t(0xff << (8 - bits));
    if ((b_[i] & mask) != (net.b_[i] & mask)) return false;
  }
  return true;
}

std::string Address::ToString() const {
  char buf[INET6_ADDRSTRLEN];
  if (is_v4()) {
    inet_ntop(AF_INET, &b_[12], buf, sizeof(buf));
  } else {
    inet_ntop(AF_INET6, b_.data(), buf, sizeof(buf));
  }
  return buf;
}

}  // namespace netstack
