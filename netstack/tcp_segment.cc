#include "netstack/tcp_segment.h"

#include <netinet/in.h>

#include "netstack/checksum.h"

namespace netstack {

bool ParseTcp(const IpInfo& ip, View pkt, TcpSegment* seg, bool* bad_checksum) {
  *bad_checksum = false;
  if (pkt.size() < kTcpHeaderLen) return false;
  const uint8_t* h = pkt.data();
  size_t off = size_t(h[12] >> 4) * 4;
  if (off < kTcpHeaderLen || off > pkt.size()) return false;
  uint32_t sum = PseudoHeaderSum(ip.src, ip.dst, IPPROTO_TCP, uint32_t(pkt.size()));
  if (ChecksumFinish(ChecksumAdd(sum, h, pkt.size())) != 0) {
    *bad_checksum = true;
    return false;
  }
  seg->sport = Load16(h);
  seg->dport = Load16(h + 2);
  seg->seq = Load32(h + 4);
  seg->ack = Load32(h + 8);
  seg->flags = h[13] & 0x3f;
  seg->window = Load16(h + 14);
  // Options: a malformed list ends parsing; the segment itself stays good,
  // as on Linux.
  for (size_t i = kTcpHeaderLen; i < off;) {
    uint8_t kind = h[i];
    if (kind == 0) break;  // end of list
    if (kind == 1) {       // no-op
      i++;
      continue;
    }
    if (i + 1 >= off) break;
    size_t len = h[i + 1];
    if (len < 2 || i + len > off) break;
    if (kind == 2 && len == 4 && (seg->flags & kSyn)) seg->mss = Load16(h + i + 2);
    if (kind == 3 && len == 3 && (seg->flags & kSyn)) seg->wscale = std::min<int>(h[i + 2], 14);
    i += len;
  }
  pkt.TrimFront(off);
  seg->payload = std::move(pkt);
  return true;
}

void PrependTcpHeader(PacketBuilder* b, const IpInfo& ip, const TcpSegment& seg) {
  size_t opts = (seg.mss >= 0 ? 4 : 0) + (seg.wscale >= 0 ? 4 : 0);
  uint8_t* h = b->Prepend(kTcpHeaderLen + opts);
  Store16(h, seg.sport);
  Store16(h + 2, seg.dport);
  Store32(h + 4, seg.seq);
  Store32(h + 8, seg.ack);
  h[12] = uint8_t(((kTcpHeaderLen + opts) / 4) << 4);
  h[13] = seg.flags;
  Store16(h + 14, seg.window);
  Store16(h + 16, 0);
  Store16(h + 18, 0);
  uint8_t* o = h + kTcpHeaderLen;
  if (seg.mss >= 0) {
    o[0] = 2;
    o[1] = 4;
    Store16(o + 2, uint16_t(seg.mss));
    o += 4;
  }
  if (seg.wscale >= 0) {
    o[0] = 1;  // no-op pads the 3-byte option to a word
    o[1] = 3;
    o[2] = 3;
    o[3] = uint8_t(seg.wscale);
  }
  size_t len = b->size();
  uint32_t sum = PseudoHeaderSum(ip.src, ip.dst, IPPROTO_TCP, uint32_t(len));
  Store16(h + 16, ChecksumFinish(ChecksumAdd(sum, h, len)));
}

}  // namespace netstack
