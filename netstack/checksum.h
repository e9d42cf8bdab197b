// The internet checksum (RFC 1071) and the pseudo-headers of RFC 793 and
// RFC 8200 section 8.1 that TCP and UDP checksums cover.
#ifndef NETSTACK_CHECKSUM_H_
#define NETSTACK_CHECKSUM_H_

#include <cstddef>
#include <cstdint>

#include "netstack/address.h"

namespace netstack {

// Adds `len` bytes to a running 32-bit one's-complement sum. Chained calls
// must pass even lengths except for the last one.
uint32_t ChecksumAdd(uint32_t sum, const uint8_t* p, size_t len);
// Folds the sum and complements it: the value that goes in the header.
uint16_t ChecksumFinish(uint32_t sum);
// Sum of the pseudo-header for `proto` (IPPROTO_TCP/UDP) carrying `len`
// transport bytes between src and dst (IPv4 form for mapped addresses).
uint32_t PseudoHeaderSum(const Address& src, const Address& dst, uint8_t proto, uint32_t len);

}  // namespace netstack

#endif  // NETSTACK_CHECKSUM_H_
