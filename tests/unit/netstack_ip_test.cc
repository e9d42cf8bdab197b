// Packet-level tests: checksums, and malformed packets of every layer
// being dropped and counted (never a crash).
#include <netinet/in.h>

#include <random>

#include "netstack/checksum.h"
#include "netstack/ip.h"
#include "netstack/tcp_segment.h"
#include "tests/unit/netstack_test_util.h"

namespace netstack::testing {
namespace {

TEST(ChecksumTest, Rfc1071Example) {
  // The worked example of RFC 1071 section 3: sum 0xddf2, checksum ~0xddf2.
  const uint8_t b[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(ChecksumFinish(ChecksumAdd(0, b, sizeof(b))), uint16_t(~0xddf2));
  // Odd lengths pad with a zero byte.
  const uint8_t odd[] = {0x01, 0x02, 0x03};
  EXPECT_EQ(ChecksumFinish(ChecksumAdd(0, odd, 3)), uint16_t(~(0x0102 + 0x0300)));
}

TEST(AddressTest, SubnetsAndFamilies) {
  EXPECT_TRUE(Address::V4(0x7f000005).InSubnet(Address::V4Loopback(), 8));
  EXPECT_FALSE(Address::V4(0x80000001).InSubnet(Address::V4Loopback(), 8));
  EXPECT_FALSE(Address::V6Loopback().InSubnet(Address::V4Loopback(), 8));
  EXPECT_TRUE(Address::V4Any().is_any());
  EXPECT_TRUE(Address::V6Any().is_any());
  EXPECT_FALSE(Address::V6Any().is_v4());
  EXPECT_EQ(Address::V4(0x7f000001).ToString(), "127.0.0.1");
  EXPECT_EQ(Address::V6Loopback().ToString(), "::1");
}

// A valid UDP/IPv4 packet from 127.0.0.1:1000 to 127.0.0.1:2000.
std::vector<uint8_t> UdpPacket(const std::string& payload) {
  PacketBuilder b(8 + payload.size());
  std::memcpy(b.payload() + 8, payload.data(), payload.size());
  uint8_t* h = b.front();
  Store16(h, 1000);
  Store16(h + 2, 2000);
  Store16(h + 4, uint16_t(8 + payload.size()));
  Store16(h + 6, 0);
  IpInfo ip{Address::V4Loopback(), Address::V4Loopback(), IPPROTO_UDP, 64, 0};
  uint32_t sum = PseudoHeaderSum(ip.src, ip.dst, IPPROTO_UDP, uint32_t(b.size()));
  Store16(h + 6, ChecksumFinish(ChecksumAdd(sum, h, b.size())));
  PrependIpHeader(&b, ip, 1);
  View v = std::move(b).Finish();
  return v.ToVector();
}

class MalformedTest : public NetstackTest {
 protected:
  void SetUp() override {
    rx_ = stack_.NewUdp(false);
    ASSERT_EQ(rx_->Bind(FullAddress{Address::V4Loopback(), 2000}), 0);
  }
  void Inject(std::vector<uint8_t> p) { stack_.InjectInbound(View(std::move(p))); }
  size_t Queued() { return rx_->NextDatagramSize(); }
  std::shared_ptr<UdpEndpoint> rx_;
};

TEST_F(MalformedTest, ValidPacketArrives) {
  Inject(UdpPacket("hello"));
  EXPECT_EQ(Queued(), 5u);
  EXPECT_EQ(stack_.Stats().udp_received, 1u);
}

TEST_F(MalformedTest, BadIpHeadersAreCounted) {
  auto good = UdpPacket("x");
  Inject({});                                             // empty
  Inject(std::vector<uint8_t>(good.begin(), good.begin() + 10));  // truncated
  auto p = good;
  p[0] = 0x55;  // version 5
  Inject(p);
  p = good;
  p[0] = 0x44;  // IHL 4 < 5
  Inject(p);
  p = good;
  Store16(&p[2], 2000);  // total length beyond the packet
  Inject(p);
  p = good;
  Store16(&p[2], 10);  // total length below the header
  Inject(p);
  StackStats s = stack_.Stats();
  EXPECT_EQ(s.ip_malformed, 6u);
  p = good;
  p[8] ^= 1;  // TTL changed, checksum stale
  Inject(p);
  EXPECT_EQ(stack_.Stats().ip_bad_checksum, 1u);
  p = good;
  p[6] |= 0x20;  // more fragments
  Store16(&p[10], 0);
  Store16(&p[10], ChecksumFinish(ChecksumAdd(0, p.data(), 20)));
  Inject(p);
  EXPECT_EQ(stack_.Stats().ip_unsupported, 1u);
  EXPECT_EQ(Queued(), 0u);
}

TEST_F(MalformedTest, BadUdpIsCounted) {
  auto p = UdpPacket("payload");
  p[20 + 8] ^= 0xff;  // payload changed, checksum stale
  Inject(p);
  EXPECT_EQ(stack_.Stats().udp_bad_checksum, 1u);
  p = UdpPacket("payload");
  Store16(&p[20 + 4], 4);  // UDP length < 8
  Inject(p);
  p = UdpPacket("payload");
  Store16(&p[20 + 4], 200);  // beyond the IP payload
  Inject(p);
  EXPECT_EQ(stack_.Stats().udp_malformed, 2u);
  EXPECT_EQ(Queued(), 0u);
}

TEST_F(MalformedTest, BadTcpIsCountedAndNotAnswered) {
  auto l = stack_.NewTcp(false);
  ASSERT_EQ(l->Bind(FullAddress{Address::V4Loopback(), 3000}), 0);
  ASSERT_EQ(l->Listen(4), 0);
  test_link_.set_capture(true);
  // A SYN with a bad checksum, then one with a data offset beyond the packet.
  PacketBuilder b(0);
  IpInfo ip{Address::V4Loopback(), Address::V4Loopback(), IPPROTO_TCP, 64, 0};
  TcpSegment seg;
  seg.sport = 1234;
  seg.dport = 3000;
  seg.seq = 1;
  seg.flags = kSyn;
  seg.window = 1000;
  PrependTcpHeader(&b, ip, seg);
  b.front()[16] ^= 1;
  PrependIpHeader(&b, ip, 1);
  auto bad = std::move(b).Finish().ToVector();
  Inject(bad);
  EXPECT_EQ(stack_.Stats().tcp_bad_checksum, 1u);
  auto off = bad;
  off[20 + 12] = 0xf0;  // 60-byte header in a 20-byte segment
  Inject(off);
  EXPECT_EQ(stack_.Stats().tcp_malformed, 1u);
  int err;
  EXPECT_EQ(l->Accept(nullptr, &err), nullptr);
  EXPECT_EQ(err, EAGAIN);
  EXPECT_EQ(stack_.Stats().tcp_resets_sent, 0u);
}

TEST_F(MalformedTest, RandomGarbageNeverCrashes) {
  // Random bytes behind a plausible IP header, for every protocol.
  std::mt19937 rng(1);
  auto l = stack_.NewTcp(false);
  ASSERT_EQ(l->Bind(FullAddress{Address::V4Loopback(), 3000}), 0);
  ASSERT_EQ(l->Listen(4), 0);
  for (int i = 0; i < 20000; i++) {
    size_t len = rng() % 120;
    std::vector<uint8_t> p(len);
    for (auto& c : p) c = uint8_t(rng());
    if (len >= 20 && (i % 2) == 0) {
      p[0] = (i % 4) ? 0x45 : 0x60;
      if (p[0] == 0x45) {
        Store16(&p[2], uint16_t(len));
        p[6] = p[7] = 0;
        const uint8_t protos[] = {IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP};
        p[9] = protos[i % 3];
        std::memcpy(&p[12], Address::V4Loopback().bytes() + 12, 4);
        std::memcpy(&p[16], Address::V4Loopback().bytes() + 12, 4);
        Store16(&p[10], 0);
        Store16(&p[10], ChecksumFinish(ChecksumAdd(0, p.data(), 20)));
      }
    }
    Inject(std::move(p));
  }
  StackStats s = stack_.Stats();
  EXPECT_EQ(s.ip_received, 20000u);
  EXPECT_GT(s.ip_malformed, 0u);
}

}  // namespace
}  // namespace netstack::testing
