// UDP over the loopback: ports, addresses, message boundaries, peek and
// truncation, connect filtering, buffer limits and ICMP errors.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "tests/unit/netstack_test_util.h"

namespace netstack::testing {
namespace {

using UdpTest = NetstackTest;
const FullAddress kAny4{Address::V4Any(), 0};

TEST_F(UdpTest, EphemeralBindAndAddressInUse) {
  auto a = stack_.NewUdp(false);
  ASSERT_EQ(a->Bind(FullAddress{Address::V4Loopback(), 0}), 0);
  FullAddress got = a->LocalAddress();
  EXPECT_GE(got.port, 32768);
  EXPECT_LE(got.port, 60999);
  EXPECT_EQ(a->Bind(kAny4), EINVAL);  // already bound
  auto b = stack_.NewUdp(false);
  EXPECT_EQ(b->Bind(got), EADDRINUSE);
  EXPECT_EQ(b->Bind(FullAddress{Address::V4Any(), got.port}), EADDRINUSE);  // wildcard overlaps
  EXPECT_EQ(b->Bind(FullAddress{Address::V4(0x0a000063), 0}), EADDRNOTAVAIL);  // not ours
  // Both with SO_REUSEADDR share; and SO_REUSEPORT alone does too.
  auto c = stack_.NewUdp(false), d = stack_.NewUdp(false);
  c->SetReuseAddr(true);
  d->SetReuseAddr(true);
  ASSERT_EQ(c->Bind(FullAddress{Address::V4Loopback(), 5000}), 0);
  EXPECT_EQ(d->Bind(FullAddress{Address::V4Loopback(), 5000}), 0);
  auto e = stack_.NewUdp(false), f = stack_.NewUdp(false);
  e->SetReusePort(true);
  f->SetReusePort(true);
  ASSERT_EQ(e->Bind(FullAddress{Address::V4Loopback(), 5001}), 0);
  EXPECT_EQ(f->Bind(FullAddress{Address::V4Loopback(), 5001}), 0);
  // Closing frees the port.
  a->Close();
  EXPECT_EQ(b->Bind(got), 0);
}

TEST_F(UdpTest, DatagramsKeepBoundariesAndSources) {
  auto rx = stack_.NewUdp(false), tx = stack_.NewUdp(false);
  ASSERT_EQ(rx->Bind(FullAddress{Address::V4Loopback(), 0}), 0);
  FullAddress to = rx->LocalAddress();
  EXPECT_EQ(rx->Readiness() & POLLIN, 0u);
  EXPECT_EQ(SendTo(*tx, "first", &to), 5);
  EXPECT_EQ(SendTo(*tx, "second!", &to), 7);
  EXPECT_EQ(SendTo(*tx, "", &to), 0);
  EXPECT_NE(rx->Readiness() & POLLIN, 0u);
  FullAddress from;
  size_t full;
  EXPECT_EQ(RecvFrom(*rx, 100, &from, &full), "first");
  EXPECT_EQ(from.addr, Address::V4Loopback());
  EXPECT_EQ(from.port, tx->LocalAddress().port);
  // Peek leaves it; a short read truncates and reports the real size.
  EXPECT_EQ(RecvFrom(*rx, 3, &from, &full, nullptr, true), "sec");
  EXPECT_EQ(full, 7u);
  EXPECT_EQ(RecvFrom(*rx, 3, &from, &full), "sec");
  EXPECT_EQ(full, 7u);
  int64_t r;
  EXPECT_EQ(RecvFrom(*rx, 100, &from, &full, &r), "");
  EXPECT_EQ(r, 0);  // the empty datagram
  RecvFrom(*rx, 100, &from, &full, &r);
  EXPECT_EQ(r, -EAGAIN);
}

TEST_F(UdpTest, ConnectFiltersAndDefaults) {
  auto a = stack_.NewUdp(false), b = stack_.NewUdp(false), c = stack_.NewUdp(false);
  ASSERT_EQ(a->Bind(FullAddress{Address::V4Loopback(), 0}), 0);
  ASSERT_EQ(b->Bind(FullAddress{Address::V4Loopback(), 0}), 0);
  FullAddress aa = a->LocalAddress(), ba = b->LocalAddress();
  EXPECT_EQ(SendTo(*a, "x", nullptr), -EDESTADDRREQ);
  ASSERT_EQ(a->Connect(&ba), 0);
  FullAddress peer;
  ASSERT_EQ(a->RemoteAddress(&peer), 0);
  EXPECT_EQ(peer.port, ba.port);
  EXPECT_EQ(SendTo(*a, "to b", nullptr), 4);
  FullAddress from;
  size_t full;
  EXPECT_EQ(RecvFrom(*b, 100, &from, &full), "to b");
  // Only the peer's datagrams reach a connected endpoint.
  EXPECT_EQ(SendTo(*c, "stranger", &aa), 8);
  EXPECT_EQ(a->NextDatagramSize(), 0u);
  EXPECT_EQ(SendTo(*b, "peer", &aa), 4);
  EXPECT_EQ(RecvFrom(*a, 100, &from, &full), "peer");
  ASSERT_EQ(a->Connect(nullptr), 0);  // AF_UNSPEC
  EXPECT_EQ(a->RemoteAddress(&peer), ENOTCONN);
}

TEST_F(UdpTest, ConnectedSocketLearnsPortUnreachable) {
  auto a = stack_.NewUdp(false);
  FullAddress nobody{Address::V4Loopback(), 9};
  ASSERT_EQ(a->Connect(&nobody), 0);
  EXPECT_EQ(SendTo(*a, "x", nullptr), 1);
  EXPECT_NE(a->Readiness() & POLLERR, 0u);
  EXPECT_EQ(SendTo(*a, "x", nullptr), -ECONNREFUSED);
  EXPECT_EQ(SendTo(*a, "x", nullptr), 1);
  EXPECT_EQ(a->TakeError(), ECONNREFUSED);
  EXPECT_EQ(a->TakeError(), 0);
  // Unconnected senders hear nothing.
  auto b = stack_.NewUdp(false);
  EXPECT_EQ(SendTo(*b, "x", &nobody), 1);
  EXPECT_EQ(b->TakeError(), 0);
  EXPECT_GE(stack_.Stats().icmp_sent, 3u);
}

TEST_F(UdpTest, ReceiveBufferLimitDrops) {
  auto rx = stack_.NewUdp(false), tx = stack_.NewUdp(false);
  rx->SetRcvBuf(1000);
  ASSERT_EQ(rx->Bind(FullAddress{Address::V4Loopback(), 0}), 0);
  FullAddress to = rx->LocalAddress();
  std::string d(300, 'd');
  for (int i = 0; i < 5; i++) EXPECT_EQ(SendTo(*tx, d, &to), 300);
  EXPECT_EQ(stack_.Stats().udp_receive_buffer_errors, 2u);
  EXPECT_EQ(SendTo(*tx, std::string(65508, 'x'), &to), -EMSGSIZE);
}

TEST_F(UdpTest, Ipv6LoopbackAndDualStack) {
  auto rx = stack_.NewUdp(true);
  ASSERT_EQ(rx->Bind(FullAddress{Address::V6Any(), 0}), 0);
  uint16_t port = rx->LocalAddress().port;
  auto tx6 = stack_.NewUdp(true), tx4 = stack_.NewUdp(false);
  FullAddress to6{Address::V6Loopback(), port}, to4{Address::V4Loopback(), port};
  EXPECT_EQ(SendTo(*tx6, "six", &to6), 3);
  EXPECT_EQ(SendTo(*tx4, "four", &to4), 4);  // :: without V6ONLY takes IPv4 too
  FullAddress from;
  size_t full;
  EXPECT_EQ(RecvFrom(*rx, 10, &from, &full), "six");
  EXPECT_EQ(from.addr, Address::V6Loopback());
  EXPECT_EQ(RecvFrom(*rx, 10, &from, &full), "four");
  EXPECT_TRUE(from.addr.is_v4());
  // V6ONLY: IPv4 goes elsewhere and the IPv4 wildcard no longer overlaps.
  auto only = stack_.NewUdp(true);
  ASSERT_EQ(only->SetV6Only(true), 0);
  ASSERT_EQ(only->Bind(FullAddress{Address::V6Any(), 0}), 0);
  auto v4 = stack_.NewUdp(false);
  EXPECT_EQ(v4->Bind(FullAddress{Address::V4Any(), only->LocalAddress().port}), 0);
}

}  // namespace
}  // namespace netstack::testing
