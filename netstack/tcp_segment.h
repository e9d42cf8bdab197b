// TCP segments on the wire (RFC 9293 section 3.1): header parsing with
// validation, the options this stack speaks (MSS, window scale), and
// sequence-number arithmetic modulo 2^32.
#ifndef NETSTACK_TCP_SEGMENT_H_
#define NETSTACK_TCP_SEGMENT_H_

#include <cstdint>

#include "netstack/buffer.h"
#include "netstack/ip.h"

namespace netstack {

inline constexpr size_t kTcpHeaderLen = 20;
inline constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10,
                         kUrg = 0x20;

using Seq = uint32_t;
inline bool SeqLT(Seq a, Seq b) { return int32_t(a - b) < 0; }
inline bool SeqLEQ(Seq a, Seq b) { return int32_t(a - b) <= 0; }
inline bool SeqGT(Seq a, Seq b) { return int32_t(a - b) > 0; }
inline bool SeqGEQ(Seq a, Seq b) { return int32_t(a - b) >= 0; }
// a in [lo, hi)
inline bool SeqInRange(Seq a, Seq lo, Seq hi) { return SeqGEQ(a, lo) && SeqLT(a, hi); }

struct TcpSegment {
  uint16_t sport = 0, dport = 0;
  Seq seq = 0, ack = 0;
  uint8_t flags = 0;
  uint16_t window = 0;  // as on the wire (unscaled)
  int mss = -1;         // option, -1: absent
  int wscale = -1;      // option, -1: absent
  View payload;
  // Sequence space taken: payload plus SYN and FIN.
  uint32_t SeqLen() const {
    return uint32_t(payload.size()) + ((flags & kSyn) ? 1 : 0) + ((flags & kFin) ? 1 : 0);
  }
};

// Validates the header and checksum of `pkt` (transport bytes). False:
// malformed (*bad_checksum tells which).
bool ParseTcp(const IpInfo& ip, View pkt, TcpSegment* seg, bool* bad_checksum);

// Prepends a TCP header to the builder's payload, with the MSS and window
// scale options when given (>= 0), and fills the checksum.
void PrependTcpHeader(PacketBuilder* b, const IpInfo& ip, const TcpSegment& seg);

}  // namespace netstack

#endif  // NETSTACK_TCP_SEGMENT_H_
