// TCP over the loopback and over the misbehaving test link: handshake,
// data, half-close, resets, TIME_WAIT, windows, Nagle and recovery.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "tests/unit/netstack_test_util.h"

namespace netstack::testing {
namespace {

using TcpTest = NetstackTest;

TEST_F(TcpTest, HandshakeDataBothWaysAndAddresses) {
  TcpTriple t = ConnectPair(stack_, Address::V4Loopback());
  ASSERT_NE(t.server, nullptr);
  EXPECT_EQ(t.client->state(), TcpState::kEstablished);
  EXPECT_EQ(t.server->state(), TcpState::kEstablished);
  FullAddress cp, sp;
  ASSERT_EQ(t.client->RemoteAddress(&cp), 0);
  ASSERT_EQ(t.server->RemoteAddress(&sp), 0);
  EXPECT_EQ(cp, t.listener->LocalAddress());
  EXPECT_EQ(sp, t.client->LocalAddress());
  EXPECT_EQ(t.client->LocalAddress().addr, Address::V4Loopback());
  EXPECT_NE(t.client->Readiness() & POLLOUT, 0u);
  EXPECT_EQ(t.server->Readiness() & POLLIN, 0u);
  EXPECT_EQ(SendStr(*t.client, "ping"), 4);
  EXPECT_NE(t.server->Readiness() & POLLIN, 0u);
  EXPECT_EQ(t.server->ReadableBytes(), 4u);
  EXPECT_EQ(RecvStr(*t.server, 2, nullptr, /*peek=*/true), "pi");
  EXPECT_EQ(RecvStr(*t.server), "ping");
  EXPECT_EQ(SendStr(*t.server, "pong"), 4);
  EXPECT_EQ(RecvStr(*t.client), "pong");
  int64_t r;
  RecvStr(*t.client, 10, &r);
  EXPECT_EQ(r, -EAGAIN);
  // The outcome of the EINPROGRESS connect is reported once, then EISCONN.
  EXPECT_EQ(t.client->Connect(t.listener->LocalAddress()), 0);
  EXPECT_EQ(t.client->Connect(t.listener->LocalAddress()), EISCONN);
}

TEST_F(TcpTest, ConnectToClosedPortIsRefused) {
  auto c = stack_.NewTcp(false);
  EXPECT_EQ(c->Connect(FullAddress{Address::V4Loopback(), 1}), EINPROGRESS);
  EXPECT_EQ(c->state(), TcpState::kClosed);
  EXPECT_NE(c->Readiness() & POLLERR, 0u);
  EXPECT_NE(c->Readiness() & POLLHUP, 0u);
  EXPECT_EQ(c->TakeError(), ECONNREFUSED);
  EXPECT_EQ(c->TakeError(), 0);
  EXPECT_EQ(stack_.Stats().tcp_resets_sent, 1u);
  // No route: at once.
  auto d = stack_.NewTcp(false);
  EXPECT_EQ(d->Connect(FullAddress{Address::V4(0x08080808), 80}), ENETUNREACH);
}

TEST_F(TcpTest, HalfCloseThenTimeWait) {
  TcpTriple t = ConnectPair(stack_, Address::V4Loopback());
  EXPECT_EQ(SendStr(*t.client, "request"), 7);
  ASSERT_EQ(t.client->Shutdown(SHUT_WR), 0);
  EXPECT_EQ(SendStr(*t.client, "more"), -EPIPE);
  EXPECT_EQ(t.client->state(), TcpState::kFinWait2);
  EXPECT_EQ(t.server->state(), TcpState::kCloseWait);
  EXPECT_EQ(RecvStr(*t.server), "request");
  int64_t r;
  RecvStr(*t.server, 10, &r);
  EXPECT_EQ(r, 0);  // end of stream
  EXPECT_NE(t.server->Readiness() & POLLRDHUP, 0u);
  // The other direction still works.
  EXPECT_EQ(SendStr(*t.server, "response"), 8);
  EXPECT_EQ(RecvStr(*t.client), "response");
  t.server->Close();
  EXPECT_EQ(t.client->state(), TcpState::kTimeWait);
  RecvStr(*t.client, 10, &r);
  EXPECT_EQ(r, 0);
  EXPECT_NE(t.client->Readiness() & POLLHUP, 0u);
  Advance(61 * kSecond, 100 * kMillisecond);
  EXPECT_EQ(t.client->state(), TcpState::kClosed);
}

TEST_F(TcpTest, CloseWithUnreadDataResetsThePeer) {
  TcpTriple t = ConnectPair(stack_, Address::V4Loopback());
  EXPECT_EQ(SendStr(*t.client, "unread"), 6);
  t.server->Close();
  EXPECT_EQ(t.client->state(), TcpState::kClosed);
  int64_t r;
  RecvStr(*t.client, 10, &r);
  EXPECT_EQ(r, -ECONNRESET);
  RecvStr(*t.client, 10, &r);
  EXPECT_EQ(r, 0);
  EXPECT_EQ(SendStr(*t.client, "x"), -EPIPE);
}

TEST_F(TcpTest, ClosingListenerResetsUnacceptedConnections) {
  auto l = stack_.NewTcp(false);
  ASSERT_EQ(l->Bind(FullAddress{Address::V4Loopback(), 0}), 0);
  ASSERT_EQ(l->Listen(4), 0);
  auto c = stack_.NewTcp(false);
  EXPECT_EQ(c->Connect(l->LocalAddress()), EINPROGRESS);
  EXPECT_EQ(c->state(), TcpState::kEstablished);
  EXPECT_NE(l->Readiness() & POLLIN, 0u);
  l->Close();
  EXPECT_EQ(c->state(), TcpState::kClosed);
  EXPECT_EQ(c->TakeError(), ECONNRESET);
}

TEST_F(TcpTest, BacklogLimitsTheAcceptQueue) {
  auto l = stack_.NewTcp(false);
  ASSERT_EQ(l->Bind(FullAddress{Address::V4Loopback(), 0}), 0);
  ASSERT_EQ(l->Listen(1), 0);
  std::vector<std::shared_ptr<TcpEndpoint>> cs;
  for (int i = 0; i < 3; i++) {
    cs.push_back(stack_.NewTcp(false));
    EXPECT_EQ(cs.back()->Connect(l->LocalAddress()), EINPROGRESS);
  }
  // Linux queues backlog + 1 connections; the third SYN was dropped.
  EXPECT_EQ(cs[0]->state(), TcpState::kEstablished);
  EXPECT_EQ(cs[1]->state(), TcpState::kEstablished);
  EXPECT_EQ(cs[2]->state(), TcpState::kSynSent);
  EXPECT_EQ(stack_.Stats().tcp_listen_drops, 1u);
  int err;
  EXPECT_NE(l->Accept(nullptr, &err), nullptr);
  Advance(1100 * kMillisecond, 10 * kMillisecond);  // the SYN retransmission
  EXPECT_EQ(cs[2]->state(), TcpState::kEstablished);
  EXPECT_NE(l->Accept(nullptr, &err), nullptr);
  EXPECT_NE(l->Accept(nullptr, &err), nullptr);
  EXPECT_EQ(l->Accept(nullptr, &err), nullptr);
  EXPECT_EQ(err, EAGAIN);
}

TEST_F(TcpTest, PortRulesForListenersAndTimeWait) {
  auto a = stack_.NewTcp(false), b = stack_.NewTcp(false);
  ASSERT_EQ(a->Bind(FullAddress{Address::V4Loopback(), 7000}), 0);
  ASSERT_EQ(a->Listen(4), 0);
  EXPECT_EQ(b->Bind(FullAddress{Address::V4Any(), 7000}), EADDRINUSE);
  b->SetReuseAddr(true);
  EXPECT_EQ(b->Bind(FullAddress{Address::V4Loopback(), 7000}), EADDRINUSE);  // a listens
  // A server that closes first leaves TIME_WAIT on its port; SO_REUSEADDR
  // lets the next server bind anyway.
  auto srv = stack_.NewTcp(false);
  srv->SetReuseAddr(true);
  ASSERT_EQ(srv->Bind(FullAddress{Address::V4Loopback(), 7001}), 0);
  ASSERT_EQ(srv->Listen(4), 0);
  auto c = stack_.NewTcp(false);
  EXPECT_EQ(c->Connect(srv->LocalAddress()), EINPROGRESS);
  int err;
  auto conn = srv->Accept(nullptr, &err);
  ASSERT_NE(conn, nullptr);
  srv->Close();
  conn->Close();
  c->Close();
  EXPECT_EQ(conn->state(), TcpState::kTimeWait);
  auto plain = stack_.NewTcp(false);
  EXPECT_EQ(plain->Bind(FullAddress{Address::V4Loopback(), 7001}), EADDRINUSE);
  auto next = stack_.NewTcp(false);
  next->SetReuseAddr(true);
  EXPECT_EQ(next->Bind(FullAddress{Address::V4Loopback(), 7001}), 0);
  EXPECT_EQ(next->Listen(4), 0);
}

TEST_F(TcpTest, NagleHoldsSmallSegmentsUntilAcked) {
  TcpTriple t = ConnectPair(stack_, Address::V4Loopback());
  EXPECT_EQ(SendStr(*t.client, "a"), 1);
  EXPECT_EQ(SendStr(*t.client, "b"), 1);
  EXPECT_EQ(RecvStr(*t.server), "a");  // "b" waits for the (delayed) ACK of "a"
  Advance(50 * kMillisecond);
  EXPECT_EQ(RecvStr(*t.server), "b");
  t.client->SetNoDelay(true);
  EXPECT_EQ(SendStr(*t.client, "c"), 1);
  EXPECT_EQ(SendStr(*t.client, "d"), 1);
  EXPECT_EQ(RecvStr(*t.server), "cd");
}

TEST_F(TcpTest, Ipv6Loopback) {
  TcpTriple t = ConnectPair(stack_, Address::V6Loopback(), /*v6=*/true);
  ASSERT_NE(t.server, nullptr);
  EXPECT_EQ(SendStr(*t.client, "over ::1"), 8);
  EXPECT_EQ(RecvStr(*t.server), "over ::1");
  EXPECT_EQ(t.client->LocalAddress().addr, Address::V6Loopback());
  // A dual-stack listener takes IPv4 peers, seen as mapped addresses.
  auto l = stack_.NewTcp(true);
  ASSERT_EQ(l->Bind(FullAddress{Address::V6Any(), 0}), 0);
  ASSERT_EQ(l->Listen(4), 0);
  auto c4 = stack_.NewTcp(false);
  EXPECT_EQ(c4->Connect(FullAddress{Address::V4Loopback(), l->LocalAddress().port}), EINPROGRESS);
  int err;
  FullAddress peer;
  ASSERT_NE(l->Accept(&peer, &err), nullptr);
  EXPECT_TRUE(peer.addr.is_v4());
}

// Moves `data` from a to b until all of it arrived, letting time pass when
// nothing moves. Returns what b received.
std::string Transfer(NetstackTest* test, ManualClock& clock, Stack& stack, TcpEndpoint& a,
                     TcpEndpoint& b, const std::string& data, int64_t limit_ns) {
  size_t sent = 0;
  std::string got;
  int64_t start = clock.NowNs();
  while (got.size() < data.size() && clock.NowNs() - start < limit_ns) {
    bool moved = false;
    if (sent < data.size()) {
      int64_t n = a.Send(data.size() - sent, FillFrom(data, &sent), false);
      if (n > 0) {
        sent += size_t(n);
        moved = true;
      }
    }
    std::string r = RecvStr(b, 256 << 10);
    if (!r.empty()) {
      got += r;
      moved = true;
    }
    if (!moved) {
      clock.Advance(5 * kMillisecond);
      stack.RunTimers();
    }
  }
  return got;
}

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  uint32_t x = 12345;
  for (auto& c : s) {
    x = x * 1103515245 + 12345;
    c = char(x >> 16);
  }
  return s;
}

TEST_F(TcpTest, MegabyteOverLoopback) {
  TcpTriple t = ConnectPair(stack_, Address::V4Loopback());
  std::string data = Pattern(8 << 20);
  std::string got = Transfer(this, clock_, stack_, *t.client, *t.server, data, 10 * kSecond);
  ASSERT_EQ(got.size(), data.size());
  EXPECT_TRUE(got == data) << "bytes differ";
  EXPECT_EQ(stack_.Stats().tcp_retransmits, 0u);
}

TEST_F(TcpTest, MegabyteSurvivesLossReorderingAndDuplication) {
  TcpTriple t = ConnectPair(stack_, kTestAddr);
  ASSERT_NE(t.server, nullptr);
  test_link_.set_faults({.drop = 0.10, .duplicate = 0.05, .reorder = 0.05});
  std::string data = Pattern(1 << 20);
  std::string got = Transfer(this, clock_, stack_, *t.client, *t.server, data, 600 * kSecond);
  ASSERT_EQ(got.size(), data.size());
  EXPECT_TRUE(got == data) << "bytes differ";
  StackStats s = stack_.Stats();
  EXPECT_GT(test_link_.dropped(), 0u);
  EXPECT_GT(test_link_.duplicated(), 0u);
  EXPECT_GT(test_link_.reordered(), 0u);
  EXPECT_GT(s.tcp_fast_retransmits, 0u);
  EXPECT_GT(s.tcp_retransmits, 0u);
  // Both directions, and the end of stream, under the same faults.
  ASSERT_EQ(t.server->Shutdown(SHUT_WR), 0);
  std::string back = Pattern(100000);
  got = Transfer(this, clock_, stack_, *t.client, *t.server, back, 600 * kSecond);
  EXPECT_TRUE(got == back);
  int64_t r = -EAGAIN;
  for (int i = 0; i < 1000 && r == -EAGAIN; i++) {
    RecvStr(*t.client, 10, &r);
    Advance(10 * kMillisecond);
  }
  EXPECT_EQ(r, 0);
}

TEST_F(TcpTest, CubicSurvivesLossAndGrowsItsWindow) {
  auto l = stack_.NewTcp(false);
  ASSERT_TRUE(l->SetCongestion("cubic"));
  EXPECT_FALSE(l->SetCongestion("vegas"));
  EXPECT_EQ(l->Congestion(), "cubic");
  ASSERT_EQ(l->Bind(FullAddress{kTestAddr, 0}), 0);
  ASSERT_EQ(l->Listen(4), 0);
  auto c = stack_.NewTcp(false);
  ASSERT_TRUE(c->SetCongestion("cubic"));
  EXPECT_EQ(c->Connect(l->LocalAddress()), EINPROGRESS);
  int err;
  auto s = l->Accept(nullptr, &err);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->Congestion(), "cubic");  // inherited from the listener
  test_link_.set_faults({.drop = 0.02});
  std::string data = Pattern(2 << 20);
  std::string got = Transfer(this, clock_, stack_, *c, *s, data, 600 * kSecond);
  ASSERT_EQ(got.size(), data.size());
  EXPECT_TRUE(got == data);
  EXPECT_GT(stack_.Stats().tcp_fast_retransmits, 0u);
  EXPECT_GT(c->Info().snd_cwnd, 2u);
}

TEST_F(TcpTest, ZeroWindowIsProbedNotTimedOut) {
  auto l = stack_.NewTcp(false);
  l->SetRcvBuf(8192);
  ASSERT_EQ(l->Bind(FullAddress{Address::V4Loopback(), 0}), 0);
  ASSERT_EQ(l->Listen(4), 0);
  auto c = stack_.NewTcp(false);
  c->SetSndBuf(64 << 10);
  EXPECT_EQ(c->Connect(l->LocalAddress()), EINPROGRESS);
  int err;
  auto s = l->Accept(nullptr, &err);
  ASSERT_NE(s, nullptr);
  std::string data = Pattern(60000);
  EXPECT_EQ(c->Send(data.size(), FillFrom(data), false), 60000);
  EXPECT_EQ(s->ReadableBytes(), 8192u);
  Advance(600 * kSecond, 500 * kMillisecond);  // the reader sleeps for ten minutes
  EXPECT_EQ(c->state(), TcpState::kEstablished);
  std::string got;
  for (int i = 0; i < 2000 && got.size() < data.size(); i++) {
    got += RecvStr(*s);
    Advance(5 * kMillisecond);
  }
  EXPECT_TRUE(got == data);
}

TEST_F(TcpTest, DeadPeerTimesOut) {
  TcpTriple t = ConnectPair(stack_, kTestAddr);
  test_link_.set_faults({.drop = 1.0});
  EXPECT_EQ(SendStr(*t.client, "lost"), 4);
  Advance(3600 * kSecond, 100 * kMillisecond);
  EXPECT_EQ(t.client->state(), TcpState::kClosed);
  EXPECT_EQ(t.client->TakeError(), ETIMEDOUT);
  EXPECT_GE(stack_.Stats().tcp_timeouts, 15u);
}

TEST_F(TcpTest, SynToDeadPeerTimesOut) {
  test_link_.set_faults({.drop = 1.0});
  auto l = stack_.NewTcp(false);
  ASSERT_EQ(l->Bind(FullAddress{kTestAddr, 0}), 0);
  ASSERT_EQ(l->Listen(4), 0);
  auto c = stack_.NewTcp(false);
  EXPECT_EQ(c->Connect(l->LocalAddress()), EINPROGRESS);
  Advance(200 * kSecond, 100 * kMillisecond);
  EXPECT_EQ(c->state(), TcpState::kClosed);
  EXPECT_EQ(c->TakeError(), ETIMEDOUT);
}

TEST_F(TcpTest, ReadinessCallbacksRunWithoutLocks) {
  TcpTriple t = ConnectPair(stack_, Address::V4Loopback());
  int calls = 0;
  // The callback may call back into the stack: no lock is held.
  t.server->SetNotify([&] {
    calls++;
    (void)t.server->Readiness();
  });
  EXPECT_EQ(SendStr(*t.client, "wake"), 4);
  EXPECT_GE(calls, 1);
}

}  // namespace
}  // namespace netstack::testing

namespace netstack::testing {
namespace {

// Two ephemeral ports only: outgoing connections share them by peer, and
// loopback TIME_WAIT pairs are reused (net.ipv4.tcp_tw_reuse=2).
class TinyPortRangeTest : public NetstackTest {
 protected:
  TinyPortRangeTest() : NetstackTest(Options()) {}
  static StackOptions Options() {
    StackOptions o;
    o.ephemeral_lo = 40000;
    o.ephemeral_hi = 40001;
    return o;
  }
};

TEST_F(TinyPortRangeTest, EphemeralPortsAreSharedAndTimeWaitReused) {
  std::vector<std::shared_ptr<TcpEndpoint>> listeners, clients;
  for (int i = 0; i < 5; i++) {
    auto l = stack_.NewTcp(false);
    ASSERT_EQ(l->Bind(FullAddress{Address::V4Loopback(), uint16_t(5000 + i)}), 0);
    ASSERT_EQ(l->Listen(8), 0);
    listeners.push_back(l);
  }
  for (int i = 0; i < 4; i++) {
    auto c = stack_.NewTcp(false);
    EXPECT_EQ(c->Connect(listeners[i]->LocalAddress()), EINPROGRESS);
    EXPECT_EQ(c->state(), TcpState::kEstablished) << i;
    clients.push_back(c);
  }
  // The client closes first, many times over, to the same server.
  int err;
  for (int i = 0; i < 10; i++) {
    auto c = stack_.NewTcp(false);
    ASSERT_EQ(c->Connect(listeners[4]->LocalAddress()), EINPROGRESS) << i;
    ASSERT_EQ(c->state(), TcpState::kEstablished) << i;
    auto s = listeners[4]->Accept(nullptr, &err);
    ASSERT_NE(s, nullptr);
    c->Close();
    s->Close();
    EXPECT_EQ(c->state(), TcpState::kTimeWait);
  }
  for (auto& c : clients) EXPECT_EQ(c->state(), TcpState::kEstablished);
}

}  // namespace
}  // namespace netstack::testing
