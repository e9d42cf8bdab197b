// Pseudo-terminals: /dev/ptmx and devpts (posix_openpt, grantpt, unlockpt,
// ptsname, TIOCGPTN, TIOCSPTLCK, TIOCGPTPEER), the line discipline
// (termios(3): canonical editing, echo, input and output processing,
// VMIN/VTIME, the signal characters), window sizes, and terminal job
// control (tty_ioctl(4), credentials(7)): controlling terminals, the
// foreground process group, SIGTTIN/SIGTTOU, hangups.
//
// Linux hands what the master writes to the line discipline from a work
// queue, so the tests wait for input with poll() rather than expecting it
// the moment write() returns.

#include <poll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <termios.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/syscalls/test_util.h"

namespace systest {
namespace {

constexpr int kTimeoutMs = 5000;

struct Pty {
  FileDescriptor master;
  FileDescriptor replica;
  int index = -1;
  std::string name;
};

// A master with its replica open, both without acquiring a controlling
// terminal.
Pty OpenPty(int replica_flags = O_RDWR | O_NOCTTY) {
  Pty p;
  p.master = FileDescriptor(posix_openpt(O_RDWR | O_NOCTTY));
  if (p.master.get() < 0) ThrowErrno("posix_openpt");
  if (grantpt(p.master.get()) != 0) ThrowErrno("grantpt");
  if (unlockpt(p.master.get()) != 0) ThrowErrno("unlockpt");
  if (ioctl(p.master.get(), TIOCGPTN, &p.index) != 0) ThrowErrno("TIOCGPTN");
  p.name = ptsname(p.master.get());
  p.replica = OpenOrThrow(p.name, replica_flags);
  return p;
}

// Waits up to `ms` for `events` on `fd`; returns revents (0 on timeout).
short WaitFor(int fd, short events, int ms = kTimeoutMs) {
  struct pollfd p = {fd, events, 0};
  int r = poll(&p, 1, ms);
  return r > 0 ? p.revents : 0;
}

// Reads from `fd` until `want` bytes arrived or nothing more comes.
std::string ReadFor(int fd, size_t want, int ms = kTimeoutMs) {
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (out.size() < want) {
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    deadline - std::chrono::steady_clock::now())
                                    .count());
    if (left <= 0 || !(WaitFor(fd, POLLIN, left) & POLLIN)) break;
    char buf[8192];
    ssize_t n = read(fd, buf, std::min(sizeof(buf), want - out.size()));
    if (n <= 0) break;
    out.append(buf, n);
  }
  return out;
}

// Everything the master can read within a short while.
std::string DrainMaster(int fd) {
  std::string out;
  while (WaitFor(fd, POLLIN, 200) & POLLIN) {
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, n);
  }
  return out;
}

struct termios GetAttr(int fd) {
  struct termios t;
  if (tcgetattr(fd, &t) != 0) ThrowErrno("tcgetattr");
  return t;
}

void SetAttr(int fd, const struct termios& t) {
  if (tcsetattr(fd, TCSANOW, &t) != 0) ThrowErrno("tcsetattr");
}

// The devpts mount's options for new replicas: mode (default 0600) and
// gid (default the opener's).
void DevptsOptions(mode_t* mode, gid_t* gid) {
  *mode = 0600;
  *gid = getegid();
  std::ifstream in("/proc/self/mounts");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string src, dst, type, opts;
    ls >> src >> dst >> type >> opts;
    if (dst != "/dev/pts" || type != "devpts") continue;
    std::stringstream os(opts);
    std::string o;
    while (std::getline(os, o, ',')) {
      if (o.rfind("mode=", 0) == 0) *mode = std::stoul(o.substr(5), nullptr, 8);
      if (o.rfind("gid=", 0) == 0) *gid = std::stoul(o.substr(4));
    }
  }
}

// --- ptmx and devpts ---

TEST(PtyTest, ReplicaNode) {
  Pty p = OpenPty();
  EXPECT_EQ(p.name, "/dev/pts/" + std::to_string(p.index));
  struct stat st;
  ASSERT_THAT(stat(p.name.c_str(), &st), SyscallSucceeds());
  mode_t mode;
  gid_t gid;
  DevptsOptions(&mode, &gid);
  EXPECT_EQ(st.st_mode, S_IFCHR | mode);
  EXPECT_EQ(st.st_uid, geteuid());
  EXPECT_EQ(st.st_gid, gid);
  EXPECT_EQ(major(st.st_rdev), 136u);
  EXPECT_EQ(minor(st.st_rdev), static_cast<unsigned>(p.index));
  ASSERT_THAT(fstat(p.replica.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_rdev, makedev(136, p.index));
  // The master is the ptmx device.
  ASSERT_THAT(fstat(p.master.get(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(5, 2));
  EXPECT_THAT(isatty(p.master.get()), SyscallSucceedsWithValue(1));
  EXPECT_THAT(isatty(p.replica.get()), SyscallSucceedsWithValue(1));
}

TEST(PtyTest, PtmxNodes) {
  struct stat st;
  ASSERT_THAT(stat("/dev/ptmx", &st), SyscallSucceeds());
  EXPECT_EQ(st.st_rdev, makedev(5, 2));
  ASSERT_THAT(stat("/dev/pts/ptmx", &st), SyscallSucceeds());
  EXPECT_EQ(st.st_rdev, makedev(5, 2));
  struct statfs sf;
  ASSERT_THAT(statfs("/dev/pts", &sf), SyscallSucceeds());
  EXPECT_EQ(sf.f_type, 0x1cd1);  // DEVPTS_SUPER_MAGIC
}

TEST(PtyTest, NumbersAreDistinctAndListed) {
  Pty a = OpenPty();
  Pty b = OpenPty();
  EXPECT_NE(a.index, b.index);
  EXPECT_THAT(access(a.name.c_str(), F_OK), SyscallSucceeds());
  EXPECT_THAT(access("/dev/pts/999999", F_OK), SyscallFailsWithErrno(ENOENT));
}

TEST(PtyTest, LockedReplicaCannotBeOpened) {
  FileDescriptor m(posix_openpt(O_RDWR | O_NOCTTY));
  ASSERT_THAT(m.get(), SyscallSucceeds());
  int locked = -1;
  ASSERT_THAT(ioctl(m.get(), TIOCGPTLCK, &locked), SyscallSucceeds());
  EXPECT_EQ(locked, 1);  // ptmx starts locked
  std::string name = ptsname(m.get());
  EXPECT_THAT(open(name.c_str(), O_RDWR | O_NOCTTY), SyscallFailsWithErrno(EIO));
  EXPECT_THAT(ioctl(m.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY), SyscallFailsWithErrno(EIO));
  ASSERT_THAT(unlockpt(m.get()), SyscallSucceeds());
  ASSERT_THAT(ioctl(m.get(), TIOCGPTLCK, &locked), SyscallSucceeds());
  EXPECT_EQ(locked, 0);
  FileDescriptor r(open(name.c_str(), O_RDWR | O_NOCTTY));
  EXPECT_THAT(r.get(), SyscallSucceeds());
  EXPECT_THAT(write(r.get(), "x", 1), SyscallSucceedsWithValue(1));
  // Locking again keeps new opens out; a refused open leaves the open
  // replica files failing reads and writes (TTY_IO_ERROR), though ioctls
  // and the line discipline still work...
  int one = 1;
  ASSERT_THAT(ioctl(m.get(), TIOCSPTLCK, &one), SyscallSucceeds());
  EXPECT_THAT(open(name.c_str(), O_RDWR | O_NOCTTY), SyscallFailsWithErrno(EIO));
  EXPECT_THAT(write(r.get(), "x", 1), SyscallFailsWithErrno(EIO));
  char buf[8];
  EXPECT_THAT(read(r.get(), buf, sizeof(buf)), SyscallFailsWithErrno(EIO));
  struct termios t;
  EXPECT_THAT(ioctl(r.get(), TCGETS, &t), SyscallSucceeds());
  // ...until an open succeeds.
  int zero = 0;
  ASSERT_THAT(ioctl(m.get(), TIOCSPTLCK, &zero), SyscallSucceeds());
  FileDescriptor r2 = OpenOrThrow(name, O_RDWR | O_NOCTTY);
  EXPECT_THAT(write(r.get(), "y", 1), SyscallSucceedsWithValue(1));
}

TEST(PtyTest, Tiocgptpeer) {
  FileDescriptor m(posix_openpt(O_RDWR | O_NOCTTY));
  ASSERT_THAT(m.get(), SyscallSucceeds());
  ASSERT_THAT(unlockpt(m.get()), SyscallSucceeds());
  int n;
  ASSERT_THAT(ioctl(m.get(), TIOCGPTN, &n), SyscallSucceeds());
  FileDescriptor r(ioctl(m.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
  ASSERT_THAT(r.get(), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(fstat(r.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_rdev, makedev(136, n));
  EXPECT_THAT(fcntl(r.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  ASSERT_THAT(write(r.get(), "hi\n", 3), SyscallSucceedsWithValue(3));
  EXPECT_EQ(ReadFor(m.get(), 4), "hi\r\n");
}

TEST(PtyTest, MasterOnlyIoctls) {
  Pty p = OpenPty();
  int n;
  EXPECT_THAT(ioctl(p.replica.get(), TIOCGPTN, &n), SyscallFailsWithErrno(ENOTTY));
  int lock;
  EXPECT_THAT(ioctl(p.replica.get(), TIOCGPTLCK, &lock), SyscallFailsWithErrno(ENOTTY));
  EXPECT_THAT(ioctl(p.replica.get(), TIOCSPTLCK, &lock), SyscallFailsWithErrno(ENOTTY));
  EXPECT_THAT(ioctl(p.replica.get(), TIOCGPTPEER, O_RDWR), SyscallFailsWithErrno(EIO));
  EXPECT_THAT(ioctl(p.master.get(), TIOCGPTN, Opaque<int*>(nullptr)),
              SyscallFailsWithErrno(EFAULT));
  // Not terminals at all.
  FileDescriptor null = OpenOrThrow("/dev/null", O_RDWR);
  struct termios t;
  EXPECT_THAT(ioctl(null.get(), TCGETS, &t), SyscallFailsWithErrno(ENOTTY));
}

TEST(PtyTest, NodeGoesWithTheMaster) {
  Pty p = OpenPty();
  std::string name = p.name;
  p.master.reset();
  EXPECT_THAT(access(name.c_str(), F_OK), SyscallFailsWithErrno(ENOENT));
}

// --- termios and the line discipline ---

TEST(PtyTest, DefaultTermios) {
  Pty p = OpenPty();
  struct termios t = GetAttr(p.replica.get());
  EXPECT_EQ(t.c_iflag, static_cast<tcflag_t>(ICRNL | IXON));
  EXPECT_EQ(t.c_oflag, static_cast<tcflag_t>(OPOST | ONLCR));
  EXPECT_EQ(t.c_lflag,
            static_cast<tcflag_t>(ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN));
  EXPECT_EQ(t.c_cc[VINTR], 3);
  EXPECT_EQ(t.c_cc[VQUIT], 28);
  EXPECT_EQ(t.c_cc[VERASE], 127);
  EXPECT_EQ(t.c_cc[VKILL], 21);
  EXPECT_EQ(t.c_cc[VEOF], 4);
  EXPECT_EQ(t.c_cc[VSUSP], 26);
  EXPECT_EQ(t.c_cc[VMIN], 1);
  EXPECT_EQ(t.c_cc[VTIME], 0);
  // The master shows (and sets) the replica's termios.
  struct termios mt = GetAttr(p.master.get());
  EXPECT_EQ(mt.c_lflag, t.c_lflag);
  mt.c_lflag &= ~ECHO;
  SetAttr(p.master.get(), mt);
  EXPECT_FALSE(GetAttr(p.replica.get()).c_lflag & ECHO);
  EXPECT_THAT(ioctl(p.replica.get(), TCGETS, Opaque<void*>(nullptr)),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(ioctl(p.replica.get(), TCSETS, Opaque<void*>(nullptr)),
              SyscallFailsWithErrno(EFAULT));
}

// The System V struct termio: 16-bit flags, 8 control characters.
struct Termio {
  unsigned short c_iflag, c_oflag, c_cflag, c_lflag;
  unsigned char c_line;
  unsigned char c_cc[8];
};

TEST(PtyTest, Termio) {
  Pty p = OpenPty();
  Termio tio;
  ASSERT_THAT(ioctl(p.replica.get(), TCGETA, &tio), SyscallSucceeds());
  struct termios t = GetAttr(p.replica.get());
  EXPECT_EQ(tio.c_lflag, static_cast<unsigned short>(t.c_lflag & 0xffff));
  EXPECT_EQ(tio.c_iflag, static_cast<unsigned short>(t.c_iflag & 0xffff));
  EXPECT_EQ(tio.c_cc[VINTR], 3);
  tio.c_lflag &= ~ECHO;
  tio.c_cc[VINTR] = 7;
  ASSERT_THAT(ioctl(p.replica.get(), TCSETA, &tio), SyscallSucceeds());
  t = GetAttr(p.replica.get());
  EXPECT_FALSE(t.c_lflag & ECHO);
  EXPECT_TRUE(t.c_lflag & ICANON);
  EXPECT_EQ(t.c_cc[VINTR], 7);
  EXPECT_EQ(t.c_cc[VSUSP], 26);  // beyond NCC: untouched
  EXPECT_THAT(ioctl(p.replica.get(), TCSETA, Opaque<void*>(nullptr)),
              SyscallFailsWithErrno(EFAULT));
}

TEST(PtyTest, CanonicalReadWaitsForALine) {
  Pty p = OpenPty();
  ASSERT_THAT(fcntl(p.replica.get(), F_SETFL, O_NONBLOCK), SyscallSucceeds());
  ASSERT_THAT(write(p.master.get(), "abc", 3), SyscallSucceedsWithValue(3));
  EXPECT_EQ(WaitFor(p.replica.get(), POLLIN, 200), 0);
  char buf[64];
  EXPECT_THAT(read(p.replica.get(), buf, sizeof(buf)), SyscallFailsWithErrno(EAGAIN));
  int n = -1;
  ASSERT_THAT(ioctl(p.replica.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, 0);
  ASSERT_THAT(write(p.master.get(), "\ndef\n", 5), SyscallSucceedsWithValue(5));
  ASSERT_TRUE(WaitFor(p.replica.get(), POLLIN) & POLLIN);
  ASSERT_THAT(ioctl(p.replica.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, 8);
  // One line per read, and a short buffer takes part of a line.
  ASSERT_THAT(read(p.replica.get(), buf, 2), SyscallSucceedsWithValue(2));
  EXPECT_EQ(std::string(buf, 2), "ab");
  ASSERT_THAT(read(p.replica.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(2));
  EXPECT_EQ(std::string(buf, 2), "c\n");
  ASSERT_THAT(read(p.replica.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(4));
  EXPECT_EQ(std::string(buf, 4), "def\n");
  // The echo, with ONLCR.
  EXPECT_EQ(ReadFor(p.master.get(), 10), "abc\r\ndef\r\n");
}

TEST(PtyTest, CanonicalEditingAndEcho) {
  Pty p = OpenPty();
  // ^? erases "b", ^U kills "ac", ^W erases the word "foo ".
  ASSERT_THAT(write(p.master.get(), "ab\x7f" "c\x15" "x foo \x17y\n", 14),
              SyscallSucceedsWithValue(14));
  EXPECT_EQ(ReadFor(p.replica.get(), 5), "x y\n");
  EXPECT_EQ(ReadFor(p.master.get(), 33),
            "ab\b \bc\b \b\b \bx foo \b \b\b \b\b \b\b \by\r\n");
}

TEST(PtyTest, EchoOfControlCharacters) {
  Pty p = OpenPty();
  // ECHOCTL shows ^A; erasing it takes two columns back.
  ASSERT_THAT(write(p.master.get(), "\x01\x7f\x01\n", 4), SyscallSucceedsWithValue(4));
  EXPECT_EQ(ReadFor(p.replica.get(), 2), "\x01\n");
  EXPECT_EQ(ReadFor(p.master.get(), 12), "^A\b \b\b \b^A\r\n");
  // Without ECHOE the erase character itself is echoed.
  struct termios t = GetAttr(p.replica.get());
  t.c_lflag &= ~(ECHOE | ECHOCTL);
  SetAttr(p.replica.get(), t);
  ASSERT_THAT(write(p.master.get(), "ab\x7f\n", 4), SyscallSucceedsWithValue(4));
  EXPECT_EQ(ReadFor(p.replica.get(), 2), "a\n");
  EXPECT_EQ(ReadFor(p.master.get(), 5), "ab\x7f\r\n");
}

TEST(PtyTest, EchonlAndKillWithEchok) {
  Pty p = OpenPty();
  struct termios t = GetAttr(p.replica.get());
  t.c_lflag &= ~ECHO;
  t.c_lflag |= ECHONL;
  SetAttr(p.replica.get(), t);
  ASSERT_THAT(write(p.master.get(), "secret\n", 7), SyscallSucceedsWithValue(7));
  EXPECT_EQ(ReadFor(p.replica.get(), 7), "secret\n");
  EXPECT_EQ(DrainMaster(p.master.get()), "\r\n");
  // ECHO|ECHOK without ECHOKE: the kill character, then a newline.
  t.c_lflag |= ECHO | ECHOK;
  t.c_lflag &= ~(ECHOKE | ECHONL);
  SetAttr(p.replica.get(), t);
  ASSERT_THAT(write(p.master.get(), "ab\x15z\n", 5), SyscallSucceedsWithValue(5));
  EXPECT_EQ(ReadFor(p.replica.get(), 2), "z\n");
  EXPECT_EQ(DrainMaster(p.master.get()), "ab^U\r\nz\r\n");
}

TEST(PtyTest, Utf8Erase) {
  Pty p = OpenPty();
  // Bytes 0x80-0xff are not control characters: echoed as they are, and
  // without IUTF8 an erase takes one byte.
  ASSERT_THAT(write(p.master.get(), "\xc4\x81\x7f\n", 4), SyscallSucceedsWithValue(4));
  EXPECT_EQ(ReadFor(p.replica.get(), 2), "\xc4\n");
  EXPECT_EQ(ReadFor(p.master.get(), 7), "\xc4\x81\b \b\r\n");
  // With IUTF8 it takes the whole character, one column.
  struct termios t = GetAttr(p.replica.get());
  t.c_iflag |= IUTF8;
  SetAttr(p.replica.get(), t);
  ASSERT_THAT(write(p.master.get(), "x\xc3\xa9\x7f\n", 5), SyscallSucceedsWithValue(5));
  EXPECT_EQ(ReadFor(p.replica.get(), 2), "x\n");
  EXPECT_EQ(ReadFor(p.master.get(), 8), "x\xc3\xa9\b \b\r\n");
}

TEST(PtyTest, StopAndStartOutput) {
  Pty p = OpenPty();
  // ^S (IXON) stops the replica's output: writes wait, poll says no room.
  ASSERT_THAT(write(p.master.get(), "\x13", 1), SyscallSucceedsWithValue(1));
  for (int i = 0; i < 100 && (WaitFor(p.replica.get(), POLLOUT, 0) & POLLOUT); i++) usleep(10000);
  EXPECT_EQ(WaitFor(p.replica.get(), POLLOUT, 0), 0);
  pid_t pid = fork();
  if (pid == 0) {
    alarm(kChildWatchdogSeconds);
    TEST_CHECK_VALUE(write(p.replica.get(), "held", 4), 4);
    _exit(0);
  }
  ScopedChild writer(pid);
  EXPECT_EQ(WaitFor(p.master.get(), POLLIN, 200), 0);
  // ^Q lets it through.
  ASSERT_THAT(write(p.master.get(), "\x11", 1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(ReadFor(p.master.get(), 4), "held");
  EXPECT_THAT(writer.Wait(), ExitedWithCode(0));
}

TEST(PtyTest, EndOfFile) {
  Pty p = OpenPty();
  ASSERT_THAT(write(p.master.get(), "abc\x04\x04", 5), SyscallSucceedsWithValue(5));
  char buf[16];
  ASSERT_TRUE(WaitFor(p.replica.get(), POLLIN) & POLLIN);
  EXPECT_THAT(read(p.replica.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(3));
  EXPECT_EQ(std::string(buf, 3), "abc");
  // ^D on an empty line: end of file, once.
  EXPECT_THAT(read(p.replica.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(0));
  // Neither is echoed.
  EXPECT_EQ(DrainMaster(p.master.get()), "abc");
}

TEST(PtyTest, EolEndsALine) {
  Pty p = OpenPty();
  struct termios t = GetAttr(p.replica.get());
  t.c_cc[VEOL] = ';';
  SetAttr(p.replica.get(), t);
  ASSERT_THAT(write(p.master.get(), "ab;cd\n", 6), SyscallSucceedsWithValue(6));
  EXPECT_EQ(ReadFor(p.replica.get(), 3), "ab;");
  EXPECT_EQ(ReadFor(p.replica.get(), 3), "cd\n");
}

TEST(PtyTest, CanonicalLineLimit) {
  Pty p = OpenPty();
  struct termios t = GetAttr(p.replica.get());
  t.c_lflag &= ~ECHO;
  SetAttr(p.replica.get(), t);
  std::string line(5000, 'a');
  line += '\n';
  WriteAll(p.master.get(), line);
  // 4095 characters and the newline; the rest was dropped.
  std::string got = ReadFor(p.replica.get(), 8192, 1000);
  EXPECT_EQ(got.size(), 4096u);
  EXPECT_EQ(got, std::string(4095, 'a') + "\n");
}

TEST(PtyTest, InputProcessing) {
  Pty p = OpenPty();
  // ICRNL (default): CR reads as NL.
  ASSERT_THAT(write(p.master.get(), "a\r", 2), SyscallSucceedsWithValue(2));
  EXPECT_EQ(ReadFor(p.replica.get(), 2), "a\n");
  // IGNCR drops CR.
  struct termios t = GetAttr(p.replica.get());
  t.c_iflag |= IGNCR;
  SetAttr(p.replica.get(), t);
  ASSERT_THAT(write(p.master.get(), "b\rc\n", 4), SyscallSucceedsWithValue(4));
  EXPECT_EQ(ReadFor(p.replica.get(), 3), "bc\n");
  // Raw: INLCR turns NL into CR, ISTRIP clears bit 7.
  cfmakeraw(&t);
  t.c_iflag |= INLCR | ISTRIP;
  SetAttr(p.replica.get(), t);
  ASSERT_THAT(write(p.master.get(), "x\n\xe1", 3), SyscallSucceedsWithValue(3));
  EXPECT_EQ(ReadFor(p.replica.get(), 3), "x\ra");
}

TEST(PtyTest, OutputProcessing) {
  Pty p = OpenPty();
  ASSERT_THAT(write(p.replica.get(), "a\nb", 3), SyscallSucceedsWithValue(3));
  EXPECT_EQ(ReadFor(p.master.get(), 4), "a\r\nb");
  struct termios t = GetAttr(p.replica.get());
  t.c_oflag &= ~ONLCR;
  t.c_oflag |= OCRNL;
  SetAttr(p.replica.get(), t);
  ASSERT_THAT(write(p.replica.get(), "c\rd\n", 4), SyscallSucceedsWithValue(4));
  EXPECT_EQ(ReadFor(p.master.get(), 4), "c\nd\n");
  t.c_oflag = ONLCR;  // without OPOST nothing is processed
  SetAttr(p.replica.get(), t);
  ASSERT_THAT(write(p.replica.get(), "e\n", 2), SyscallSucceedsWithValue(2));
  EXPECT_EQ(ReadFor(p.master.get(), 2), "e\n");
}

TEST(PtyTest, RawModeReadsWhatIsThere) {
  Pty p = OpenPty();
  struct termios t = GetAttr(p.replica.get());
  cfmakeraw(&t);
  SetAttr(p.replica.get(), t);
  ASSERT_THAT(write(p.master.get(), "xyz", 3), SyscallSucceedsWithValue(3));
  EXPECT_EQ(ReadFor(p.replica.get(), 3), "xyz");
  // No echo in raw mode.
  EXPECT_EQ(WaitFor(p.master.get(), POLLIN, 200), 0);
  // ^C is just a byte.
  ASSERT_THAT(write(p.master.get(), "\x03", 1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(ReadFor(p.replica.get(), 1), "\x03");
}

TEST(PtyTest, LeavingCanonicalModeReleasesThePartialLine) {
  Pty p = OpenPty();
  ASSERT_THAT(write(p.master.get(), "par", 3), SyscallSucceedsWithValue(3));
  EXPECT_EQ(ReadFor(p.master.get(), 3), "par");  // echo: it was received
  struct termios t = GetAttr(p.replica.get());
  t.c_lflag &= ~ICANON;
  SetAttr(p.replica.get(), t);
  EXPECT_EQ(ReadFor(p.replica.get(), 3), "par");
}

TEST(PtyTest, VminZeroVtimeZeroPolls) {
  Pty p = OpenPty();
  struct termios t = GetAttr(p.replica.get());
  t.c_lflag &= ~ICANON;
  t.c_cc[VMIN] = 0;
  t.c_cc[VTIME] = 0;
  SetAttr(p.replica.get(), t);
  char buf[8];
  EXPECT_THAT(read(p.replica.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(0));
  // Even non-blocking: 0, not EAGAIN.
  ASSERT_THAT(fcntl(p.replica.get(), F_SETFL, O_NONBLOCK), SyscallSucceeds());
  EXPECT_THAT(read(p.replica.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(0));
}

TEST(PtyTest, VtimeTimesOut) {
  Pty p = OpenPty();
  struct termios t = GetAttr(p.replica.get());
  t.c_lflag &= ~ICANON;
  t.c_cc[VMIN] = 0;
  t.c_cc[VTIME] = 1;  // 100 ms
  SetAttr(p.replica.get(), t);
  char buf[8];
  auto start = std::chrono::steady_clock::now();
  EXPECT_THAT(read(p.replica.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(0));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - start)
                .count();
  EXPECT_GE(ms, 80);
  EXPECT_LT(ms, 3000);
  ASSERT_THAT(write(p.master.get(), "q", 1), SyscallSucceedsWithValue(1));
  EXPECT_THAT(read(p.replica.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(1));
}

TEST(PtyTest, VminWaitsForThatMany) {
  Pty p = OpenPty();
  struct termios t = GetAttr(p.replica.get());
  cfmakeraw(&t);
  t.c_cc[VMIN] = 3;
  t.c_cc[VTIME] = 0;
  SetAttr(p.replica.get(), t);
  ASSERT_THAT(write(p.master.get(), "ab", 2), SyscallSucceedsWithValue(2));
  // poll() counts VMIN characters as readable.
  EXPECT_EQ(WaitFor(p.replica.get(), POLLIN, 200), 0);
  pid_t pid = fork();
  if (pid == 0) {
    usleep(100 * 1000);
    TEST_CHECK_VALUE(write(p.master.get(), "cd", 2), 2);
    _exit(0);
  }
  ScopedChild child(pid);
  char buf[16];
  ssize_t n = read(p.replica.get(), buf, sizeof(buf));
  ASSERT_THAT(n, SyscallSucceeds());
  EXPECT_GE(n, 3);
  EXPECT_EQ(std::string(buf, n), std::string("abcd").substr(0, n));
  EXPECT_THAT(child.Wait(), ExitedWithCode(0));
}

TEST(PtyTest, QueueSizesAndFlush) {
  Pty p = OpenPty();
  ASSERT_THAT(write(p.master.get(), "abc\nde", 6), SyscallSucceedsWithValue(6));
  ASSERT_TRUE(WaitFor(p.replica.get(), POLLIN) & POLLIN);
  EXPECT_EQ(ReadFor(p.master.get(), 7), "abc\r\nde");
  int n = -1;
  // Canonical FIONREAD counts complete lines only.
  ASSERT_THAT(ioctl(p.replica.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, 4);
  ASSERT_THAT(write(p.replica.get(), "xyz", 3), SyscallSucceedsWithValue(3));
  ASSERT_TRUE(WaitFor(p.master.get(), POLLIN) & POLLIN);
  ASSERT_THAT(ioctl(p.master.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, 3);
  ASSERT_THAT(ioctl(p.replica.get(), TIOCOUTQ, &n), SyscallSucceeds());
  EXPECT_EQ(n, 0);
  ASSERT_THAT(tcflush(p.replica.get(), TCIFLUSH), SyscallSucceeds());
  ASSERT_THAT(ioctl(p.replica.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, 0);
  EXPECT_THAT(ioctl(p.replica.get(), TCFLSH, 7), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(ioctl(p.replica.get(), TCXONC, 9), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(tcflow(p.replica.get(), TCOON), SyscallSucceeds());
  // TCSETSF drops pending input.
  ASSERT_THAT(write(p.master.get(), "gone\n", 5), SyscallSucceedsWithValue(5));
  ASSERT_TRUE(WaitFor(p.replica.get(), POLLIN) & POLLIN);
  struct termios t = GetAttr(p.replica.get());
  ASSERT_THAT(tcsetattr(p.replica.get(), TCSAFLUSH, &t), SyscallSucceeds());
  ASSERT_THAT(ioctl(p.replica.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, 0);
}

TEST(PtyTest, WindowSize) {
  Pty p = OpenPty();
  struct winsize ws = {};
  ASSERT_THAT(ioctl(p.replica.get(), TIOCGWINSZ, &ws), SyscallSucceeds());
  EXPECT_EQ(ws.ws_row, 0);
  EXPECT_EQ(ws.ws_col, 0);
  struct winsize set = {24, 80, 640, 480};
  ASSERT_THAT(ioctl(p.master.get(), TIOCSWINSZ, &set), SyscallSucceeds());
  ASSERT_THAT(ioctl(p.replica.get(), TIOCGWINSZ, &ws), SyscallSucceeds());
  EXPECT_EQ(ws.ws_row, 24);
  EXPECT_EQ(ws.ws_col, 80);
  EXPECT_EQ(ws.ws_xpixel, 640);
  EXPECT_EQ(ws.ws_ypixel, 480);
  EXPECT_THAT(ioctl(p.replica.get(), TIOCSWINSZ, Opaque<void*>(nullptr)),
              SyscallFailsWithErrno(EFAULT));
}

TEST(PtyTest, Poll) {
  Pty p = OpenPty();
  EXPECT_EQ(WaitFor(p.replica.get(), POLLIN | POLLOUT, 0), POLLOUT);
  EXPECT_EQ(WaitFor(p.master.get(), POLLIN | POLLOUT, 0), POLLOUT);
  ASSERT_THAT(write(p.master.get(), "l\n", 2), SyscallSucceedsWithValue(2));
  EXPECT_EQ(WaitFor(p.replica.get(), POLLIN), POLLIN);
  EXPECT_EQ(WaitFor(p.master.get(), POLLIN), POLLIN);  // the echo
}

TEST(PtyTest, Tiocsti) {
  // Faking input needs CAP_SYS_ADMIN (or, with the legacy sysctl, the
  // caller's controlling terminal): the test runs as root.
  SKIP_IF_NOT_ROOT();
  Pty p = OpenPty();
  for (char c : std::string("ab\n")) {
    ASSERT_THAT(ioctl(p.replica.get(), TIOCSTI, &c), SyscallSucceeds());
  }
  EXPECT_EQ(ReadFor(p.replica.get(), 3), "ab\n");
  EXPECT_EQ(ReadFor(p.master.get(), 4), "ab\r\n");  // echoed as typed
  // On the master it is input for the master.
  char m = 'm';
  ASSERT_THAT(ioctl(p.master.get(), TIOCSTI, &m), SyscallSucceeds());
  EXPECT_EQ(ReadFor(p.master.get(), 1), "m");
  EXPECT_THAT(ioctl(p.replica.get(), TIOCSTI, Opaque<char*>(nullptr)),
              SyscallFailsWithErrno(EFAULT));
}

TEST(PtyTest, PacketMode) {
  Pty p = OpenPty();
  int on = 1;
  EXPECT_THAT(ioctl(p.replica.get(), TIOCPKT, &on), SyscallFailsWithErrno(ENOTTY));
  ASSERT_THAT(ioctl(p.master.get(), TIOCPKT, &on), SyscallSucceeds());
  int got = 0;
  ASSERT_THAT(ioctl(p.master.get(), TIOCGPKT, &got), SyscallSucceeds());
  EXPECT_EQ(got, 1);
  // Data comes after a TIOCPKT_DATA byte.
  ASSERT_THAT(write(p.replica.get(), "hi", 2), SyscallSucceedsWithValue(2));
  EXPECT_EQ(ReadFor(p.master.get(), 3), std::string("\0hi", 3));
  // ^S and ^Q (IXON) stop and restart the replica's output: status bytes,
  // read alone, and POLLPRI.
  ASSERT_THAT(write(p.master.get(), "\x13", 1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(WaitFor(p.master.get(), POLLPRI), POLLPRI);
  char buf[16];
  ASSERT_THAT(read(p.master.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(1));
  EXPECT_EQ(buf[0], TIOCPKT_STOP);
  ASSERT_THAT(write(p.master.get(), "\x11", 1), SyscallSucceedsWithValue(1));
  ASSERT_TRUE(WaitFor(p.master.get(), POLLPRI) & POLLPRI);
  ASSERT_THAT(read(p.master.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(1));
  EXPECT_EQ(buf[0], TIOCPKT_START);
  // A flush of the replica's input.
  ASSERT_THAT(tcflush(p.replica.get(), TCIFLUSH), SyscallSucceeds());
  ASSERT_TRUE(WaitFor(p.master.get(), POLLPRI) & POLLPRI);
  ASSERT_THAT(read(p.master.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(1));
  EXPECT_EQ(buf[0], TIOCPKT_FLUSHREAD);
  // Turning IXON off tells the master ^S/^Q are now data.
  struct termios t = GetAttr(p.replica.get());
  t.c_iflag &= ~IXON;
  SetAttr(p.replica.get(), t);
  ASSERT_TRUE(WaitFor(p.master.get(), POLLPRI) & POLLPRI);
  ASSERT_THAT(read(p.master.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(1));
  EXPECT_EQ(buf[0], TIOCPKT_NOSTOP);
  on = 0;
  ASSERT_THAT(ioctl(p.master.get(), TIOCPKT, &on), SyscallSucceeds());
  ASSERT_THAT(write(p.replica.get(), "x", 1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(ReadFor(p.master.get(), 1), "x");
}

// --- hangups ---

TEST(PtyTest, MasterCloseHangsUpTheReplica) {
  Pty p = OpenPty();
  ASSERT_THAT(write(p.master.get(), "unread\n", 7), SyscallSucceedsWithValue(7));
  ASSERT_TRUE(WaitFor(p.replica.get(), POLLIN) & POLLIN);
  p.master.reset();
  char buf[16];
  EXPECT_THAT(read(p.replica.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(0));
  EXPECT_THAT(write(p.replica.get(), "x", 1), SyscallFailsWithErrno(EIO));
  struct termios t;
  EXPECT_THAT(ioctl(p.replica.get(), TCGETS, &t), SyscallFailsWithErrno(EIO));
  pid_t pg = getpgrp();
  EXPECT_THAT(ioctl(p.replica.get(), TIOCSPGRP, &pg), SyscallFailsWithErrno(ENOTTY));
  EXPECT_EQ(WaitFor(p.replica.get(), POLLIN | POLLOUT, 0), POLLIN | POLLOUT | POLLERR | POLLHUP);
}

TEST(PtyTest, ReplicaCloseMakesMasterReadsFail) {
  Pty p = OpenPty();
  // Before any replica ever closed: no data is "try again".
  ASSERT_THAT(fcntl(p.master.get(), F_SETFL, O_NONBLOCK), SyscallSucceeds());
  char buf[16];
  EXPECT_THAT(read(p.master.get(), buf, sizeof(buf)), SyscallFailsWithErrno(EAGAIN));
  ASSERT_THAT(write(p.replica.get(), "bye", 3), SyscallSucceedsWithValue(3));
  p.replica.reset();
  // What was written is still read, then EIO.
  EXPECT_EQ(ReadFor(p.master.get(), 3), "bye");
  EXPECT_THAT(read(p.master.get(), buf, sizeof(buf)), SyscallFailsWithErrno(EIO));
  EXPECT_EQ(WaitFor(p.master.get(), POLLIN, 0), POLLHUP);
  // Reopening the replica undoes that.
  FileDescriptor r = OpenOrThrow(p.name, O_RDWR | O_NOCTTY);
  EXPECT_THAT(read(p.master.get(), buf, sizeof(buf)), SyscallFailsWithErrno(EAGAIN));
}

// --- controlling terminals ---

// In a child: starts a session and makes `p`'s replica its controlling
// terminal by opening it without O_NOCTTY.
void AcquireByOpen(const Pty& p) {
  TEST_CHECK_SUCCESS(setsid());
  int fd = open(p.name.c_str(), O_RDWR);
  TEST_CHECK_SUCCESS(fd);
}

TEST(PtyTest, OpenWithoutNocttyAcquires) {
  Pty p = OpenPty();
  EXPECT_THAT(ForkAndWait([&] {
    TEST_CHECK_SUCCESS(setsid());
    pid_t pg;
    // Not our terminal yet.
    TEST_CHECK_ERRNO(ioctl(p.replica.get(), TIOCGPGRP, &pg), ENOTTY);
    TEST_CHECK_ERRNO(open("/dev/tty", O_RDWR), ENXIO);
    // O_NOCTTY opens do not acquire.
    TEST_CHECK_SUCCESS(open(p.name.c_str(), O_RDWR | O_NOCTTY));
    TEST_CHECK_ERRNO(ioctl(p.replica.get(), TIOCGPGRP, &pg), ENOTTY);
    // Neither does the master.
    TEST_CHECK_SUCCESS(open("/dev/ptmx", O_RDWR));
    TEST_CHECK_ERRNO(open("/dev/tty", O_RDWR), ENXIO);
    TEST_CHECK_SUCCESS(open(p.name.c_str(), O_RDWR));
    TEST_CHECK_SUCCESS(ioctl(p.replica.get(), TIOCGPGRP, &pg));
    TEST_CHECK_VALUE(pg, getpid());
    pid_t sid;
    TEST_CHECK_SUCCESS(ioctl(p.replica.get(), TIOCGSID, &sid));
    TEST_CHECK_VALUE(sid, getpid());
    TEST_CHECK_VALUE(tcgetsid(p.replica.get()), getpid());
    // /dev/tty is the same terminal.
    int tty = open("/dev/tty", O_RDWR);
    TEST_CHECK_SUCCESS(tty);
    TEST_CHECK_VALUE(write(tty, "via tty\n", 8), 8);
  }),
              ExitedWithCode(0));
  EXPECT_EQ(ReadFor(p.master.get(), 9), "via tty\r\n");
  // From the master anyone may ask; the session ended with the child.
  pid_t pg = -1;
  EXPECT_THAT(ioctl(p.master.get(), TIOCGPGRP, &pg), SyscallSucceeds());
  EXPECT_EQ(pg, 0);
  pid_t sid;
  EXPECT_THAT(ioctl(p.master.get(), TIOCGSID, &sid), SyscallFailsWithErrno(ENOTTY));
}

TEST(PtyTest, Tiocsctty) {
  Pty p = OpenPty();
  Pty q = OpenPty();
  // Only a session leader: the test process is none (or has its terminal).
  EXPECT_THAT(ForkAndWait([&] {
    TEST_CHECK_ERRNO(ioctl(p.replica.get(), TIOCSCTTY, 0), EPERM);
  }),
              ExitedWithCode(0));
  EXPECT_THAT(ForkAndWait([&] {
    TEST_CHECK_SUCCESS(setsid());
    TEST_CHECK_SUCCESS(ioctl(p.replica.get(), TIOCSCTTY, 0));
    TEST_CHECK_SUCCESS(ioctl(p.replica.get(), TIOCSCTTY, 0));  // already ours
    // One controlling terminal per session.
    TEST_CHECK_ERRNO(ioctl(q.replica.get(), TIOCSCTTY, 0), EPERM);
    // Another session cannot take it without force (arg 1 and
    // CAP_SYS_ADMIN).
    pid_t pid = fork();
    TEST_CHECK_SUCCESS(pid);
    if (pid == 0) {
      TEST_CHECK_SUCCESS(setsid());
      TEST_CHECK_ERRNO(ioctl(p.replica.get(), TIOCSCTTY, 0), EPERM);
      if (geteuid() == 0) {
        TEST_CHECK_SUCCESS(ioctl(p.replica.get(), TIOCSCTTY, 1));
        pid_t sid;
        TEST_CHECK_SUCCESS(ioctl(p.replica.get(), TIOCGSID, &sid));
        TEST_CHECK_VALUE(sid, getpid());
      }
      _exit(0);
    }
    int st;
    TEST_CHECK_VALUE(waitpid(pid, &st, 0), pid);
    TEST_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    if (geteuid() == 0) {
      // Stolen: this session lost it.
      pid_t pg;
      TEST_CHECK_ERRNO(ioctl(p.replica.get(), TIOCGPGRP, &pg), ENOTTY);
    }
  }),
              ExitedWithCode(0));
}

TEST(PtyTest, TiocscttyThroughTheMaster) {
  Pty p = OpenPty();
  // On the master it acts on the replica.
  EXPECT_THAT(ForkAndWait([&] {
    TEST_CHECK_SUCCESS(setsid());
    TEST_CHECK_SUCCESS(ioctl(p.master.get(), TIOCSCTTY, 0));
    pid_t pg;
    TEST_CHECK_SUCCESS(ioctl(p.replica.get(), TIOCGPGRP, &pg));
    TEST_CHECK_VALUE(pg, getpid());
    TEST_CHECK_SUCCESS(open("/dev/tty", O_RDWR));
    // The master is never anyone's controlling terminal.
    TEST_CHECK_ERRNO(ioctl(p.master.get(), TIOCNOTTY), ENOTTY);
  }),
              ExitedWithCode(0));
}

TEST(PtyTest, Tiocnotty) {
  Pty p = OpenPty();
  EXPECT_THAT(ForkAndWait([&] {
    TEST_CHECK_ERRNO(ioctl(p.replica.get(), TIOCNOTTY), ENOTTY);
    AcquireByOpen(p);
    // A session leader letting go sends SIGHUP and SIGCONT to the
    // foreground group: its own here.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGCONT);
    TEST_CHECK_SUCCESS(sigprocmask(SIG_BLOCK, &set, nullptr));
    TEST_CHECK_SUCCESS(ioctl(p.replica.get(), TIOCNOTTY));
    sigset_t pending;
    TEST_CHECK_SUCCESS(sigpending(&pending));
    TEST_CHECK(sigismember(&pending, SIGHUP));
    TEST_CHECK(sigismember(&pending, SIGCONT));
    TEST_CHECK_ERRNO(open("/dev/tty", O_RDWR), ENXIO);
    pid_t pg;
    TEST_CHECK_ERRNO(ioctl(p.replica.get(), TIOCGPGRP, &pg), ENOTTY);
    // The terminal is free again.
    TEST_CHECK_SUCCESS(ioctl(p.replica.get(), TIOCSCTTY, 0));
  }),
              ExitedWithCode(0));
}

TEST(PtyTest, SetsidDropsTheTerminal) {
  Pty p = OpenPty();
  EXPECT_THAT(ForkAndWait([&] {
    AcquireByOpen(p);
    pid_t pid = fork();
    TEST_CHECK_SUCCESS(pid);
    if (pid == 0) {
      // Inherited...
      TEST_CHECK_SUCCESS(open("/dev/tty", O_RDWR));
      // ...until a new session.
      TEST_CHECK_SUCCESS(setsid());
      TEST_CHECK_ERRNO(open("/dev/tty", O_RDWR), ENXIO);
      _exit(0);
    }
    int st;
    TEST_CHECK_VALUE(waitpid(pid, &st, 0), pid);
    TEST_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }),
              ExitedWithCode(0));
}

TEST(PtyTest, Tiocspgrp) {
  Pty p = OpenPty();
  pid_t outside = getpgrp();  // a group of another session
  EXPECT_THAT(ForkAndWait([&] {
    pid_t pg = getpgrp();
    TEST_CHECK_ERRNO(ioctl(p.replica.get(), TIOCSPGRP, &pg), ENOTTY);
    AcquireByOpen(p);
    pid_t child = fork();
    TEST_CHECK_SUCCESS(child);
    if (child == 0) {
      setpgid(0, 0);
      pause();
      _exit(0);
    }
    TEST_CHECK_SUCCESS(setpgid(child, child));
    TEST_CHECK_SUCCESS(tcsetpgrp(p.replica.get(), child));
    TEST_CHECK_VALUE(tcgetpgrp(p.replica.get()), child);
    TEST_CHECK_VALUE(tcgetpgrp(p.master.get()), child);
    pid_t bad = -1;
    // Now in the background: SIGTTOU must not stop us.
    signal(SIGTTOU, SIG_IGN);
    TEST_CHECK_ERRNO(ioctl(p.replica.get(), TIOCSPGRP, &bad), EINVAL);
    bad = 999999;
    TEST_CHECK_ERRNO(ioctl(p.replica.get(), TIOCSPGRP, &bad), ESRCH);
    TEST_CHECK_ERRNO(ioctl(p.replica.get(), TIOCSPGRP, &outside), EPERM);
    TEST_CHECK_ERRNO(ioctl(p.replica.get(), TIOCSPGRP, Opaque<pid_t*>(nullptr)), EFAULT);
    TEST_CHECK_SUCCESS(tcsetpgrp(p.replica.get(), getpid()));
    TEST_CHECK_VALUE(tcgetpgrp(p.replica.get()), getpid());
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
  }),
              ExitedWithCode(0));
}

// --- signals from the terminal ---

// Forks a session leader that owns `p` and runs `fn`; returns its pid.
pid_t ForkLeader(const Pty& p, const std::function<void()>& fn) {
  pid_t pid = fork();
  if (pid == 0) {
    alarm(kChildWatchdogSeconds);
    AcquireByOpen(p);
    fn();
    _exit(0);
  }
  return pid;
}

// The child has the terminal once its echo of `mark` comes back.
void SyncWithLeader(const Pty& p) {
  ASSERT_THAT(write(p.master.get(), "sync\n", 5), SyscallSucceedsWithValue(5));
  ASSERT_EQ(ReadFor(p.master.get(), 6), "sync\r\n");
}

TEST(PtyTest, InterruptCharacterSignalsTheForeground) {
  Pty p = OpenPty();
  ScopedChild leader(ForkLeader(p, [&] {
    char buf[64];
    // The line discipline's "sync" line says the terminal is ours.
    TEST_CHECK_VALUE(read(p.replica.get(), buf, sizeof(buf)), 5);
    for (;;) pause();
  }));
  ASSERT_THAT(leader.pid(), SyscallSucceeds());
  SyncWithLeader(p);
  // Wait until the leader consumed the line, i.e. it owns the terminal.
  for (int i = 0; i < 500; i++) {
    int n = -1;
    ioctl(p.replica.get(), FIONREAD, &n);
    if (n == 0) break;
    usleep(10000);
  }
  ASSERT_THAT(write(p.master.get(), "x", 1), SyscallSucceedsWithValue(1));
  ASSERT_EQ(ReadFor(p.master.get(), 1), "x");
  ASSERT_THAT(write(p.master.get(), "\x03", 1), SyscallSucceedsWithValue(1));
  EXPECT_THAT(leader.Wait(), KilledBySignal(SIGINT));
  EXPECT_EQ(DrainMaster(p.master.get()), "^C");
  // The partial line went with the interrupt.
  ASSERT_THAT(write(p.master.get(), "y\n", 2), SyscallSucceedsWithValue(2));
  EXPECT_EQ(ReadFor(p.replica.get(), 2), "y\n");
}

TEST(PtyTest, SuspendAndQuitCharacters) {
  Pty p = OpenPty();
  struct termios t = GetAttr(p.replica.get());
  t.c_lflag |= NOFLSH;
  SetAttr(p.replica.get(), t);
  // The target is a foreground group whose parent is in the session: a
  // group without one (orphaned) ignores terminal stop signals.
  EXPECT_THAT(ForkAndWait([&] {
    AcquireByOpen(p);
    int fds[2];
    TEST_CHECK_SUCCESS(pipe(fds));
    pid_t child = fork();
    TEST_CHECK_SUCCESS(child);
    if (child == 0) {
      struct rlimit no_core = {0, 0};
      setrlimit(RLIMIT_CORE, &no_core);
      setpgid(0, 0);
      TEST_CHECK_VALUE(write(fds[1], "r", 1), 1);
      for (;;) pause();
    }
    TEST_CHECK_SUCCESS(setpgid(child, child));
    TEST_CHECK_SUCCESS(tcsetpgrp(p.replica.get(), child));
    char c;
    TEST_CHECK_VALUE(read(fds[0], &c, 1), 1);
    TEST_CHECK_VALUE(write(p.master.get(), "k\x1a", 2), 2);
    int st;
    TEST_CHECK_VALUE(waitpid(child, &st, WUNTRACED), child);
    TEST_CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGTSTP);
    TEST_CHECK_VALUE(write(p.master.get(), "\x1c", 1), 1);
    TEST_CHECK_SUCCESS(kill(child, SIGCONT));
    TEST_CHECK_VALUE(waitpid(child, &st, 0), child);
    TEST_CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGQUIT);
  }),
              ExitedWithCode(0));
  EXPECT_EQ(DrainMaster(p.master.get()), "k^Z^\\");
  // NOFLSH kept the typed "k".
  ASSERT_THAT(write(p.master.get(), "\n", 1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(ReadFor(p.replica.get(), 2), "k\n");
}

TEST(PtyTest, SuspendDoesNotStopAnOrphanedGroup) {
  Pty p = OpenPty();
  // The leader's group has no parent in its session: orphaned, so its
  // SIGTSTP (default action) is discarded and the read goes on.
  ScopedChild leader(ForkLeader(p, [&] {
    char buf[64];
    TEST_CHECK_VALUE(read(p.replica.get(), buf, sizeof(buf)), 5);
    TEST_CHECK_VALUE(read(p.replica.get(), buf, sizeof(buf)), 6);
    TEST_CHECK(memcmp(buf, "after\n", 6) == 0);
  }));
  SyncWithLeader(p);
  for (int i = 0; i < 500; i++) {
    int n = -1;
    ioctl(p.replica.get(), FIONREAD, &n);
    if (n == 0) break;
    usleep(10000);
  }
  ASSERT_THAT(write(p.master.get(), "\x1a", 1), SyscallSucceedsWithValue(1));
  ASSERT_EQ(ReadFor(p.master.get(), 2), "^Z");
  ASSERT_THAT(write(p.master.get(), "after\n", 6), SyscallSucceedsWithValue(6));
  int st;
  ASSERT_THAT(waitpid(leader.pid(), &st, WUNTRACED), SyscallSucceedsWithValue(leader.pid()));
  if (WIFSTOPPED(st)) {
    ADD_FAILURE() << "stopped by signal " << WSTOPSIG(st);
    return;  // ScopedChild kills it
  }
  EXPECT_THAT(st, ExitedWithCode(0));
  leader.Wait();  // already reaped: only forget it
}

TEST(PtyTest, WindowChangeSignalsTheForeground) {
  Pty p = OpenPty();
  int fds[2];
  ASSERT_THAT(pipe(fds), SyscallSucceeds());
  FileDescriptor rd(fds[0]), wr(fds[1]);
  ScopedChild leader(ForkLeader(p, [&] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGWINCH);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    TEST_CHECK_VALUE(write(fds[1], "r", 1), 1);
    int sig = 0;
    sigwait(&set, &sig);
    TEST_CHECK_VALUE(sig, SIGWINCH);
    struct winsize ws;
    TEST_CHECK_SUCCESS(ioctl(p.replica.get(), TIOCGWINSZ, &ws));
    TEST_CHECK_VALUE(ws.ws_col, 132);
  }));
  char c;
  ASSERT_THAT(read(fds[0], &c, 1), SyscallSucceedsWithValue(1));
  struct winsize ws = {50, 132, 0, 0};
  ASSERT_THAT(ioctl(p.master.get(), TIOCSWINSZ, &ws), SyscallSucceeds());
  EXPECT_THAT(leader.Wait(), ExitedWithCode(0));
}

// In a session leader owning `p`: forks a child into its own (background)
// process group that runs `fn`, and returns the child's wait status
// (WUNTRACED: stops count).
int RunInBackground(const Pty& p, const std::function<void()>& fn) {
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    fn();
    _exit(0);
  }
  setpgid(pid, pid);
  int st = 0;
  waitpid(pid, &st, WUNTRACED);
  if (WIFSTOPPED(st)) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  return st;
}

TEST(PtyTest, BackgroundReadStops) {
  Pty p = OpenPty();
  EXPECT_THAT(ForkAndWait([&] {
    AcquireByOpen(p);
    int st = RunInBackground(p, [&] {
      char buf[8];
      read(p.replica.get(), buf, sizeof(buf));
      _exit(3);
    });
    TEST_CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGTTIN);
    // With SIGTTIN ignored the read fails instead.
    st = RunInBackground(p, [&] {
      signal(SIGTTIN, SIG_IGN);
      char buf[8];
      TEST_CHECK_ERRNO(read(p.replica.get(), buf, sizeof(buf)), EIO);
    });
    TEST_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }),
              ExitedWithCode(0));
}

TEST(PtyTest, OrphanedBackgroundReadFails) {
  Pty p = OpenPty();
  EXPECT_THAT(ForkAndWait([&] {
    AcquireByOpen(p);
    int fds[2];
    TEST_CHECK_SUCCESS(pipe(fds));
    pid_t mid = fork();
    TEST_CHECK_SUCCESS(mid);
    if (mid == 0) {
      // A group whose only member's parent is gone: orphaned.
      setpgid(0, 0);
      const pid_t self = getpid();
      pid_t gc = fork();
      if (gc == 0) {
        while (getppid() == self) usleep(1000);
        char buf[8];
        errno = 0;
        ssize_t r = read(p.replica.get(), buf, sizeof(buf));
        char res = (r < 0 && errno == EIO) ? 'E' : 'x';
        write(fds[1], &res, 1);
        _exit(0);
      }
      _exit(0);
    }
    waitpid(mid, nullptr, 0);
    // The session (and so the terminal's job control) lasts until then.
    char res = 0;
    TEST_CHECK_VALUE(read(fds[0], &res, 1), 1);
    TEST_CHECK_VALUE(res, 'E');
  }),
              ExitedWithCode(0));
}

TEST(PtyTest, BackgroundWriteWithTostop) {
  Pty p = OpenPty();
  EXPECT_THAT(ForkAndWait([&] {
    AcquireByOpen(p);
    // Without TOSTOP background output goes through.
    int st = RunInBackground(p, [&] { TEST_CHECK_VALUE(write(p.replica.get(), "a", 1), 1); });
    TEST_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    struct termios t;
    TEST_CHECK_SUCCESS(tcgetattr(p.replica.get(), &t));
    t.c_lflag |= TOSTOP;
    TEST_CHECK_SUCCESS(tcsetattr(p.replica.get(), TCSANOW, &t));
    st = RunInBackground(p, [&] {
      write(p.replica.get(), "b", 1);
      _exit(3);
    });
    TEST_CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGTTOU);
    // An ignored SIGTTOU lets it write.
    st = RunInBackground(p, [&] {
      signal(SIGTTOU, SIG_IGN);
      TEST_CHECK_VALUE(write(p.replica.get(), "c", 1), 1);
    });
    TEST_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }),
              ExitedWithCode(0));
  EXPECT_EQ(DrainMaster(p.master.get()), "ac");
}

TEST(PtyTest, BackgroundTcsetattrStops) {
  Pty p = OpenPty();
  EXPECT_THAT(ForkAndWait([&] {
    AcquireByOpen(p);
    int st = RunInBackground(p, [&] {
      struct termios t;
      tcgetattr(p.replica.get(), &t);  // reading the settings is fine
      tcsetattr(p.replica.get(), TCSANOW, &t);
      _exit(3);
    });
    TEST_CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGTTOU);
    // Blocked SIGTTOU: allowed (how shells hand the terminal over).
    st = RunInBackground(p, [&] {
      sigset_t set;
      sigemptyset(&set);
      sigaddset(&set, SIGTTOU);
      sigprocmask(SIG_BLOCK, &set, nullptr);
      struct termios t;
      TEST_CHECK_SUCCESS(tcgetattr(p.replica.get(), &t));
      TEST_CHECK_SUCCESS(tcsetattr(p.replica.get(), TCSANOW, &t));
      TEST_CHECK_SUCCESS(tcsetpgrp(p.replica.get(), getpgrp()));
    });
    TEST_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }),
              ExitedWithCode(0));
}

TEST(PtyTest, MasterCloseSendsSighupToTheSessionLeader) {
  Pty p = OpenPty();
  int fds[2];
  ASSERT_THAT(pipe(fds), SyscallSucceeds());
  FileDescriptor rd(fds[0]), wr(fds[1]);
  ScopedChild leader(ForkLeader(p, [&] {
    close(p.master.get());  // the test's close must be the last
    TEST_CHECK_VALUE(write(fds[1], "r", 1), 1);
    for (;;) pause();
  }));
  char c;
  ASSERT_THAT(read(rd.get(), &c, 1), SyscallSucceedsWithValue(1));
  p.master.reset();
  EXPECT_THAT(leader.Wait(), KilledBySignal(SIGHUP));
}

TEST(PtyTest, SessionLeaderExitHangsUpTheForeground) {
  Pty p = OpenPty();
  int fds[2];
  ASSERT_THAT(pipe(fds), SyscallSucceeds());
  FileDescriptor rd(fds[0]), wr(fds[1]);
  EXPECT_THAT(ForkAndWait([&] {
    AcquireByOpen(p);
    pid_t child = fork();
    TEST_CHECK_SUCCESS(child);
    if (child == 0) {
      setpgid(0, 0);
      sigset_t set;
      sigemptyset(&set);
      sigaddset(&set, SIGHUP);
      sigaddset(&set, SIGCONT);
      sigprocmask(SIG_BLOCK, &set, nullptr);
      TEST_CHECK_VALUE(write(fds[1], "r", 1), 1);
      int sig = 0;
      sigwait(&set, &sig);
      // A pty is not hung up by its session's end: SIGHUP alone, no
      // SIGCONT (that is for TIOCNOTTY and for real hangups).
      sigset_t pending;
      sigpending(&pending);
      char res = sig == SIGHUP && !sigismember(&pending, SIGCONT) ? 'H' : '?';
      write(fds[1], &res, 1);
      _exit(0);
    }
    TEST_CHECK_SUCCESS(setpgid(child, child));
    TEST_CHECK_SUCCESS(tcsetpgrp(p.replica.get(), child));
    char c;
    TEST_CHECK_VALUE(read(fds[0], &c, 1), 1);
  }),
              ExitedWithCode(0));
  wr.reset();
  char res = 0;
  ASSERT_TRUE(WaitFor(rd.get(), POLLIN) & POLLIN);
  ASSERT_THAT(read(rd.get(), &res, 1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(res, 'H');
  // The terminal has no session or foreground group any more.
  pid_t sid;
  EXPECT_THAT(ioctl(p.master.get(), TIOCGSID, &sid), SyscallFailsWithErrno(ENOTTY));
  pid_t pg = -1;
  ASSERT_THAT(ioctl(p.master.get(), TIOCGPGRP, &pg), SyscallSucceeds());
  EXPECT_EQ(pg, 0);
}

int g_hup_fd = -1;
void WriteHupAndExit(int) {
  char c = 'H';
  write(g_hup_fd, &c, 1);
  _exit(0);
}

TEST(PtyTest, OrphanedStoppedGroupIsHungUp) {
  // POSIX job control: when a process group becomes orphaned while one of
  // its members is stopped, nobody could continue it, so it gets SIGHUP
  // and SIGCONT.
  int fds[2];
  ASSERT_THAT(pipe(fds), SyscallSucceeds());
  FileDescriptor rd(fds[0]), wr(fds[1]);
  EXPECT_THAT(ForkAndWait([&] {
    TEST_CHECK_SUCCESS(setsid());
    pid_t child = fork();
    TEST_CHECK_SUCCESS(child);
    if (child == 0) {
      setpgid(0, 0);
      g_hup_fd = fds[1];
      signal(SIGHUP, WriteHupAndExit);
      raise(SIGSTOP);
      for (;;) pause();
    }
    TEST_CHECK_SUCCESS(setpgid(child, child));
    int st;
    TEST_CHECK_VALUE(waitpid(child, &st, WUNTRACED), child);
    TEST_CHECK(WIFSTOPPED(st));
    // Exiting now orphans the child's group.
  }),
              ExitedWithCode(0));
  wr.reset();
  char res = 0;
  ASSERT_TRUE(WaitFor(rd.get(), POLLIN) & POLLIN);
  ASSERT_THAT(read(rd.get(), &res, 1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(res, 'H');
}

TEST(PtyTest, ProcStatShowsTheTerminal) {
  Pty p = OpenPty();
  auto fields = [] {
    std::ifstream in("/proc/self/stat");
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::istringstream rest(s.substr(s.rfind(')') + 2));
    std::vector<std::string> f;
    std::string x;
    while (rest >> x) f.push_back(x);
    return f;  // f[0] is field 3 (state)
  };
  EXPECT_THAT(ForkAndWait([&] {
    TEST_CHECK_SUCCESS(setsid());
    auto f = fields();
    TEST_CHECK(f.size() > 6 && f[4] == "0" && f[5] == "-1");
    int fd = open(p.name.c_str(), O_RDWR);
    TEST_CHECK_SUCCESS(fd);
    f = fields();
    long dev = (136 << 8) | (p.index & 0xff) | ((p.index & ~0xff) << 12);
    TEST_CHECK(f.size() > 6 && f[4] == std::to_string(dev));
    TEST_CHECK(f[5] == std::to_string(getpid()));
  }),
              ExitedWithCode(0));
}

}  // namespace
}  // namespace systest
