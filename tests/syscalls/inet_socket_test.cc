// AF_INET/AF_INET6 sockets on the loopback: TCP listen/connect/accept,
// data, shutdown, resets, non-blocking connect, readiness, options; UDP
// datagrams with addresses, connected UDP, port rules. What this pins is
// what programs rely on from Linux.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "tests/syscalls/test_util.h"

namespace systest {
namespace {

sockaddr_in Loopback4(uint16_t port = 0) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

sockaddr_in6 Loopback6(uint16_t port = 0) {
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(port);
  a.sin6_addr = in6addr_loopback;
  return a;
}

sockaddr* SA(void* p) { return reinterpret_cast<sockaddr*>(p); }

FileDescriptor Socket(int family, int type, int protocol = 0) {
  int fd = socket(family, type, protocol);
  if (fd < 0) ADD_FAILURE() << "socket: " << strerror(errno);
  return FileDescriptor(fd);
}

// A listening TCP socket on 127.0.0.1 with an ephemeral port.
FileDescriptor Listener(sockaddr_in* bound, int backlog = 16) {
  FileDescriptor l = Socket(AF_INET, SOCK_STREAM);
  sockaddr_in a = Loopback4();
  EXPECT_THAT(bind(l.get(), SA(&a), sizeof(a)), SyscallSucceeds());
  socklen_t len = sizeof(*bound);
  EXPECT_THAT(getsockname(l.get(), SA(bound), &len), SyscallSucceeds());
  EXPECT_EQ(len, sizeof(sockaddr_in));
  EXPECT_THAT(listen(l.get(), backlog), SyscallSucceeds());
  return l;
}

struct Conn {
  FileDescriptor listener, client, server;
  sockaddr_in addr;
};

Conn Connected() {
  Conn c;
  c.listener = Listener(&c.addr);
  c.client = Socket(AF_INET, SOCK_STREAM);
  EXPECT_THAT(connect(c.client.get(), SA(&c.addr), sizeof(c.addr)), SyscallSucceeds());
  int fd = accept(c.listener.get(), nullptr, nullptr);
  EXPECT_THAT(fd, SyscallSucceeds());
  c.server = FileDescriptor(fd);
  return c;
}

int IntOpt(int fd, int level, int name) {
  int v = -1;
  socklen_t len = sizeof(v);
  EXPECT_THAT(getsockopt(fd, level, name, &v, &len), SyscallSucceeds());
  EXPECT_EQ(len, sizeof(v));
  return v;
}

void SetIntOpt(int fd, int level, int name, int v) {
  EXPECT_THAT(setsockopt(fd, level, name, &v, sizeof(v)), SyscallSucceeds());
}

// Sends all of `data`; reads `n` bytes (or until EOF).
void SendAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0) {
      ADD_FAILURE() << "send: " << strerror(errno);
      return;
    }
    done += size_t(n);
  }
}

std::string RecvN(int fd, size_t n) {
  std::string out;
  std::vector<char> buf(1 << 16);
  while (out.size() < n) {
    ssize_t r = recv(fd, buf.data(), std::min(buf.size(), n - out.size()), 0);
    if (r <= 0) {
      if (r < 0) ADD_FAILURE() << "recv: " << strerror(errno);
      break;
    }
    out.append(buf.data(), size_t(r));
  }
  return out;
}

std::string Pattern(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  for (auto& c : s) {
    seed = seed * 1103515245 + 12345;
    c = char(seed >> 16);
  }
  return s;
}

// ---------------------------------------------------------------- TCP ----

TEST(InetTcpTest, ListenConnectAcceptOnEphemeralPort) {
  sockaddr_in addr;
  FileDescriptor l = Listener(&addr);
  EXPECT_NE(addr.sin_port, 0);
  EXPECT_EQ(addr.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
  EXPECT_EQ(IntOpt(l.get(), SOL_SOCKET, SO_ACCEPTCONN), 1);

  FileDescriptor c = Socket(AF_INET, SOCK_STREAM);
  EXPECT_EQ(IntOpt(c.get(), SOL_SOCKET, SO_ACCEPTCONN), 0);
  ASSERT_THAT(connect(c.get(), SA(&addr), sizeof(addr)), SyscallSucceeds());
  sockaddr_in peer{}, local{}, cpeer{};
  socklen_t len = sizeof(peer);
  int fd = accept(l.get(), SA(&peer), &len);
  ASSERT_THAT(fd, SyscallSucceeds());
  FileDescriptor s(fd);
  EXPECT_EQ(len, sizeof(sockaddr_in));
  len = sizeof(local);
  ASSERT_THAT(getsockname(c.get(), SA(&local), &len), SyscallSucceeds());
  EXPECT_EQ(peer.sin_port, local.sin_port);
  EXPECT_EQ(peer.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
  len = sizeof(cpeer);
  ASSERT_THAT(getpeername(c.get(), SA(&cpeer), &len), SyscallSucceeds());
  EXPECT_EQ(cpeer.sin_port, addr.sin_port);
  len = sizeof(cpeer);
  EXPECT_THAT(getpeername(l.get(), SA(&cpeer), &len), SyscallFailsWithErrno(ENOTCONN));

  EXPECT_THAT(write(c.get(), "hello", 5), SyscallSucceedsWithValue(5));
  char buf[16];
  EXPECT_THAT(read(s.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(5));
  EXPECT_EQ(std::string(buf, 5), "hello");
  EXPECT_THAT(send(s.get(), "world!", 6, 0), SyscallSucceedsWithValue(6));
  EXPECT_THAT(recv(c.get(), buf, 6, MSG_WAITALL), SyscallSucceedsWithValue(6));
  EXPECT_EQ(std::string(buf, 6), "world!");
}

TEST(InetTcpTest, DataBothWaysAndPeek) {
  Conn c = Connected();
  EXPECT_THAT(send(c.client.get(), "abcdef", 6, 0), SyscallSucceedsWithValue(6));
  char buf[16];
  EXPECT_THAT(recv(c.server.get(), buf, 3, MSG_PEEK), SyscallSucceedsWithValue(3));
  EXPECT_EQ(std::string(buf, 3), "abc");
  int avail = -1;
  EXPECT_THAT(ioctl(c.server.get(), FIONREAD, &avail), SyscallSucceeds());
  EXPECT_EQ(avail, 6);
  EXPECT_THAT(recv(c.server.get(), buf, sizeof(buf), 0), SyscallSucceedsWithValue(6));
  EXPECT_EQ(std::string(buf, 6), "abcdef");
  EXPECT_THAT(recv(c.server.get(), buf, sizeof(buf), MSG_DONTWAIT), SyscallFailsWithErrno(EAGAIN));
  EXPECT_THAT(send(c.server.get(), "xyz", 3, 0), SyscallSucceedsWithValue(3));
  EXPECT_THAT(recv(c.client.get(), buf, 3, MSG_WAITALL), SyscallSucceedsWithValue(3));
  EXPECT_EQ(std::string(buf, 3), "xyz");
}

TEST(InetTcpTest, LargeTransferBothWaysWithAThread) {
  Conn c = Connected();
  const std::string up = Pattern(8 << 20, 1), down = Pattern(3 << 20, 2);
  std::thread writer([&] {
    SendAll(c.client.get(), up);
    EXPECT_THAT(shutdown(c.client.get(), SHUT_WR), SyscallSucceeds());
  });
  std::string got = RecvN(c.server.get(), up.size());
  writer.join();
  EXPECT_EQ(got.size(), up.size());
  EXPECT_TRUE(got == up) << "the bytes differ";
  char b;
  EXPECT_THAT(recv(c.server.get(), &b, 1, 0), SyscallSucceedsWithValue(0));
  std::thread back([&] { SendAll(c.server.get(), down); });
  got = RecvN(c.client.get(), down.size());
  back.join();
  EXPECT_TRUE(got == down) << "the bytes differ";
}

TEST(InetTcpTest, LargeTransferToAForkedChild) {
  sockaddr_in addr;
  FileDescriptor l = Listener(&addr);
  const std::string data = Pattern(4 << 20, 3);
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, SA(&addr), sizeof(addr)) != 0) _exit(2);
    std::string got;
    std::vector<char> buf(65536);
    ssize_t n;
    while ((n = read(fd, buf.data(), buf.size())) > 0) got.append(buf.data(), size_t(n));
    _exit(n == 0 && got == data ? 0 : 3);
  }
  FileDescriptor s(accept(l.get(), nullptr, nullptr));
  ASSERT_GE(s.get(), 0);
  SendAll(s.get(), data);
  s.reset();
  EXPECT_THAT(WaitForStatus(pid), ExitedWithCode(0));
}

TEST(InetTcpTest, ShutdownWriteGivesEofAtThePeer) {
  Conn c = Connected();
  EXPECT_THAT(send(c.client.get(), "last", 4, 0), SyscallSucceedsWithValue(4));
  ASSERT_THAT(shutdown(c.client.get(), SHUT_WR), SyscallSucceeds());
  char buf[8];
  EXPECT_THAT(recv(c.server.get(), buf, sizeof(buf), 0), SyscallSucceedsWithValue(4));
  EXPECT_THAT(recv(c.server.get(), buf, sizeof(buf), 0), SyscallSucceedsWithValue(0));
  pollfd p = {c.server.get(), POLLIN | POLLRDHUP, 0};
  EXPECT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(p.revents & (POLLIN | POLLRDHUP), POLLIN | POLLRDHUP);
  // Half-closed: the other direction still carries data.
  EXPECT_THAT(send(c.server.get(), "reply", 5, 0), SyscallSucceedsWithValue(5));
  EXPECT_THAT(recv(c.client.get(), buf, sizeof(buf), 0), SyscallSucceedsWithValue(5));
  EXPECT_THAT(send(c.client.get(), "x", 1, MSG_NOSIGNAL), SyscallFailsWithErrno(EPIPE));
  c.server.reset();
  EXPECT_THAT(recv(c.client.get(), buf, sizeof(buf), 0), SyscallSucceedsWithValue(0));
}

TEST(InetTcpTest, ConnectToAClosedPortIsRefused) {
  // A bound socket that does not listen holds the port; SYNs to it get RSTs.
  FileDescriptor holder = Socket(AF_INET, SOCK_STREAM);
  sockaddr_in a = Loopback4();
  ASSERT_THAT(bind(holder.get(), SA(&a), sizeof(a)), SyscallSucceeds());
  socklen_t len = sizeof(a);
  ASSERT_THAT(getsockname(holder.get(), SA(&a), &len), SyscallSucceeds());
  FileDescriptor c = Socket(AF_INET, SOCK_STREAM);
  EXPECT_THAT(connect(c.get(), SA(&a), sizeof(a)), SyscallFailsWithErrno(ECONNREFUSED));
  EXPECT_EQ(IntOpt(c.get(), SOL_SOCKET, SO_ERROR), 0);  // taken by connect
}

TEST(InetTcpTest, ConnectToPortZeroIsRefused) {
  FileDescriptor c = Socket(AF_INET, SOCK_STREAM);
  sockaddr_in a = Loopback4(0);
  EXPECT_THAT(connect(c.get(), SA(&a), sizeof(a)), SyscallFailsWithErrno(ECONNREFUSED));
  FileDescriptor u = Socket(AF_INET, SOCK_DGRAM);
  EXPECT_THAT(sendto(u.get(), "x", 1, 0, SA(&a), sizeof(a)), SyscallFailsWithErrno(EINVAL));
}

TEST(InetTcpTest, NonblockingConnectAndPoll) {
  sockaddr_in addr;
  FileDescriptor l = Listener(&addr);
  FileDescriptor c = Socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
  EXPECT_THAT(connect(c.get(), SA(&addr), sizeof(addr)), SyscallFailsWithErrno(EINPROGRESS));
  pollfd p = {c.get(), POLLOUT, 0};
  ASSERT_THAT(poll(&p, 1, 5000), SyscallSucceedsWithValue(1));
  EXPECT_EQ(p.revents, POLLOUT);
  EXPECT_EQ(IntOpt(c.get(), SOL_SOCKET, SO_ERROR), 0);
  // Linux reports the finished connect once (0), then EISCONN.
  EXPECT_THAT(connect(c.get(), SA(&addr), sizeof(addr)), SyscallSucceeds());
  EXPECT_THAT(connect(c.get(), SA(&addr), sizeof(addr)), SyscallFailsWithErrno(EISCONN));
  pollfd lp = {l.get(), POLLIN, 0};
  EXPECT_THAT(poll(&lp, 1, 5000), SyscallSucceedsWithValue(1));
  int fd = accept4(l.get(), nullptr, nullptr, SOCK_NONBLOCK);
  ASSERT_THAT(fd, SyscallSucceeds());
  FileDescriptor s(fd);
  EXPECT_THAT(fcntl(fd, F_GETFL), SyscallSucceedsWithValue(O_RDWR | O_NONBLOCK));
  char b;
  EXPECT_THAT(recv(fd, &b, 1, 0), SyscallFailsWithErrno(EAGAIN));
}

TEST(InetTcpTest, NonblockingConnectRefusedReportsSoError) {
  FileDescriptor holder = Socket(AF_INET, SOCK_STREAM);
  sockaddr_in a = Loopback4();
  ASSERT_THAT(bind(holder.get(), SA(&a), sizeof(a)), SyscallSucceeds());
  socklen_t len = sizeof(a);
  ASSERT_THAT(getsockname(holder.get(), SA(&a), &len), SyscallSucceeds());
  FileDescriptor c = Socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
  int r = connect(c.get(), SA(&a), sizeof(a));
  ASSERT_EQ(r, -1);
  ASSERT_TRUE(errno == EINPROGRESS || errno == ECONNREFUSED) << strerror(errno);
  if (errno == EINPROGRESS) {
    pollfd p = {c.get(), POLLOUT, 0};
    ASSERT_THAT(poll(&p, 1, 5000), SyscallSucceedsWithValue(1));
    EXPECT_NE(p.revents & POLLERR, 0);
    EXPECT_NE(p.revents & POLLHUP, 0);
    EXPECT_EQ(IntOpt(c.get(), SOL_SOCKET, SO_ERROR), ECONNREFUSED);
  }
  EXPECT_EQ(IntOpt(c.get(), SOL_SOCKET, SO_ERROR), 0);
}

TEST(InetTcpTest, CloseWithUnreadDataResetsThePeer) {
  Conn c = Connected();
  EXPECT_THAT(send(c.client.get(), "unread", 6, 0), SyscallSucceedsWithValue(6));
  // Wait until it arrived, then close the receiver without reading.
  pollfd p = {c.server.get(), POLLIN, 0};
  ASSERT_THAT(poll(&p, 1, 5000), SyscallSucceedsWithValue(1));
  c.server.reset();
  pollfd q = {c.client.get(), POLLIN, 0};
  ASSERT_THAT(poll(&q, 1, 5000), SyscallSucceedsWithValue(1));
  char b;
  EXPECT_THAT(recv(c.client.get(), &b, 1, 0), SyscallFailsWithErrno(ECONNRESET));
  EXPECT_THAT(recv(c.client.get(), &b, 1, 0), SyscallSucceedsWithValue(0));
  EXPECT_THAT(send(c.client.get(), "x", 1, MSG_NOSIGNAL), SyscallFailsWithErrno(EPIPE));
}

TEST(InetTcpTest, UnconnectedSocketErrors) {
  FileDescriptor s = Socket(AF_INET, SOCK_STREAM);
  char b;
  EXPECT_THAT(recv(s.get(), &b, 1, 0), SyscallFailsWithErrno(ENOTCONN));
  EXPECT_THAT(send(s.get(), "x", 1, MSG_NOSIGNAL), SyscallFailsWithErrno(EPIPE));
  EXPECT_THAT(shutdown(s.get(), SHUT_WR), SyscallFailsWithErrno(ENOTCONN));
  sockaddr_in a;
  socklen_t len = sizeof(a);
  EXPECT_THAT(getpeername(s.get(), SA(&a), &len), SyscallFailsWithErrno(ENOTCONN));
  len = sizeof(a);
  ASSERT_THAT(getsockname(s.get(), SA(&a), &len), SyscallSucceeds());
  EXPECT_EQ(a.sin_port, 0);
  EXPECT_EQ(a.sin_addr.s_addr, 0u);
  EXPECT_THAT(accept(s.get(), nullptr, nullptr), SyscallFailsWithErrno(EINVAL));
  // A fresh socket polls writable and hung up (tcp_poll on TCP_CLOSE).
  pollfd p = {s.get(), POLLIN | POLLOUT, 0};
  EXPECT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(p.revents, POLLOUT | POLLHUP);
}

TEST(InetTcpTest, BindRules) {
  sockaddr_in addr;
  FileDescriptor l = Listener(&addr);
  FileDescriptor b = Socket(AF_INET, SOCK_STREAM);
  EXPECT_THAT(bind(b.get(), SA(&addr), sizeof(addr)), SyscallFailsWithErrno(EADDRINUSE));
  sockaddr_in any = addr;
  any.sin_addr.s_addr = htonl(INADDR_ANY);
  EXPECT_THAT(bind(b.get(), SA(&any), sizeof(any)), SyscallFailsWithErrno(EADDRINUSE));
  SetIntOpt(b.get(), SOL_SOCKET, SO_REUSEADDR, 1);
  EXPECT_EQ(IntOpt(b.get(), SOL_SOCKET, SO_REUSEADDR), 1);
  // SO_REUSEADDR does not share with a listener.
  EXPECT_THAT(bind(b.get(), SA(&addr), sizeof(addr)), SyscallFailsWithErrno(EADDRINUSE));
  sockaddr_in other = Loopback4();
  other.sin_addr.s_addr = inet_addr("192.0.2.1");  // not an address of this host
  EXPECT_THAT(bind(b.get(), SA(&other), sizeof(other)), SyscallFailsWithErrno(EADDRNOTAVAIL));
  EXPECT_THAT(bind(b.get(), SA(&addr), sizeof(addr) - 1), SyscallFailsWithErrno(EINVAL));
  sockaddr_in6 six = Loopback6();
  EXPECT_THAT(bind(b.get(), SA(&six), sizeof(six)), SyscallFailsWithErrno(EAFNOSUPPORT));
  sockaddr_in ok = Loopback4();
  ASSERT_THAT(bind(b.get(), SA(&ok), sizeof(ok)), SyscallSucceeds());
  EXPECT_THAT(bind(b.get(), SA(&ok), sizeof(ok)), SyscallFailsWithErrno(EINVAL));
}

TEST(InetTcpTest, ReuseAddrAfterTheServerClosedFirst) {
  sockaddr_in addr;
  uint16_t port;
  {
    FileDescriptor l = Socket(AF_INET, SOCK_STREAM);
    SetIntOpt(l.get(), SOL_SOCKET, SO_REUSEADDR, 1);
    sockaddr_in a = Loopback4();
    ASSERT_THAT(bind(l.get(), SA(&a), sizeof(a)), SyscallSucceeds());
    socklen_t len = sizeof(addr);
    ASSERT_THAT(getsockname(l.get(), SA(&addr), &len), SyscallSucceeds());
    port = addr.sin_port;
    ASSERT_THAT(listen(l.get(), 4), SyscallSucceeds());
    FileDescriptor c = Socket(AF_INET, SOCK_STREAM);
    ASSERT_THAT(connect(c.get(), SA(&addr), sizeof(addr)), SyscallSucceeds());
    FileDescriptor s(accept(l.get(), nullptr, nullptr));
    ASSERT_GE(s.get(), 0);
    // The server closes first: its side of the connection is in TIME_WAIT.
    s.reset();
    char b;
    EXPECT_THAT(recv(c.get(), &b, 1, 0), SyscallSucceedsWithValue(0));
  }
  FileDescriptor again = Socket(AF_INET, SOCK_STREAM);
  SetIntOpt(again.get(), SOL_SOCKET, SO_REUSEADDR, 1);
  sockaddr_in a = Loopback4(ntohs(port));
  EXPECT_THAT(bind(again.get(), SA(&a), sizeof(a)), SyscallSucceeds());
  EXPECT_THAT(listen(again.get(), 4), SyscallSucceeds());
}

TEST(InetTcpTest, SocketOptions) {
  Conn c = Connected();
  int fd = c.client.get();
  EXPECT_EQ(IntOpt(fd, SOL_SOCKET, SO_TYPE), SOCK_STREAM);
  EXPECT_EQ(IntOpt(fd, SOL_SOCKET, SO_DOMAIN), AF_INET);
  EXPECT_EQ(IntOpt(fd, SOL_SOCKET, SO_PROTOCOL), IPPROTO_TCP);
  EXPECT_EQ(IntOpt(fd, SOL_SOCKET, SO_ERROR), 0);
  EXPECT_EQ(IntOpt(fd, IPPROTO_TCP, TCP_NODELAY), 0);
  SetIntOpt(fd, IPPROTO_TCP, TCP_NODELAY, 1);
  EXPECT_EQ(IntOpt(fd, IPPROTO_TCP, TCP_NODELAY), 1);
  SetIntOpt(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
  EXPECT_EQ(IntOpt(fd, SOL_SOCKET, SO_KEEPALIVE), 1);
  SetIntOpt(fd, SOL_SOCKET, SO_RCVBUF, 65536);
  EXPECT_GE(IntOpt(fd, SOL_SOCKET, SO_RCVBUF), 65536);
  SetIntOpt(fd, SOL_SOCKET, SO_SNDBUF, 65536);
  EXPECT_GE(IntOpt(fd, SOL_SOCKET, SO_SNDBUF), 65536);
  SetIntOpt(fd, IPPROTO_IP, IP_TOS, 0x10);
  EXPECT_EQ(IntOpt(fd, IPPROTO_IP, IP_TOS), 0x10);
  SetIntOpt(fd, IPPROTO_TCP, TCP_CORK, 1);
  EXPECT_EQ(IntOpt(fd, IPPROTO_TCP, TCP_CORK), 1);
  SetIntOpt(fd, IPPROTO_TCP, TCP_CORK, 0);
  linger lg = {1, 0};
  EXPECT_THAT(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), SyscallSucceeds());
  tcp_info info{};
  socklen_t len = sizeof(info);
  ASSERT_THAT(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len), SyscallSucceeds());
  EXPECT_EQ(info.tcpi_state, TCP_ESTABLISHED);
  EXPECT_GT(info.tcpi_snd_mss, 0u);
  int v = 1;
  EXPECT_THAT(setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &v, 2), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(setsockopt(fd, SOL_SOCKET, 12345, &v, sizeof(v)), SyscallFailsWithErrno(ENOPROTOOPT));
}

TEST(InetTcpTest, PollAndEpollReadiness) {
  Conn c = Connected();
  pollfd p = {c.server.get(), POLLIN | POLLOUT, 0};
  EXPECT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(p.revents, POLLOUT);
  int ep = epoll_create1(0);
  ASSERT_THAT(ep, SyscallSucceeds());
  FileDescriptor epfd(ep);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = c.server.get();
  ASSERT_THAT(epoll_ctl(ep, EPOLL_CTL_ADD, c.server.get(), &ev), SyscallSucceeds());
  ev.data.fd = c.listener.get();
  ASSERT_THAT(epoll_ctl(ep, EPOLL_CTL_ADD, c.listener.get(), &ev), SyscallSucceeds());
  epoll_event out[2];
  EXPECT_THAT(epoll_wait(ep, out, 2, 0), SyscallSucceedsWithValue(0));
  // Data arriving from another thread wakes a blocked epoll_wait.
  std::thread t([&] {
    usleep(50000);
    EXPECT_THAT(send(c.client.get(), "x", 1, 0), SyscallSucceedsWithValue(1));
  });
  ASSERT_THAT(epoll_wait(ep, out, 2, 5000), SyscallSucceedsWithValue(1));
  t.join();
  EXPECT_EQ(out[0].data.fd, c.server.get());
  EXPECT_EQ(out[0].events, uint32_t(EPOLLIN));
  // A pending connection makes the listener readable.
  FileDescriptor c2 = Socket(AF_INET, SOCK_STREAM);
  ASSERT_THAT(connect(c2.get(), SA(&c.addr), sizeof(c.addr)), SyscallSucceeds());
  ASSERT_THAT(epoll_wait(ep, out, 2, 5000), SyscallSucceedsWithValue(2));
}

TEST(InetTcpTest, BlockedReaderWakesOnData) {
  Conn c = Connected();
  std::thread t([&] {
    usleep(50000);
    EXPECT_THAT(send(c.client.get(), "late", 4, 0), SyscallSucceedsWithValue(4));
  });
  char buf[4];
  EXPECT_THAT(recv(c.server.get(), buf, sizeof(buf), MSG_WAITALL), SyscallSucceedsWithValue(4));
  t.join();
}

TEST(InetTcpTest, Ipv6Loopback) {
  FileDescriptor l = Socket(AF_INET6, SOCK_STREAM);
  sockaddr_in6 a = Loopback6();
  ASSERT_THAT(bind(l.get(), SA(&a), sizeof(a)), SyscallSucceeds());
  socklen_t len = sizeof(a);
  ASSERT_THAT(getsockname(l.get(), SA(&a), &len), SyscallSucceeds());
  EXPECT_EQ(len, sizeof(sockaddr_in6));
  ASSERT_THAT(listen(l.get(), 4), SyscallSucceeds());
  FileDescriptor c = Socket(AF_INET6, SOCK_STREAM);
  ASSERT_THAT(connect(c.get(), SA(&a), sizeof(a)), SyscallSucceeds());
  sockaddr_in6 peer{};
  len = sizeof(peer);
  FileDescriptor s(accept(l.get(), SA(&peer), &len));
  ASSERT_GE(s.get(), 0);
  EXPECT_EQ(peer.sin6_family, AF_INET6);
  EXPECT_TRUE(IN6_IS_ADDR_LOOPBACK(&peer.sin6_addr));
  EXPECT_THAT(send(c.get(), "six", 3, 0), SyscallSucceedsWithValue(3));
  char buf[4];
  EXPECT_THAT(recv(s.get(), buf, sizeof(buf), 0), SyscallSucceedsWithValue(3));
}

TEST(InetTcpTest, DualStackListenerTakesIpv4) {
  FileDescriptor l = Socket(AF_INET6, SOCK_STREAM);
  EXPECT_EQ(IntOpt(l.get(), IPPROTO_IPV6, IPV6_V6ONLY), 0);
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_any;
  ASSERT_THAT(bind(l.get(), SA(&a), sizeof(a)), SyscallSucceeds());
  socklen_t len = sizeof(a);
  ASSERT_THAT(getsockname(l.get(), SA(&a), &len), SyscallSucceeds());
  ASSERT_THAT(listen(l.get(), 4), SyscallSucceeds());
  FileDescriptor c = Socket(AF_INET, SOCK_STREAM);
  sockaddr_in to = Loopback4(ntohs(a.sin6_port));
  ASSERT_THAT(connect(c.get(), SA(&to), sizeof(to)), SyscallSucceeds());
  sockaddr_in6 peer{};
  len = sizeof(peer);
  FileDescriptor s(accept(l.get(), SA(&peer), &len));
  ASSERT_GE(s.get(), 0);
  EXPECT_TRUE(IN6_IS_ADDR_V4MAPPED(&peer.sin6_addr));
  int one = 1;
  EXPECT_THAT(setsockopt(l.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)),
              SyscallFailsWithErrno(EINVAL));  // already bound
}

TEST(InetSocketTest, CreationErrors) {
  EXPECT_THAT(socket(AF_INET, SOCK_SEQPACKET, 0), SyscallFailsWithErrno(ESOCKTNOSUPPORT));
  EXPECT_THAT(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP), SyscallFailsWithErrno(EPROTONOSUPPORT));
  EXPECT_THAT(socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP), SyscallFailsWithErrno(EPROTONOSUPPORT));
  EXPECT_THAT(socket(AF_INET6, SOCK_STREAM, -1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(socket(AF_INET, 11, 0), SyscallFailsWithErrno(EINVAL));
  FileDescriptor s = Socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  EXPECT_THAT(fcntl(s.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  EXPECT_THAT(fcntl(s.get(), F_GETFL), SyscallSucceedsWithValue(O_RDWR | O_NONBLOCK));
  struct stat st;
  ASSERT_THAT(fstat(s.get(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(FdLink(s.get()).rfind("socket:[", 0), 0u);
}

// ---------------------------------------------------------------- UDP ----

FileDescriptor BoundUdp(sockaddr_in* addr) {
  FileDescriptor s = Socket(AF_INET, SOCK_DGRAM);
  sockaddr_in a = Loopback4();
  EXPECT_THAT(bind(s.get(), SA(&a), sizeof(a)), SyscallSucceeds());
  socklen_t len = sizeof(*addr);
  EXPECT_THAT(getsockname(s.get(), SA(addr), &len), SyscallSucceeds());
  return s;
}

TEST(InetUdpTest, SendtoRecvfromWithAddresses) {
  sockaddr_in ra, sa;
  FileDescriptor r = BoundUdp(&ra), s = BoundUdp(&sa);
  EXPECT_THAT(sendto(s.get(), "one", 3, 0, SA(&ra), sizeof(ra)), SyscallSucceedsWithValue(3));
  EXPECT_THAT(sendto(s.get(), "second", 6, 0, SA(&ra), sizeof(ra)), SyscallSucceedsWithValue(6));
  int avail = -1;
  EXPECT_THAT(ioctl(r.get(), FIONREAD, &avail), SyscallSucceeds());
  EXPECT_EQ(avail, 3);  // the next datagram only
  char buf[16];
  sockaddr_in from{};
  socklen_t len = sizeof(from);
  EXPECT_THAT(recvfrom(r.get(), buf, sizeof(buf), 0, SA(&from), &len), SyscallSucceedsWithValue(3));
  EXPECT_EQ(len, sizeof(sockaddr_in));
  EXPECT_EQ(from.sin_port, sa.sin_port);
  EXPECT_EQ(from.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
  // Boundaries hold: a short read truncates one datagram and drops the rest.
  msghdr m{};
  iovec io = {buf, 2};
  m.msg_iov = &io;
  m.msg_iovlen = 1;
  EXPECT_THAT(recvmsg(r.get(), &m, MSG_PEEK), SyscallSucceedsWithValue(2));
  EXPECT_EQ(m.msg_flags & MSG_TRUNC, MSG_TRUNC);
  EXPECT_THAT(recv(r.get(), buf, 2, MSG_TRUNC), SyscallSucceedsWithValue(6));
  EXPECT_THAT(recv(r.get(), buf, sizeof(buf), MSG_DONTWAIT), SyscallFailsWithErrno(EAGAIN));
  EXPECT_THAT(sendto(s.get(), "", 0, 0, SA(&ra), sizeof(ra)), SyscallSucceedsWithValue(0));
  EXPECT_THAT(recv(r.get(), buf, sizeof(buf), 0), SyscallSucceedsWithValue(0));
}

TEST(InetUdpTest, ConnectedUdp) {
  sockaddr_in ra, sa, ta;
  FileDescriptor r = BoundUdp(&ra), s = BoundUdp(&sa), third = BoundUdp(&ta);
  EXPECT_THAT(send(s.get(), "x", 1, 0), SyscallFailsWithErrno(EDESTADDRREQ));
  ASSERT_THAT(connect(s.get(), SA(&ra), sizeof(ra)), SyscallSucceeds());
  sockaddr_in peer{};
  socklen_t len = sizeof(peer);
  ASSERT_THAT(getpeername(s.get(), SA(&peer), &len), SyscallSucceeds());
  EXPECT_EQ(peer.sin_port, ra.sin_port);
  EXPECT_THAT(send(s.get(), "hi", 2, 0), SyscallSucceedsWithValue(2));
  char buf[8];
  EXPECT_THAT(recv(r.get(), buf, sizeof(buf), 0), SyscallSucceedsWithValue(2));
  // A connected socket hears only from its peer.
  EXPECT_THAT(sendto(third.get(), "no", 2, 0, SA(&sa), sizeof(sa)), SyscallSucceedsWithValue(2));
  EXPECT_THAT(sendto(r.get(), "yes", 3, 0, SA(&sa), sizeof(sa)), SyscallSucceedsWithValue(3));
  EXPECT_THAT(recv(s.get(), buf, sizeof(buf), 0), SyscallSucceedsWithValue(3));
  EXPECT_EQ(std::string(buf, 3), "yes");
  // AF_UNSPEC dissolves the association.
  sockaddr unspec{};
  unspec.sa_family = AF_UNSPEC;
  ASSERT_THAT(connect(s.get(), &unspec, sizeof(unspec)), SyscallSucceeds());
  len = sizeof(peer);
  EXPECT_THAT(getpeername(s.get(), SA(&peer), &len), SyscallFailsWithErrno(ENOTCONN));
}

TEST(InetUdpTest, ConnectedUdpToAClosedPortIsRefused) {
  sockaddr_in gone;
  { FileDescriptor tmp = BoundUdp(&gone); }  // a port nobody holds any more
  FileDescriptor s = Socket(AF_INET, SOCK_DGRAM);
  ASSERT_THAT(connect(s.get(), SA(&gone), sizeof(gone)), SyscallSucceeds());
  EXPECT_THAT(send(s.get(), "x", 1, 0), SyscallSucceedsWithValue(1));
  pollfd p = {s.get(), POLLIN, 0};
  ASSERT_THAT(poll(&p, 1, 5000), SyscallSucceedsWithValue(1));
  EXPECT_EQ(p.revents & POLLERR, POLLERR);
  char b;
  EXPECT_THAT(recv(s.get(), &b, 1, 0), SyscallFailsWithErrno(ECONNREFUSED));
  EXPECT_EQ(IntOpt(s.get(), SOL_SOCKET, SO_ERROR), 0);
}

TEST(InetUdpTest, PortRules) {
  sockaddr_in a;
  FileDescriptor first = BoundUdp(&a);
  FileDescriptor second = Socket(AF_INET, SOCK_DGRAM);
  EXPECT_THAT(bind(second.get(), SA(&a), sizeof(a)), SyscallFailsWithErrno(EADDRINUSE));
  // Both with SO_REUSEADDR share the port.
  FileDescriptor x = Socket(AF_INET, SOCK_DGRAM), y = Socket(AF_INET, SOCK_DGRAM);
  SetIntOpt(x.get(), SOL_SOCKET, SO_REUSEADDR, 1);
  SetIntOpt(y.get(), SOL_SOCKET, SO_REUSEADDR, 1);
  sockaddr_in l = Loopback4();
  ASSERT_THAT(bind(x.get(), SA(&l), sizeof(l)), SyscallSucceeds());
  socklen_t len = sizeof(l);
  ASSERT_THAT(getsockname(x.get(), SA(&l), &len), SyscallSucceeds());
  EXPECT_THAT(bind(y.get(), SA(&l), sizeof(l)), SyscallSucceeds());
  // Sending binds an ephemeral port.
  FileDescriptor z = Socket(AF_INET, SOCK_DGRAM);
  EXPECT_THAT(sendto(z.get(), "p", 1, 0, SA(&a), sizeof(a)), SyscallSucceedsWithValue(1));
  sockaddr_in za{};
  len = sizeof(za);
  ASSERT_THAT(getsockname(z.get(), SA(&za), &len), SyscallSucceeds());
  EXPECT_NE(za.sin_port, 0);
  EXPECT_EQ(IntOpt(z.get(), SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
}

TEST(InetUdpTest, Ipv6Loopback) {
  FileDescriptor r = Socket(AF_INET6, SOCK_DGRAM), s = Socket(AF_INET6, SOCK_DGRAM);
  sockaddr_in6 a = Loopback6();
  ASSERT_THAT(bind(r.get(), SA(&a), sizeof(a)), SyscallSucceeds());
  socklen_t len = sizeof(a);
  ASSERT_THAT(getsockname(r.get(), SA(&a), &len), SyscallSucceeds());
  EXPECT_THAT(sendto(s.get(), "v6", 2, 0, SA(&a), sizeof(a)), SyscallSucceedsWithValue(2));
  char buf[4];
  sockaddr_in6 from{};
  len = sizeof(from);
  EXPECT_THAT(recvfrom(r.get(), buf, sizeof(buf), 0, SA(&from), &len), SyscallSucceedsWithValue(2));
  EXPECT_TRUE(IN6_IS_ADDR_LOOPBACK(&from.sin6_addr));
}

}  // namespace
}  // namespace systest
