#include "netstack/icmp.h"

#include <netinet/in.h>

#include "netstack/checksum.h"
#include "netstack/udp.h"

namespace netstack {
namespace {

constexpr size_t kIcmpHeaderLen = 8;
constexpr size_t kQuotedTransport = 8;  // ports and length are all a receiver needs

uint16_t IcmpChecksum(const IpInfo& ip, const uint8_t* p, size_t len) {
  uint32_t sum = ip.dst.is_v4() ? 0 : PseudoHeaderSum(ip.src, ip.dst, IPPROTO_ICMPV6, uint32_t(len));
  return ChecksumFinish(ChecksumAdd(sum, p, len));
}

void SendIcmpLocked(Stack* s, const IpInfo& to, PacketBuilder&& b) {
  uint8_t* h = b.front();
  Store16(h + 2, 0);
  Store16(h + 2, IcmpChecksum(to, h, b.size()));
  s->stats_.icmp_sent++;
  s->SendIpLocked(std::move(b), to);
}

// The transport error an unreachable code means, as Linux's icmp_err_convert.
int UnreachErrno(bool v4, uint8_t code) {
  if (v4) return code == 3 ? ECONNREFUSED : code == 0 ? ENETUNREACH : EHOSTUNREACH;
  return code == 4 ? ECONNREFUSED : code == 0 ? ENETUNREACH : EHOSTUNREACH;
}

void ErrorToUdpLocked(Stack* s, const Address& local, const Address& remote, const uint8_t* ports,
                      int err) {
  uint16_t sport = Load16(ports), dport = Load16(ports + 2);
  const auto* users = s->PortUsersLocked(IPPROTO_UDP, sport);
  if (users == nullptr) return;
  for (Endpoint* e : *users) {
    auto* u = static_cast<UdpEndpoint*>(e);
    IpInfo probe;  // the reply the endpoint would accept from the peer
    probe.src = remote;
    probe.dst = local;
    int score;
    if (u->MatchesLocked(probe, dport, &score) && score >= 4) u->IcmpErrorLocked(err);
  }
}

}  // namespace

void SendPortUnreachableLocked(Stack* s, const IpInfo& ip, const View& transport) {
  IpInfo to;
  to.src = ip.dst;
  to.dst = ip.src;
  to.ttl = kDefaultTtl;
  bool v4 = ip.src.is_v4();
  to.proto = v4 ? uint8_t{IPPROTO_ICMP} : uint8_t{IPPROTO_ICMPV6};
  size_t quoted = std::min(transport.size(), kQuotedTransport);
  PacketBuilder inner(quoted);
  std::memcpy(inner.payload(), transport.data(), quoted);
  PrependIpHeader(&inner, ip, 0);
  size_t inner_len = inner.size();
  PacketBuilder b(kIcmpHeaderLen + inner_len);
  std::memcpy(b.payload() + kIcmpHeaderLen, inner.front(), inner_len);
  uint8_t* h = b.front();
  h[0] = v4 ? 3 : 1;  // destination unreachable
  h[1] = v4 ? 3 : 4;  // port unreachable
  Store32(h + 4, 0);
  SendIcmpLocked(s, to, std::move(b));
}

void IcmpInputLocked(Stack* s, const IpInfo& ip, View pkt) {
  s->stats_.icmp_received++;
  bool v4 = ip.src.is_v4();
  if (pkt.size() < kIcmpHeaderLen || (v4 != (ip.proto == IPPROTO_ICMP)) ||
      IcmpChecksum(ip, pkt.data(), pkt.size()) != 0) {
    s->stats_.icmp_malformed++;
    return;
  }
  const uint8_t* p = pkt.data();
  uint8_t type = p[0], code = p[1];
  if ((v4 && type == 8) || (!v4 && type == 128)) {  // echo request
    IpInfo to;
    to.src = ip.dst;
    to.dst = ip.src;
    to.ttl = kDefaultTtl;
    to.proto = ip.proto;
    PacketBuilder b(pkt.size());
    std::memcpy(b.payload(), p, pkt.size());
    b.front()[0] = v4 ? 0 : 129;
    SendIcmpLocked(s, to, std::move(b));
    return;
  }
  if (!((v4 && type == 3) || (!v4 && type == 1))) return;  // only unreachables matter here
  const uint8_t* q = p + kIcmpHeaderLen;
  size_t left = pkt.size() - kIcmpHeaderLen;
  Address src, dst;
  uint8_t proto;
  size_t ihl;
  if (v4) {
    if (left < kIpv4HeaderLen || (q[0] >> 4) != 4) goto bad;
    ihl = size_t(q[0] & 0xf) * 4;
    if (ihl < kIpv4HeaderLen) goto bad;
    proto = q[9];
    src = Address::V4Bytes(q + 12);
    dst = Address::V4Bytes(q + 16);
  } else {
    if (left < kIpv6HeaderLen || (q[0] >> 4) != 6) goto bad;
    ihl = kIpv6HeaderLen;
    proto = q[6];
    src = Address::V6Bytes(q + 8);
    dst = Address::V6Bytes(q + 24);
  }
  if (left < ihl + 4) goto bad;
  if (proto == IPPROTO_UDP) ErrorToUdpLocked(s, src, dst, q + ihl, UnreachErrno(v4, code));
  // TCP learns of closed ports from RSTs; other errors are soft for it.
  return;
bad:
  s->stats_.icmp_malformed++;
}

}  // namespace netstack
