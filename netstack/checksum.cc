#include "netstack/checksum.h"

namespace netstack {

uint32_t ChecksumAdd(uint32_t sum, const uint8_t* p, size_t len) {
  // 64-bit accumulation of 16-bit words; carries are folded at the end.
  uint64_t s = sum;
  size_t i = 0;
  for (; i + 1 < len; i += 2) s += uint32_t(p[i] << 8 | p[i + 1]);
  if (i < len) s += uint32_t(p[i] << 8);
  // Folding keeps the result a valid partial sum (one's-complement
  // addition is associative) small enough for further calls.
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return uint32_t(s);
}

uint16_t ChecksumFinish(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(~sum);
}

uint32_t PseudoHeaderSum(const Address& src, const Address& dst, uint8_t proto, uint32_t len) {
  uint32_t s = 0;
  if (src.is_v4()) {
    s = ChecksumAdd(s, src.bytes() + 12, 4);
    s = ChecksumAdd(s, dst.bytes() + 12, 4);
    s += proto;
    s += len & 0xffff;
  } else {
    s = ChecksumAdd(s, src.bytes(), 16);
    s = ChecksumAdd(s, dst.bytes(), 16);
    s += len >> 16;
    s += len & 0xffff;
    s += proto;
  }
  return s;
}

}  // namespace netstack
