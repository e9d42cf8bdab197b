// Helpers for the netstack unit tests: a stack on a manual clock with a
// loopback (127.0.0.1/8, ::1) and a misbehaving test link (10.0.0.1/24),
// and byte-string wrappers around the endpoint operations.
#ifndef TESTS_UNIT_NETSTACK_TEST_UTIL_H_
#define TESTS_UNIT_NETSTACK_TEST_UTIL_H_

#include <cstring>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "netstack/clock.h"
#include "netstack/link.h"
#include "netstack/stack.h"
#include "netstack/tcp.h"
#include "netstack/udp.h"

namespace netstack::testing {

inline const Address kTestAddr = Address::V4(0x0a000001);  // 10.0.0.1 on the test link

class NetstackTest : public ::testing::Test {
 protected:
  explicit NetstackTest(StackOptions opts = {}) : stack_(&clock_, 42, opts) {
    stack_.AddNic(&loop_, {{Address::V4Loopback(), 8}, {Address::V6Loopback(), 128}});
    stack_.AddNic(&test_link_, {{kTestAddr, 24}});
  }

  // Lets time pass in steps, running the timers that fall due.
  void Advance(int64_t ns, int64_t step = kMillisecond) {
    for (int64_t done = 0; done < ns; done += step) {
      clock_.Advance(step);
      stack_.RunTimers();
    }
  }

  ManualClock clock_;
  LoopbackLink loop_;
  TestLink test_link_{1500, 7};
  Stack stack_;
};

inline FillFn FillFrom(const std::string& s, size_t* pos = nullptr) {
  return [&s, pos](uint8_t* dst, size_t n) -> int64_t {
    size_t at = pos ? *pos : 0;
    n = std::min(n, s.size() - at);
    std::memcpy(dst, s.data() + at, n);
    return int64_t(n);
  };
}

inline int64_t SendStr(TcpEndpoint& e, const std::string& s) { return e.Send(s.size(), FillFrom(s), false); }

// Receives up to max bytes; the result or -errno in *r.
inline std::string RecvStr(TcpEndpoint& e, size_t max = 1 << 20, int64_t* r = nullptr, bool peek = false) {
  std::string out;
  int64_t got = e.Recv(max, [&](const uint8_t* p, size_t n) -> int64_t {
    out.append(reinterpret_cast<const char*>(p), n);
    return int64_t(n);
  }, peek);
  if (r) *r = got;
  return out;
}

inline int64_t SendTo(UdpEndpoint& e, const std::string& s, const FullAddress* to) {
  return e.SendTo(to, s.size(), FillFrom(s));
}

inline std::string RecvFrom(UdpEndpoint& e, size_t max, FullAddress* from, size_t* full,
                            int64_t* r = nullptr, bool peek = false) {
  std::string out;
  int64_t got = e.Recv(max, [&](const uint8_t* p, size_t n) -> int64_t {
    out.append(reinterpret_cast<const char*>(p), n);
    return int64_t(n);
  }, peek, from, full);
  if (r) *r = got;
  return out;
}

// A connected pair through `listener_addr` (the listener is returned too).
struct TcpTriple {
  std::shared_ptr<TcpEndpoint> listener, client, server;
};

inline TcpTriple ConnectPair(Stack& s, const Address& addr, bool v6 = false) {
  TcpTriple t;
  t.listener = s.NewTcp(v6);
  EXPECT_EQ(t.listener->Bind(FullAddress{addr, 0}), 0);
  EXPECT_EQ(t.listener->Listen(16), 0);
  FullAddress at = t.listener->LocalAddress();
  t.client = s.NewTcp(v6);
  EXPECT_EQ(t.client->Connect(at), EINPROGRESS);
  int err;
  FullAddress peer;
  t.server = t.listener->Accept(&peer, &err);
  EXPECT_NE(t.server, nullptr) << err;
  return t;
}

}  // namespace netstack::testing

#endif  // TESTS_UNIT_NETSTACK_TEST_UTIL_H_
