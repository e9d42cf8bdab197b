// Unix domain sockets made with socket(2): path, abstract and automatic
// names; listen/connect/accept for stream and seqpacket; datagrams with
// and without connect; SCM_RIGHTS and SCM_CREDENTIALS; backlog, timeouts,
// resets and the errors of each call.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "tests/syscalls/test_util.h"

namespace systest {
namespace {

constexpr socklen_t kPathOff = offsetof(sockaddr_un, sun_path);

struct Addr {
  sockaddr_un sun = {};
  socklen_t len = 0;
  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&sun); }
};

Addr PathAddr(const std::string& path) {
  Addr a;
  a.sun.sun_family = AF_UNIX;
  memcpy(a.sun.sun_path, path.data(), path.size());
  a.len = kPathOff + path.size() + 1;
  return a;
}

Addr AbstractAddr(const std::string& name) {
  Addr a;
  a.sun.sun_family = AF_UNIX;
  memcpy(a.sun.sun_path + 1, name.data(), name.size());
  a.len = kPathOff + 1 + name.size();
  return a;
}

// A name no other test run uses at the same time.
std::string UniqueAbstract(const std::string& tag) {
  return tag + "-" + std::to_string(getpid()) + "-" + std::to_string(random());
}

FileDescriptor Sock(int type) {
  int fd = socket(AF_UNIX, type, 0);
  if (fd < 0) ThrowErrno("socket");
  return FileDescriptor(fd);
}

FileDescriptor Listener(const Addr& a, int type = SOCK_STREAM, int backlog = 16) {
  FileDescriptor s = Sock(type);
  if (bind(s.get(), a.sa(), a.len) != 0) ThrowErrno("bind");
  if (listen(s.get(), backlog) != 0) ThrowErrno("listen");
  return s;
}

FileDescriptor Connected(const Addr& a, int type = SOCK_STREAM) {
  FileDescriptor c = Sock(type);
  if (connect(c.get(), a.sa(), a.len) != 0) ThrowErrno("connect");
  return c;
}

TEST(UnixSocketTest, PathListenConnectAccept) {
  TempPath dir = TempPath::Dir();
  std::string path = dir.Child("srv.sock");
  mode_t old = umask(022);
  FileDescriptor l = Listener(PathAddr(path));
  umask(old);

  struct stat st;
  ASSERT_THAT(stat(path.c_str(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0755u);
  // A socket node cannot be opened like a file.
  EXPECT_THAT(open(path.c_str(), O_RDWR), SyscallFailsWithErrno(ENXIO));

  FileDescriptor c = Connected(PathAddr(path));
  sockaddr_un peer = {};
  socklen_t plen = sizeof(peer);
  int afd;
  ASSERT_THAT(afd = accept(l.get(), reinterpret_cast<sockaddr*>(&peer), &plen),
              SyscallSucceeds());
  FileDescriptor a(afd);
  EXPECT_EQ(plen, sizeof(sa_family_t));  // the client has no name
  EXPECT_EQ(peer.sun_family, AF_UNIX);

  sockaddr_un name = {};
  socklen_t nlen = sizeof(name);
  ASSERT_THAT(getpeername(c.get(), reinterpret_cast<sockaddr*>(&name), &nlen), SyscallSucceeds());
  EXPECT_EQ(nlen, kPathOff + path.size() + 1);
  EXPECT_EQ(std::string(name.sun_path), path);
  nlen = sizeof(name);
  ASSERT_THAT(getsockname(a.get(), reinterpret_cast<sockaddr*>(&name), &nlen), SyscallSucceeds());
  EXPECT_EQ(std::string(name.sun_path), path);

  EXPECT_THAT(write(c.get(), "ping", 4), SyscallSucceedsWithValue(4));
  char buf[8] = {};
  EXPECT_THAT(read(a.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(4));
  EXPECT_STREQ(buf, "ping");
  EXPECT_THAT(send(a.get(), "pong!", 5, 0), SyscallSucceedsWithValue(5));
  EXPECT_THAT(recv(c.get(), buf, sizeof(buf), 0), SyscallSucceedsWithValue(5));

  int v = 0;
  socklen_t vl = sizeof(v);
  ASSERT_THAT(getsockopt(l.get(), SOL_SOCKET, SO_ACCEPTCONN, &v, &vl), SyscallSucceeds());
  EXPECT_EQ(v, 1);
}

TEST(UnixSocketTest, BindErrors) {
  TempPath dir = TempPath::Dir();
  Addr a = PathAddr(dir.Child("s"));
  FileDescriptor s = Sock(SOCK_STREAM);
  ASSERT_THAT(bind(s.get(), a.sa(), a.len), SyscallSucceeds());
  Addr b = PathAddr(dir.Child("t"));
  EXPECT_THAT(bind(s.get(), b.sa(), b.len), SyscallFailsWithErrno(EINVAL));  // already bound

  FileDescriptor s2 = Sock(SOCK_STREAM);
  EXPECT_THAT(bind(s2.get(), a.sa(), a.len), SyscallFailsWithErrno(EADDRINUSE));
  Addr missing = PathAddr(dir.Child("no/such/dir"));
  EXPECT_THAT(bind(s2.get(), missing.sa(), missing.len), SyscallFailsWithErrno(ENOENT));
  Addr inet = b;
  inet.sun.sun_family = AF_INET;
  EXPECT_THAT(bind(s2.get(), inet.sa(), inet.len), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(bind(s2.get(), b.sa(), sizeof(sockaddr_storage) + 1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(bind(s2.get(), b.sa(), 1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(bind(s2.get(), Opaque<sockaddr*>(nullptr), b.len), SyscallFailsWithErrno(EFAULT));
  // Closing the socket leaves the node, which still blocks the name.
  s.reset();
  EXPECT_THAT(bind(s2.get(), a.sa(), a.len), SyscallFailsWithErrno(EADDRINUSE));
}

TEST(UnixSocketTest, ConnectAndListenErrors) {
  TempPath dir = TempPath::Dir();
  FileDescriptor c = Sock(SOCK_STREAM);
  Addr none = PathAddr(dir.Child("none"));
  EXPECT_THAT(connect(c.get(), none.sa(), none.len), SyscallFailsWithErrno(ENOENT));
  TempPath file = TempPath::File("x", dir.path());
  Addr f = PathAddr(file.path());
  EXPECT_THAT(connect(c.get(), f.sa(), f.len), SyscallFailsWithErrno(ECONNREFUSED));

  // Bound but not listening; then closed (the node stays).
  Addr a = PathAddr(dir.Child("bound"));
  FileDescriptor b = Sock(SOCK_STREAM);
  ASSERT_THAT(bind(b.get(), a.sa(), a.len), SyscallSucceeds());
  EXPECT_THAT(connect(c.get(), a.sa(), a.len), SyscallFailsWithErrno(ECONNREFUSED));
  b.reset();
  EXPECT_THAT(connect(c.get(), a.sa(), a.len), SyscallFailsWithErrno(ECONNREFUSED));

  // A datagram socket is the wrong type for a stream connect.
  Addr d = PathAddr(dir.Child("dgram"));
  FileDescriptor ds = Sock(SOCK_DGRAM);
  ASSERT_THAT(bind(ds.get(), d.sa(), d.len), SyscallSucceeds());
  EXPECT_THAT(connect(c.get(), d.sa(), d.len), SyscallFailsWithErrno(EPROTOTYPE));
  EXPECT_THAT(listen(ds.get(), 1), SyscallFailsWithErrno(EOPNOTSUPP));
  EXPECT_THAT(accept(ds.get(), nullptr, nullptr), SyscallFailsWithErrno(EOPNOTSUPP));

  FileDescriptor unbound = Sock(SOCK_STREAM);
  EXPECT_THAT(listen(unbound.get(), 1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(accept(unbound.get(), nullptr, nullptr), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(accept4(unbound.get(), nullptr, nullptr, 0x40), SyscallFailsWithErrno(EINVAL));

  Addr la = PathAddr(dir.Child("l"));
  FileDescriptor l = Listener(la);
  FileDescriptor cc = Connected(la);
  EXPECT_THAT(connect(cc.get(), la.sa(), la.len), SyscallFailsWithErrno(EISCONN));
  EXPECT_THAT(connect(l.get(), la.sa(), la.len), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(sendto(cc.get(), "x", 1, 0, la.sa(), la.len), SyscallFailsWithErrno(EISCONN));
  EXPECT_THAT(send(unbound.get(), "x", 1, MSG_NOSIGNAL), SyscallFailsWithErrno(ENOTCONN));
  char ch;
  EXPECT_THAT(recv(unbound.get(), &ch, 1, MSG_DONTWAIT), SyscallFailsWithErrno(EINVAL));
  sockaddr_un name;
  socklen_t nl = sizeof(name);
  EXPECT_THAT(getpeername(unbound.get(), reinterpret_cast<sockaddr*>(&name), &nl),
              SyscallFailsWithErrno(ENOTCONN));
}

TEST(UnixSocketTest, UnlinkedNameRefusesButConnectionsStay) {
  TempPath dir = TempPath::Dir();
  Addr a = PathAddr(dir.Child("s"));
  FileDescriptor l = Listener(a);
  FileDescriptor c = Connected(a);
  ASSERT_THAT(unlink(a.sun.sun_path), SyscallSucceeds());
  FileDescriptor c2 = Sock(SOCK_STREAM);
  EXPECT_THAT(connect(c2.get(), a.sa(), a.len), SyscallFailsWithErrno(ENOENT));
  int afd;
  ASSERT_THAT(afd = accept(l.get(), nullptr, nullptr), SyscallSucceeds());
  FileDescriptor acc(afd);
  EXPECT_THAT(write(c.get(), "z", 1), SyscallSucceedsWithValue(1));
  char ch;
  EXPECT_THAT(read(acc.get(), &ch, 1), SyscallSucceedsWithValue(1));
}

TEST(UnixSocketTest, AbstractNames) {
  std::string n = UniqueAbstract("abs");
  Addr a = AbstractAddr(n);
  FileDescriptor l = Listener(a);
  sockaddr_un name = {};
  socklen_t nl = sizeof(name);
  ASSERT_THAT(getsockname(l.get(), reinterpret_cast<sockaddr*>(&name), &nl), SyscallSucceeds());
  EXPECT_EQ(nl, a.len);
  EXPECT_EQ(name.sun_path[0], '\0');
  EXPECT_EQ(std::string(name.sun_path + 1, n.size()), n);

  FileDescriptor other = Sock(SOCK_STREAM);
  EXPECT_THAT(bind(other.get(), a.sa(), a.len), SyscallFailsWithErrno(EADDRINUSE));
  FileDescriptor c = Connected(a);
  EXPECT_THAT(write(c.get(), "a", 1), SyscallSucceedsWithValue(1));
  // The name is free again once its socket is closed; nothing is left in
  // the file system.
  l.reset();
  EXPECT_THAT(bind(other.get(), a.sa(), a.len), SyscallSucceeds());
  // A name is its exact bytes: a shorter prefix is another name.
  Addr prefix = AbstractAddr(n.substr(0, n.size() - 1));
  FileDescriptor c2 = Sock(SOCK_STREAM);
  EXPECT_THAT(connect(c2.get(), prefix.sa(), prefix.len), SyscallFailsWithErrno(ECONNREFUSED));
}

TEST(UnixSocketTest, Autobind) {
  FileDescriptor s = Sock(SOCK_DGRAM);
  sockaddr_un a = {};
  a.sun_family = AF_UNIX;
  ASSERT_THAT(bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof(sa_family_t)),
              SyscallSucceeds());
  sockaddr_un name = {};
  socklen_t nl = sizeof(name);
  ASSERT_THAT(getsockname(s.get(), reinterpret_cast<sockaddr*>(&name), &nl), SyscallSucceeds());
  ASSERT_EQ(nl, kPathOff + 6);
  EXPECT_EQ(name.sun_path[0], '\0');
  for (int i = 1; i < 6; ++i) EXPECT_TRUE(isxdigit(name.sun_path[i])) << i;
  // An unbound socket's name is its family alone.
  FileDescriptor u = Sock(SOCK_STREAM);
  nl = sizeof(name);
  ASSERT_THAT(getsockname(u.get(), reinterpret_cast<sockaddr*>(&name), &nl), SyscallSucceeds());
  EXPECT_EQ(nl, sizeof(sa_family_t));
}

TEST(UnixSocketTest, DatagramsWithAddresses) {
  std::string base = UniqueAbstract("dg");
  Addr ra = AbstractAddr(base + "r"), sa = AbstractAddr(base + "s");
  FileDescriptor r = Sock(SOCK_DGRAM), s = Sock(SOCK_DGRAM);
  ASSERT_THAT(bind(r.get(), ra.sa(), ra.len), SyscallSucceeds());
  ASSERT_THAT(bind(s.get(), sa.sa(), sa.len), SyscallSucceeds());
  EXPECT_THAT(sendto(s.get(), "hello", 5, 0, ra.sa(), ra.len), SyscallSucceedsWithValue(5));
  EXPECT_THAT(sendto(s.get(), "abc", 3, 0, ra.sa(), ra.len), SyscallSucceedsWithValue(3));
  EXPECT_THAT(sendto(s.get(), "", 0, 0, ra.sa(), ra.len), SyscallSucceedsWithValue(0));

  int n = 0;
  ASSERT_THAT(ioctl(r.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, 5);  // the next datagram
  char buf[16] = {};
  sockaddr_un from = {};
  socklen_t fl = sizeof(from);
  EXPECT_THAT(recvfrom(r.get(), buf, 2, MSG_PEEK, reinterpret_cast<sockaddr*>(&from), &fl),
              SyscallSucceedsWithValue(2));
  EXPECT_EQ(fl, sa.len);
  EXPECT_EQ(memcmp(&from, &sa.sun, sa.len), 0);
  // MSG_TRUNC returns the datagram's real length; the rest is dropped.
  EXPECT_THAT(recv(r.get(), buf, 2, MSG_TRUNC), SyscallSucceedsWithValue(5));
  iovec iov = {buf, 2};
  msghdr m = {};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  EXPECT_THAT(recvmsg(r.get(), &m, 0), SyscallSucceedsWithValue(2));
  EXPECT_EQ(m.msg_flags & MSG_TRUNC, MSG_TRUNC);
  EXPECT_THAT(recv(r.get(), buf, sizeof(buf), 0), SyscallSucceedsWithValue(0));
  EXPECT_THAT(recv(r.get(), buf, sizeof(buf), MSG_DONTWAIT), SyscallFailsWithErrno(EAGAIN));

  // An unbound sender has no address to report.
  FileDescriptor anon = Sock(SOCK_DGRAM);
  EXPECT_THAT(sendto(anon.get(), "q", 1, 0, ra.sa(), ra.len), SyscallSucceedsWithValue(1));
  fl = sizeof(from);
  EXPECT_THAT(recvfrom(r.get(), buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &fl),
              SyscallSucceedsWithValue(1));
  EXPECT_EQ(fl, 0u);

  EXPECT_THAT(send(anon.get(), "q", 1, 0), SyscallFailsWithErrno(ENOTCONN));
  Addr nobody = AbstractAddr(base + "nobody");
  EXPECT_THAT(sendto(anon.get(), "q", 1, 0, nobody.sa(), nobody.len),
              SyscallFailsWithErrno(ECONNREFUSED));
  std::string big(300000, 'x');
  EXPECT_THAT(sendto(anon.get(), big.data(), big.size(), 0, ra.sa(), ra.len),
              SyscallFailsWithErrno(EMSGSIZE));
}

TEST(UnixSocketTest, ConnectedDatagrams) {
  std::string base = UniqueAbstract("cdg");
  Addr ra = AbstractAddr(base + "r"), oa = AbstractAddr(base + "o");
  FileDescriptor r = Sock(SOCK_DGRAM), s = Sock(SOCK_DGRAM), o = Sock(SOCK_DGRAM);
  ASSERT_THAT(bind(r.get(), ra.sa(), ra.len), SyscallSucceeds());
  ASSERT_THAT(bind(o.get(), oa.sa(), oa.len), SyscallSucceeds());
  ASSERT_THAT(connect(s.get(), ra.sa(), ra.len), SyscallSucceeds());
  EXPECT_THAT(send(s.get(), "one", 3, 0), SyscallSucceedsWithValue(3));
  char buf[8];
  EXPECT_THAT(recv(r.get(), buf, sizeof(buf), 0), SyscallSucceedsWithValue(3));

  // A socket connected to someone else takes nothing from us.
  ASSERT_THAT(connect(r.get(), oa.sa(), oa.len), SyscallSucceeds());
  EXPECT_THAT(send(s.get(), "two", 3, 0), SyscallFailsWithErrno(EPERM));
  // AF_UNSPEC dissolves the association.
  sockaddr unspec = {};
  unspec.sa_family = AF_UNSPEC;
  ASSERT_THAT(connect(r.get(), &unspec, sizeof(unspec)), SyscallSucceeds());
  EXPECT_THAT(send(s.get(), "two", 3, 0), SyscallSucceedsWithValue(3));

  // The peer went away: the next send is refused.
  r.reset();
  EXPECT_THAT(send(s.get(), "three", 5, 0), SyscallFailsWithErrno(ECONNREFUSED));
}

TEST(UnixSocketTest, DatagramSocketpairAndMmsg) {
  int sv[2];
  ASSERT_THAT(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), SyscallSucceeds());
  FileDescriptor a(sv[0]), b(sv[1]);
  char m1[] = "first", m2[] = "second!";
  iovec iov[2] = {{m1, 5}, {m2, 7}};
  mmsghdr out[2] = {};
  out[0].msg_hdr.msg_iov = &iov[0];
  out[0].msg_hdr.msg_iovlen = 1;
  out[1].msg_hdr.msg_iov = &iov[1];
  out[1].msg_hdr.msg_iovlen = 1;
  ASSERT_THAT(sendmmsg(a.get(), out, 2, 0), SyscallSucceedsWithValue(2));
  EXPECT_EQ(out[0].msg_len, 5u);
  EXPECT_EQ(out[1].msg_len, 7u);
  char r1[16] = {}, r2[16] = {};
  iovec riov[2] = {{r1, sizeof(r1)}, {r2, sizeof(r2)}};
  mmsghdr in[2] = {};
  in[0].msg_hdr.msg_iov = &riov[0];
  in[0].msg_hdr.msg_iovlen = 1;
  in[1].msg_hdr.msg_iov = &riov[1];
  in[1].msg_hdr.msg_iovlen = 1;
  ASSERT_THAT(recvmmsg(b.get(), in, 2, MSG_DONTWAIT, nullptr), SyscallSucceedsWithValue(2));
  EXPECT_EQ(in[0].msg_len, 5u);
  EXPECT_EQ(in[1].msg_len, 7u);
  EXPECT_STREQ(r1, "first");
  EXPECT_STREQ(r2, "second!");
  EXPECT_THAT(recvmmsg(b.get(), in, 2, MSG_DONTWAIT, nullptr), SyscallFailsWithErrno(EAGAIN));
}

// Sends `fds` with `data` over `s`.
ssize_t SendFds(int s, const std::vector<int>& fds, const char* data, size_t len) {
  std::vector<char> ctl(CMSG_SPACE(sizeof(int) * fds.size()));
  iovec iov = {const_cast<char*>(data), len};
  msghdr m = {};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = ctl.data();
  m.msg_controllen = ctl.size();
  cmsghdr* c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
  memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  return sendmsg(s, &m, 0);
}

struct Received {
  ssize_t n = -1;
  std::string data;
  std::vector<int> fds;
  int flags = 0;
};

Received RecvFds(int s, size_t data_cap, size_t ctl_cap, int flags = 0) {
  Received r;
  std::vector<char> buf(data_cap), ctl(ctl_cap);
  iovec iov = {buf.data(), buf.size()};
  msghdr m = {};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = ctl_cap ? ctl.data() : nullptr;
  m.msg_controllen = ctl_cap;
  r.n = recvmsg(s, &m, flags);
  if (r.n < 0) return r;
  r.data.assign(buf.data(), r.n);
  r.flags = m.msg_flags;
  for (cmsghdr* c = CMSG_FIRSTHDR(&m); c != nullptr; c = CMSG_NXTHDR(&m, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < k; ++i) {
        int fd;
        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
        r.fds.push_back(fd);
      }
    }
  }
  return r;
}

TEST(UnixSocketTest, PassesFileDescriptors) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    SCOPED_TRACE(type);
    int sv[2];
    ASSERT_THAT(socketpair(AF_UNIX, type, 0, sv), SyscallSucceeds());
    FileDescriptor a(sv[0]), b(sv[1]);
    Pipe p = MakePipe();
    ASSERT_THAT(SendFds(a.get(), {p.write_end.get()}, "x", 1), SyscallSucceedsWithValue(1));
    p.write_end.reset();  // the message holds the pipe's write end open
    Received r = RecvFds(b.get(), 8, CMSG_SPACE(sizeof(int)), MSG_CMSG_CLOEXEC);
    ASSERT_EQ(r.n, 1);
    ASSERT_EQ(r.fds.size(), 1u);
    FileDescriptor got(r.fds[0]);
    EXPECT_THAT(fcntl(got.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
    EXPECT_THAT(write(got.get(), "via", 3), SyscallSucceedsWithValue(3));
    got.reset();
    EXPECT_EQ(ReadAll(p.read_end.get()), "via");
  }
}

TEST(UnixSocketTest, RightsTruncatedAndBadFds) {
  int sv[2];
  ASSERT_THAT(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), SyscallSucceeds());
  FileDescriptor a(sv[0]), b(sv[1]);
  Pipe p = MakePipe();
  ASSERT_THAT(SendFds(a.get(), {p.read_end.get(), p.write_end.get(), p.write_end.get()}, "y", 1),
              SyscallSucceedsWithValue(1));
  // Room for one fd only (CMSG_SPACE would leave room for a second one):
  // the others are closed and MSG_CTRUNC is set.
  Received r = RecvFds(b.get(), 8, CMSG_LEN(sizeof(int)));
  ASSERT_EQ(r.n, 1);
  EXPECT_EQ(r.fds.size(), 1u);
  EXPECT_EQ(r.flags & MSG_CTRUNC, MSG_CTRUNC);
  for (int fd : r.fds) close(fd);
  // No control buffer at all.
  ASSERT_THAT(SendFds(a.get(), {p.read_end.get()}, "z", 1), SyscallSucceedsWithValue(1));
  r = RecvFds(b.get(), 8, 0);
  ASSERT_EQ(r.n, 1);
  EXPECT_TRUE(r.fds.empty());
  EXPECT_EQ(r.flags & MSG_CTRUNC, MSG_CTRUNC);

  EXPECT_THAT(SendFds(a.get(), {9999}, "w", 1), SyscallFailsWithErrno(EBADF));
  std::vector<int> many(254, p.read_end.get());
  EXPECT_THAT(SendFds(a.get(), many, "w", 1), SyscallFailsWithErrno(EINVAL));
}

TEST(UnixSocketTest, StreamReadStopsAfterRights) {
  int sv[2];
  ASSERT_THAT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), SyscallSucceeds());
  FileDescriptor a(sv[0]), b(sv[1]);
  Pipe p = MakePipe();
  ASSERT_THAT(write(a.get(), "12", 2), SyscallSucceedsWithValue(2));
  ASSERT_THAT(SendFds(a.get(), {p.read_end.get()}, "ab", 2), SyscallSucceedsWithValue(2));
  ASSERT_THAT(write(a.get(), "cd", 2), SyscallSucceedsWithValue(2));
  // Bytes before the rights merge into the read; the read ends with the
  // message that carried them.
  Received r = RecvFds(b.get(), 16, CMSG_SPACE(sizeof(int)));
  EXPECT_EQ(r.data, "12ab");
  ASSERT_EQ(r.fds.size(), 1u);
  close(r.fds[0]);
  r = RecvFds(b.get(), 16, CMSG_SPACE(sizeof(int)));
  EXPECT_EQ(r.data, "cd");
  EXPECT_TRUE(r.fds.empty());
}

TEST(UnixSocketTest, Credentials) {
  int sv[2];
  ASSERT_THAT(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), SyscallSucceeds());
  FileDescriptor a(sv[0]), b(sv[1]);
  int one = 1;
  ASSERT_THAT(setsockopt(b.get(), SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)), SyscallSucceeds());
  ASSERT_THAT(write(a.get(), "c", 1), SyscallSucceedsWithValue(1));
  char buf[4];
  char ctl[CMSG_SPACE(sizeof(ucred))];
  iovec iov = {buf, sizeof(buf)};
  msghdr m = {};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = ctl;
  m.msg_controllen = sizeof(ctl);
  ASSERT_THAT(recvmsg(b.get(), &m, 0), SyscallSucceedsWithValue(1));
  cmsghdr* c = CMSG_FIRSTHDR(&m);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->cmsg_type, SCM_CREDENTIALS);
  ucred cr;
  memcpy(&cr, CMSG_DATA(c), sizeof(cr));
  EXPECT_EQ(cr.pid, getpid());
  EXPECT_EQ(cr.uid, getuid());
  EXPECT_EQ(cr.gid, getgid());

  // Claiming another identity needs privileges.
  EXPECT_THAT(ForkAndWait([&] {
                DropPrivilegesInChild();
                char cbuf[CMSG_SPACE(sizeof(ucred))] = {};
                iovec ciov = {const_cast<char*>("d"), 1};
                msghdr cm = {};
                cm.msg_iov = &ciov;
                cm.msg_iovlen = 1;
                cm.msg_control = cbuf;
                cm.msg_controllen = sizeof(cbuf);
                cmsghdr* h = CMSG_FIRSTHDR(&cm);
                h->cmsg_level = SOL_SOCKET;
                h->cmsg_type = SCM_CREDENTIALS;
                h->cmsg_len = CMSG_LEN(sizeof(ucred));
                ucred fake = {1, 0, 0};
                memcpy(CMSG_DATA(h), &fake, sizeof(fake));
                TEST_CHECK_ERRNO(sendmsg(a.get(), &cm, 0), EPERM);
                ucred mine = {getpid(), getuid(), getgid()};
                memcpy(CMSG_DATA(h), &mine, sizeof(mine));
                TEST_CHECK_VALUE(sendmsg(a.get(), &cm, 0), 1);
              }),
              ExitedWithCode(0));
}

TEST(UnixSocketTest, AcceptedSocketInheritsPasscred) {
  Addr a = AbstractAddr(UniqueAbstract("inh"));
  FileDescriptor l = Sock(SOCK_STREAM);
  int one = 1;
  ASSERT_THAT(setsockopt(l.get(), SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)), SyscallSucceeds());
  ASSERT_THAT(bind(l.get(), a.sa(), a.len), SyscallSucceeds());
  ASSERT_THAT(listen(l.get(), 1), SyscallSucceeds());
  FileDescriptor c = Connected(a);
  int fd;
  ASSERT_THAT(fd = accept(l.get(), nullptr, nullptr), SyscallSucceeds());
  FileDescriptor s(fd);
  int v = -1;
  socklen_t len = sizeof(v);
  ASSERT_THAT(getsockopt(s.get(), SOL_SOCKET, SO_PASSCRED, &v, &len), SyscallSucceeds());
  EXPECT_EQ(v, 1);
  ASSERT_THAT(getsockopt(c.get(), SOL_SOCKET, SO_PASSCRED, &v, &len), SyscallSucceeds());
  EXPECT_EQ(v, 0);
}

TEST(UnixSocketTest, PeerCredentialsOfAConnection) {
  std::string n = UniqueAbstract("pc");
  Addr a = AbstractAddr(n);
  FileDescriptor l = Listener(a);
  pid_t child = fork();
  if (child == 0) {
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    TEST_CHECK_SUCCESS(connect(c, a.sa(), a.len));
    ucred cr;
    socklen_t len = sizeof(cr);
    TEST_CHECK_SUCCESS(getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &len));
    TEST_CHECK(cr.pid == getppid());
    char ch;
    TEST_CHECK_VALUE(read(c, &ch, 1), 1);  // wait until the parent looked
    _exit(0);
  }
  ScopedChild guard(child);
  int afd;
  ASSERT_THAT(afd = accept(l.get(), nullptr, nullptr), SyscallSucceeds());
  FileDescriptor acc(afd);
  ucred cr;
  socklen_t len = sizeof(cr);
  ASSERT_THAT(getsockopt(acc.get(), SOL_SOCKET, SO_PEERCRED, &cr, &len), SyscallSucceeds());
  EXPECT_EQ(cr.pid, child);
  EXPECT_EQ(cr.uid, getuid());
  ASSERT_THAT(write(acc.get(), "k", 1), SyscallSucceedsWithValue(1));
  EXPECT_THAT(guard.Wait(), ExitedWithCode(0));

  // No peer: pid 0 and ids -1.
  FileDescriptor u = Sock(SOCK_STREAM);
  len = sizeof(cr);
  ASSERT_THAT(getsockopt(u.get(), SOL_SOCKET, SO_PEERCRED, &cr, &len), SyscallSucceeds());
  EXPECT_EQ(cr.pid, 0);
  EXPECT_EQ(cr.uid, static_cast<uid_t>(-1));
}

TEST(UnixSocketTest, BacklogLimitsPendingConnections) {
  std::string n = UniqueAbstract("bl");
  Addr a = AbstractAddr(n);
  FileDescriptor l = Listener(a, SOCK_STREAM, 0);
  // Backlog 0 still admits one pending connection.
  FileDescriptor c1 = Connected(a);
  FileDescriptor c2 = Sock(SOCK_STREAM | SOCK_NONBLOCK);
  EXPECT_THAT(connect(c2.get(), a.sa(), a.len), SyscallFailsWithErrno(EAGAIN));
  pollfd pfd = {l.get(), POLLIN, 0};
  EXPECT_THAT(poll(&pfd, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(pfd.revents, POLLIN);

  // A blocking connect waits until accept makes room.
  std::thread acceptor([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    int fd = accept(l.get(), nullptr, nullptr);
    if (fd >= 0) close(fd);
  });
  FileDescriptor c3 = Sock(SOCK_STREAM);
  auto start = std::chrono::steady_clock::now();
  EXPECT_THAT(connect(c3.get(), a.sa(), a.len), SyscallSucceeds());
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
  acceptor.join();
}

TEST(UnixSocketTest, ResetsAndHangups) {
  // A listener closed with a connection nobody accepted resets it.
  std::string n = UniqueAbstract("rs");
  Addr a = AbstractAddr(n);
  FileDescriptor l = Listener(a);
  FileDescriptor c = Connected(a);
  l.reset();
  char ch;
  EXPECT_THAT(recv(c.get(), &ch, 1, 0), SyscallFailsWithErrno(ECONNRESET));
  EXPECT_THAT(recv(c.get(), &ch, 1, 0), SyscallSucceedsWithValue(0));

  // Closing with unread data resets the peer too.
  int sv[2];
  ASSERT_THAT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), SyscallSucceeds());
  FileDescriptor x(sv[0]), y(sv[1]);
  ASSERT_THAT(write(x.get(), "u", 1), SyscallSucceedsWithValue(1));
  y.reset();
  pollfd pfd = {x.get(), POLLIN | POLLOUT, 0};
  ASSERT_THAT(poll(&pfd, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(pfd.revents & (POLLHUP | POLLERR | POLLIN), POLLHUP | POLLERR | POLLIN);
  int err = 0;
  socklen_t el = sizeof(err);
  ASSERT_THAT(getsockopt(x.get(), SOL_SOCKET, SO_ERROR, &err, &el), SyscallSucceeds());
  EXPECT_EQ(err, ECONNRESET);
  EXPECT_THAT(recv(x.get(), &ch, 1, 0), SyscallSucceedsWithValue(0));

  // An unconnected stream socket polls as writable and hung up.
  FileDescriptor u = Sock(SOCK_STREAM);
  pfd = {u.get(), POLLIN | POLLOUT, 0};
  ASSERT_THAT(poll(&pfd, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(pfd.revents, POLLOUT | POLLHUP);
}

TEST(UnixSocketTest, SeqpacketOverNames) {
  std::string n = UniqueAbstract("sp");
  Addr a = AbstractAddr(n);
  FileDescriptor l = Listener(a, SOCK_SEQPACKET);
  FileDescriptor c = Connected(a, SOCK_SEQPACKET);
  int afd;
  ASSERT_THAT(afd = accept4(l.get(), nullptr, nullptr, SOCK_NONBLOCK), SyscallSucceeds());
  FileDescriptor acc(afd);
  EXPECT_THAT(fcntl(acc.get(), F_GETFL) & O_NONBLOCK, O_NONBLOCK);
  ASSERT_THAT(send(c.get(), "12345", 5, 0), SyscallSucceedsWithValue(5));
  ASSERT_THAT(send(c.get(), "67", 2, 0), SyscallSucceedsWithValue(2));
  char buf[8];
  EXPECT_THAT(recv(acc.get(), buf, 3, 0), SyscallSucceedsWithValue(3));
  EXPECT_THAT(recv(acc.get(), buf, sizeof(buf), 0), SyscallSucceedsWithValue(2));
  EXPECT_THAT(recv(acc.get(), buf, sizeof(buf), 0), SyscallFailsWithErrno(EAGAIN));
  FileDescriptor unconnected = Sock(SOCK_SEQPACKET);
  EXPECT_THAT(send(unconnected.get(), "x", 1, MSG_NOSIGNAL), SyscallFailsWithErrno(ENOTCONN));
  EXPECT_THAT(recv(unconnected.get(), buf, 1, MSG_DONTWAIT), SyscallFailsWithErrno(ENOTCONN));
}

TEST(UnixSocketTest, BuffersAndTimeouts) {
  FileDescriptor s = Sock(SOCK_STREAM);
  int v = 10000;
  ASSERT_THAT(setsockopt(s.get(), SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)), SyscallSucceeds());
  socklen_t len = sizeof(v);
  ASSERT_THAT(getsockopt(s.get(), SOL_SOCKET, SO_SNDBUF, &v, &len), SyscallSucceeds());
  EXPECT_EQ(v, 20000);  // doubled for bookkeeping, as Linux does
  EXPECT_THAT(setsockopt(s.get(), SOL_SOCKET, SO_SNDBUF, &v, 2), SyscallFailsWithErrno(EINVAL));

  int sv[2];
  ASSERT_THAT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), SyscallSucceeds());
  FileDescriptor a(sv[0]), b(sv[1]);
  timeval tv = {0, 100000};
  ASSERT_THAT(setsockopt(a.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), SyscallSucceeds());
  timeval got = {};
  len = sizeof(got);
  ASSERT_THAT(getsockopt(a.get(), SOL_SOCKET, SO_RCVTIMEO, &got, &len), SyscallSucceeds());
  EXPECT_EQ(got.tv_sec, 0);
  EXPECT_EQ(got.tv_usec, 100000);
  auto start = std::chrono::steady_clock::now();
  char ch;
  EXPECT_THAT(recv(a.get(), &ch, 1, 0), SyscallFailsWithErrno(EAGAIN));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(90));
  tv.tv_usec = 1000000;
  EXPECT_THAT(setsockopt(a.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)),
              SyscallFailsWithErrno(EDOM));

  // Stored options read back as set, booleans as 0/1.
  v = 5;
  ASSERT_THAT(setsockopt(a.get(), SOL_SOCKET, SO_KEEPALIVE, &v, sizeof(v)), SyscallSucceeds());
  len = sizeof(v);
  ASSERT_THAT(getsockopt(a.get(), SOL_SOCKET, SO_KEEPALIVE, &v, &len), SyscallSucceeds());
  EXPECT_EQ(v, 1);
}

TEST(UnixSocketTest, ProcessesTalkThroughAPath) {
  TempPath dir = TempPath::Dir();
  Addr a = PathAddr(dir.Child("p.sock"));
  FileDescriptor l = Listener(a);
  pid_t child = fork();
  if (child == 0) {
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    TEST_CHECK_SUCCESS(connect(c, a.sa(), a.len));
    std::string big(1 << 20, 'm');
    size_t off = 0;
    while (off < big.size()) {
      ssize_t n = write(c, big.data() + off, big.size() - off);
      TEST_CHECK(n > 0);
      off += n;
    }
    _exit(0);
  }
  ScopedChild guard(child);
  int afd;
  ASSERT_THAT(afd = accept(l.get(), nullptr, nullptr), SyscallSucceeds());
  FileDescriptor acc(afd);
  std::string got = ReadAll(acc.get());
  EXPECT_EQ(got.size(), 1u << 20);
  EXPECT_EQ(got.find_first_not_of('m'), std::string::npos);
  EXPECT_THAT(guard.Wait(), ExitedWithCode(0));
}

}  // namespace
}  // namespace systest
