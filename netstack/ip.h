// IPv4 (RFC 791) and IPv6 (RFC 8200) headers: validation of what arrives
// and construction of what leaves. Neither fragments nor reassembles: the
// loopback MTU is large and TCP sizes its segments to the MTU; fragments
// and IPv6 extension headers are dropped and counted.
#ifndef NETSTACK_IP_H_
#define NETSTACK_IP_H_

#include <cstdint>

#include "netstack/address.h"
#include "netstack/buffer.h"

namespace netstack {

inline constexpr size_t kIpv4HeaderLen = 20;
inline constexpr size_t kIpv6HeaderLen = 40;
inline constexpr uint8_t kDefaultTtl = 64;

struct IpInfo {
  Address src;
  Address dst;
  uint8_t proto = 0;
  uint8_t ttl = 0;
  uint8_t tos = 0;  // IPv4 TOS or IPv6 traffic class
};

enum class IpParse {
  kOk,
  kMalformed,    // truncated, bad version or lengths
  kBadChecksum,  // IPv4 header checksum
  kUnsupported,  // fragments, IPv6 extension headers, options we refuse
};

// Validates the IP header of `pkt` and trims `pkt` to the transport bytes.
IpParse ParseIp(View* pkt, IpInfo* info);

// Prepends the header of an IP packet from src to dst (both of one family)
// carrying the builder's current bytes.
void PrependIpHeader(PacketBuilder* b, const IpInfo& info, uint16_t id);

// The bytes an IP header of `a`'s family takes.
inline size_t IpHeaderLen(const Address& a) { return a.is_v4() ? kIpv4HeaderLen : kIpv6HeaderLen; }

}  // namespace netstack

#endif  // NETSTACK_IP_H_
