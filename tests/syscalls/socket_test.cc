// socketpair(2) with AF_UNIX SOCK_STREAM / SOCK_SEQPACKET and the calls on
// its ends: send/recv/sendmsg/recvmsg, shutdown, getsockopt, getsockname,
// poll, and the errors of socket calls on other files.

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <string>
#include <thread>

#include "tests/syscalls/test_util.h"

namespace systest {
namespace {

struct SockPair {
  FileDescriptor a, b;
};

SockPair MakePair(int type) {
  int sv[2];
  if (socketpair(AF_UNIX, type, 0, sv) != 0) {
    ADD_FAILURE() << "socketpair: " << strerror(errno);
    return {};
  }
  return {FileDescriptor(sv[0]), FileDescriptor(sv[1])};
}

TEST(SocketpairTest, StreamCarriesBytesBothWays) {
  SockPair p = MakePair(SOCK_STREAM);
  EXPECT_THAT(write(p.a.get(), "hello", 5), SyscallSucceedsWithValue(5));
  EXPECT_THAT(send(p.b.get(), "world!", 6, 0), SyscallSucceedsWithValue(6));
  char buf[16] = {};
  EXPECT_THAT(read(p.b.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(5));
  EXPECT_EQ(std::string(buf, 5), "hello");
  EXPECT_THAT(recv(p.a.get(), buf, 3, 0), SyscallSucceedsWithValue(3));
  EXPECT_EQ(std::string(buf, 3), "wor");
  EXPECT_THAT(recv(p.a.get(), buf, sizeof(buf), 0), SyscallSucceedsWithValue(3));
  EXPECT_EQ(std::string(buf, 3), "ld!");
}

TEST(SocketpairTest, SeqpacketKeepsBoundariesAndTruncates) {
  SockPair p = MakePair(SOCK_SEQPACKET);
  ASSERT_THAT(send(p.a.get(), "first", 5, 0), SyscallSucceeds());
  ASSERT_THAT(send(p.a.get(), "second", 6, 0), SyscallSucceeds());
  char buf[16] = {};
  EXPECT_THAT(recv(p.b.get(), buf, 3, 0), SyscallSucceedsWithValue(3));
  EXPECT_EQ(std::string(buf, 3), "fir");
  // The rest of "first" is gone; the next message comes whole.
  EXPECT_THAT(recv(p.b.get(), buf, sizeof(buf), 0), SyscallSucceedsWithValue(6));
  EXPECT_EQ(std::string(buf, 6), "second");
}

TEST(SocketpairTest, EndOfFileAndBrokenPipe) {
  SockPair p = MakePair(SOCK_STREAM);
  ASSERT_THAT(write(p.a.get(), "x", 1), SyscallSucceeds());
  p.a.reset();
  char c;
  EXPECT_THAT(read(p.b.get(), &c, 1), SyscallSucceedsWithValue(1));
  EXPECT_THAT(read(p.b.get(), &c, 1), SyscallSucceedsWithValue(0));
  // MSG_NOSIGNAL: EPIPE without SIGPIPE.
  EXPECT_THAT(send(p.b.get(), "y", 1, MSG_NOSIGNAL), SyscallFailsWithErrno(EPIPE));
  // Otherwise SIGPIPE (here ignored) and EPIPE.
  struct sigaction ign = {}, old;
  ign.sa_handler = SIG_IGN;
  ASSERT_THAT(sigaction(SIGPIPE, &ign, &old), SyscallSucceeds());
  EXPECT_THAT(write(p.b.get(), "y", 1), SyscallFailsWithErrno(EPIPE));
  sigaction(SIGPIPE, &old, nullptr);
  EXPECT_THAT(ForkAndWait([&] {
    ssize_t r = write(p.b.get(), "y", 1);
    (void)r;
    _exit(0);
  }),
              KilledBySignal(SIGPIPE));
}

TEST(SocketpairTest, NonblockingAndDontwait) {
  SockPair p = MakePair(SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC);
  char c;
  EXPECT_THAT(read(p.a.get(), &c, 1), SyscallFailsWithErrno(EAGAIN));
  EXPECT_THAT(fcntl(p.a.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  EXPECT_TRUE(fcntl(p.a.get(), F_GETFL) & O_NONBLOCK);
  SockPair q = MakePair(SOCK_STREAM);
  EXPECT_THAT(recv(q.a.get(), &c, 1, MSG_DONTWAIT), SyscallFailsWithErrno(EAGAIN));
}

TEST(SocketpairTest, ShutdownWriteGivesThePeerEndOfFile) {
  SockPair p = MakePair(SOCK_STREAM);
  ASSERT_THAT(shutdown(p.a.get(), SHUT_WR), SyscallSucceeds());
  char c;
  EXPECT_THAT(read(p.b.get(), &c, 1), SyscallSucceedsWithValue(0));
  EXPECT_THAT(send(p.a.get(), "x", 1, MSG_NOSIGNAL), SyscallFailsWithErrno(EPIPE));
  // The other direction still works.
  ASSERT_THAT(write(p.b.get(), "z", 1), SyscallSucceeds());
  EXPECT_THAT(read(p.a.get(), &c, 1), SyscallSucceedsWithValue(1));
  struct pollfd pfd = {p.b.get(), POLLIN | POLLRDHUP, 0};
  ASSERT_THAT(poll(&pfd, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(pfd.revents, POLLIN | POLLRDHUP);
  EXPECT_THAT(shutdown(p.a.get(), 7), SyscallFailsWithErrno(EINVAL));
}

TEST(SocketpairTest, PollReadinessAndHangup) {
  SockPair p = MakePair(SOCK_STREAM);
  struct pollfd pfd = {p.a.get(), POLLIN | POLLOUT, 0};
  ASSERT_THAT(poll(&pfd, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(pfd.revents, POLLOUT);
  ASSERT_THAT(write(p.b.get(), "x", 1), SyscallSucceeds());
  ASSERT_THAT(poll(&pfd, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(pfd.revents, POLLIN | POLLOUT);
  p.b.reset();
  ASSERT_THAT(poll(&pfd, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(pfd.revents, POLLIN | POLLOUT | POLLHUP);
}

TEST(SocketpairTest, OptionsNamesAndStat) {
  SockPair p = MakePair(SOCK_SEQPACKET);
  int v = 0;
  socklen_t len = sizeof(v);
  ASSERT_THAT(getsockopt(p.a.get(), SOL_SOCKET, SO_TYPE, &v, &len), SyscallSucceeds());
  EXPECT_EQ(v, SOCK_SEQPACKET);
  EXPECT_EQ(len, sizeof(int));
  ASSERT_THAT(getsockopt(p.a.get(), SOL_SOCKET, SO_DOMAIN, &v, &len), SyscallSucceeds());
  EXPECT_EQ(v, AF_UNIX);
  ASSERT_THAT(getsockopt(p.a.get(), SOL_SOCKET, SO_ERROR, &v, &len), SyscallSucceeds());
  EXPECT_EQ(v, 0);
  struct ucred cred = {};
  len = sizeof(cred);
  ASSERT_THAT(getsockopt(p.b.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len), SyscallSucceeds());
  EXPECT_EQ(cred.pid, getpid());
  EXPECT_EQ(cred.uid, geteuid());
  len = sizeof(v);
  EXPECT_THAT(getsockopt(p.a.get(), SOL_SOCKET, 12345, &v, &len),
              SyscallFailsWithErrno(ENOPROTOOPT));
  struct sockaddr_un addr = {};
  len = sizeof(addr);
  ASSERT_THAT(getsockname(p.a.get(), reinterpret_cast<sockaddr*>(&addr), &len),
              SyscallSucceeds());
  EXPECT_EQ(len, sizeof(sa_family_t));
  EXPECT_EQ(addr.sun_family, AF_UNIX);
  struct stat st;
  ASSERT_THAT(fstat(p.a.get(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  std::string link = FdLink(p.a.get());
  EXPECT_EQ(link.rfind("socket:[", 0), 0u) << link;
}

TEST(SocketpairTest, Errors) {
  int sv[2];
  EXPECT_THAT(socketpair(AF_INET, SOCK_STREAM, 0, sv), SyscallFailsWithErrno(EOPNOTSUPP));
  EXPECT_THAT(socketpair(AF_UNIX, SOCK_STREAM | 0x100000, 0, sv), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(socketpair(AF_UNIX, SOCK_STREAM, 5, sv), SyscallFailsWithErrno(EPROTONOSUPPORT));
  EXPECT_THAT(socketpair(AF_UNIX, SOCK_STREAM, 0, Opaque<int*>(nullptr)),
              SyscallFailsWithErrno(EFAULT));
  Pipe pp = MakePipe();
  char c = 0;
  EXPECT_THAT(send(pp.write_end.get(), &c, 1, 0), SyscallFailsWithErrno(ENOTSOCK));
  EXPECT_THAT(recv(-1, &c, 1, 0), SyscallFailsWithErrno(EBADF));
  SockPair p = MakePair(SOCK_STREAM);
  struct sockaddr_un to = {};
  to.sun_family = AF_UNIX;
  EXPECT_THAT(sendto(p.a.get(), &c, 1, 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)),
              SyscallFailsWithErrno(EISCONN));
  EXPECT_THAT(listen(p.a.get(), 1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(accept(p.a.get(), nullptr, nullptr), SyscallFailsWithErrno(EINVAL));
}

TEST(SocketpairTest, MsgCallsAndWaitall) {
  SockPair p = MakePair(SOCK_STREAM);
  char part1[] = "ab", part2[] = "cde";
  struct iovec out[2] = {{part1, 2}, {part2, 3}};
  struct msghdr m = {};
  m.msg_iov = out;
  m.msg_iovlen = 2;
  EXPECT_THAT(sendmsg(p.a.get(), &m, 0), SyscallSucceedsWithValue(5));
  std::thread late([&] {
    usleep(50000);
    ASSERT_EQ(write(p.a.get(), "fgh", 3), 3);
  });
  char in[8] = {};
  struct iovec iv = {in, 8};
  struct msghdr r = {};
  r.msg_iov = &iv;
  r.msg_iovlen = 1;
  r.msg_controllen = 0;
  EXPECT_THAT(recvmsg(p.b.get(), &r, MSG_WAITALL), SyscallSucceedsWithValue(8));
  EXPECT_EQ(std::string(in, 8), "abcdefgh");
  EXPECT_EQ(r.msg_flags, 0);
  late.join();
}

TEST(SocketpairTest, AnotherProcessWakesABlockedReader) {
  SockPair p = MakePair(SOCK_STREAM);
  pid_t child = fork();
  ASSERT_THAT(child, SyscallSucceeds());
  if (child == 0) {
    usleep(50000);
    _exit(send(p.b.get(), "ping", 4, 0) == 4 ? 0 : 1);
  }
  char buf[8];
  EXPECT_THAT(recv(p.a.get(), buf, sizeof(buf), 0), SyscallSucceedsWithValue(4));
  EXPECT_THAT(WaitForStatus(child), ExitedWithCode(0));
}

}  // namespace
}  // namespace systest
