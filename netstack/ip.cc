#include "netstack/ip.h"

#include <netinet/in.h>

#include "netstack/checksum.h"

namespace netstack {
namespace {

IpParse ParseV4(View* pkt, IpInfo* info) {
  const uint8_t* p = pkt->data();
  size_t ihl = size_t(p[0] & 0xf) * 4;
  if (ihl < kIpv4HeaderLen || pkt->size() < ihl) return IpParse::kMalformed;
  size_t total = Load16(p + 2);
  if (total < ihl || total > pkt->size()) return IpParse::kMalformed;
  if (ChecksumFinish(ChecksumAdd(0, p, ihl)) != 0) return IpParse::kBadChecksum;
  uint16_t frag = Load16(p + 6);
  if ((frag & 0x2000) || (frag & 0x1fff)) return IpParse::kUnsupported;  // MF or offset
  info->tos = p[1];
  info->ttl = p[8];
  info->proto = p[9];
  info->src = Address::V4Bytes(p + 12);
  info->dst = Address::V4Bytes(p + 16);
  pkt->Truncate(total);  // link padding is not payload
  pkt->TrimFront(ihl);
  return IpParse::kOk;
}

IpParse ParseV6(View* pkt, IpInfo* info) {
  if (pkt->size() < kIpv6HeaderLen) return IpParse::kMalformed;
  const uint8_t* p = pkt->data();
  size_t payload = Load16(p + 4);
  if (kIpv6HeaderLen + payload > pkt->size()) return IpParse::kMalformed;
  uint8_t next = p[6];
  if (next != IPPROTO_TCP && next != IPPROTO_UDP && next != IPPROTO_ICMPV6) {
    return IpParse::kUnsupported;
  }
  info->tos = uint8_t(Load16(p) >> 4);
  info->proto = next;
  info->ttl = p[7];
  info->src = Address::V6Bytes(p + 8);
  info->dst = Address::V6Bytes(p + 24);
  // A mapped address on the wire would alias an IPv4 peer (RFC 4291 2.5.5.2).
  if (info->src.is_v4() || info->dst.is_v4()) return IpParse::kMalformed;
  pkt->Truncate(kIpv6HeaderLen + payload);
  pkt->TrimFront(kIpv6HeaderLen);
  return IpParse::kOk;
}

}  // namespace

IpParse ParseIp(View* pkt, IpInfo* info) {
  if (pkt->size() < kIpv4HeaderLen) return IpParse::kMalformed;
  switch (pkt->data()[0] >> 4) {
    case 4:
      return ParseV4(pkt, info);
    case 6:
      return ParseV6(pkt, info);
    default:
      return IpParse::kMalformed;
  }
}

void PrependIpHeader(PacketBuilder* b, const IpInfo& info, uint16_t id) {
  size_t payload = b->size();
  if (info.dst.is_v4()) {
    uint8_t* h = b->Prepend(kIpv4HeaderLen);
    h[0] = 0x45;
    h[1] = info.tos;
    Store16(h + 2, uint16_t(kIpv4HeaderLen + payload));
    Store16(h + 4, id);
    Store16(h + 6, 0x4000);  // DF: we never fragment
    h[8] = info.ttl;
    h[9] = info.proto;
    Store16(h + 10, 0);
    std::memcpy(h + 12, info.src.bytes() + 12, 4);
    std::memcpy(h + 16, info.dst.bytes() + 12, 4);
    Store16(h + 10, ChecksumFinish(ChecksumAdd(0, h, kIpv4HeaderLen)));
  } else {
    uint8_t* h = b->Prepend(kIpv6HeaderLen);
    Store32(h, 6u << 28 | uint32_t(info.tos) << 20);
    Store16(h + 4, uint16_t(payload));
    h[6] = info.proto;
    h[7] = info.ttl;
    std::memcpy(h + 8, info.src.bytes(), 16);
    std::memcpy(h + 24, info.dst.bytes(), 16);
  }
}

}  // namespace netstack
