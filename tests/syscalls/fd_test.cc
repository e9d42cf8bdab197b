// The descriptor table and pipes: dup(2), dup2(2), dup3(2), fcntl(2),
// close(2), close_range(2), RLIMIT_NOFILE, pipe2(2), poll(2), ppoll(2),
// select(2) and pselect6(2).

#include <limits.h>
#include <linux/close_range.h>
#include <poll.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/select.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "tests/syscalls/test_util.h"

namespace systest {
namespace {

using ::testing::Ge;

int64_t MonotonicNanos() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

bool IsOpen(int fd) { return fcntl(fd, F_GETFD) != -1; }

class FdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    file_ = TempPath::File("0123456789");
    fd_ = OpenOrThrow(file_.path(), O_RDWR);
  }

  TempPath file_;
  FileDescriptor fd_;
};

// --- dup / dup2 / dup3 ----------------------------------------------------

TEST_F(FdTest, DupSharesOffsetAndStatusFlagsButNotCloexec) {
  ASSERT_THAT(fcntl(fd_.get(), F_SETFD, FD_CLOEXEC), SyscallSucceeds());
  FileDescriptor d(dup(fd_.get()));
  ASSERT_THAT(d.get(), SyscallSucceeds());
  EXPECT_NE(d.get(), fd_.get());
  EXPECT_THAT(fcntl(d.get(), F_GETFD), SyscallSucceedsWithValue(0));
  char buf[3];
  ASSERT_THAT(read(fd_.get(), buf, 3), SyscallSucceedsWithValue(3));
  EXPECT_THAT(lseek(d.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(3));
  ASSERT_THAT(fcntl(d.get(), F_SETFL, O_APPEND), SyscallSucceeds());
  EXPECT_TRUE(fcntl(fd_.get(), F_GETFL) & O_APPEND);
}

TEST_F(FdTest, DupReturnsTheLowestFreeNumber) {
  FileDescriptor a(dup(fd_.get()));
  FileDescriptor b(dup(fd_.get()));
  FileDescriptor c(dup(fd_.get()));
  const int hole = a.get();
  a.reset();
  FileDescriptor d(dup(fd_.get()));
  EXPECT_EQ(d.get(), hole);
}

TEST(FdErrors, DupOfABadDescriptor) {
  EXPECT_THAT(dup(-1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(dup(INT_MAX), SyscallFailsWithErrno(EBADF));
}

TEST_F(FdTest, Dup2ReplacesTheTargetSilently) {
  FileDescriptor other = OpenOrThrow(file_.path(), O_RDONLY);
  ASSERT_THAT(fcntl(other.get(), F_SETFD, FD_CLOEXEC), SyscallSucceeds());
  ASSERT_THAT(dup2(fd_.get(), other.get()),
              SyscallSucceedsWithValue(other.get()));
  // The target now refers to fd_'s description and lost FD_CLOEXEC.
  EXPECT_THAT(fcntl(other.get(), F_GETFD), SyscallSucceedsWithValue(0));
  EXPECT_EQ(fcntl(other.get(), F_GETFL) & O_ACCMODE, O_RDWR);
}

TEST_F(FdTest, Dup2SameDescriptor) {
  EXPECT_THAT(dup2(fd_.get(), fd_.get()), SyscallSucceedsWithValue(fd_.get()));
  EXPECT_TRUE(IsOpen(fd_.get()));
  // With a closed descriptor, even the no-op form fails.
  EXPECT_THAT(dup2(1000, 1000), SyscallFailsWithErrno(EBADF));
}

TEST_F(FdTest, Dup2Errors) {
  EXPECT_THAT(dup2(-1, 500), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(dup2(fd_.get(), -1), SyscallFailsWithErrno(EBADF));
  struct rlimit rl;
  ASSERT_THAT(getrlimit(RLIMIT_NOFILE, &rl), SyscallSucceeds());
  EXPECT_THAT(dup2(fd_.get(), static_cast<int>(rl.rlim_cur)),
              SyscallFailsWithErrno(EBADF));
}

TEST_F(FdTest, Dup3) {
  const int target = 700;
  ASSERT_FALSE(IsOpen(target));
  ASSERT_THAT(dup3(fd_.get(), target, O_CLOEXEC),
              SyscallSucceedsWithValue(target));
  EXPECT_THAT(fcntl(target, F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  ASSERT_THAT(dup3(fd_.get(), target, 0), SyscallSucceedsWithValue(target));
  EXPECT_THAT(fcntl(target, F_GETFD), SyscallSucceedsWithValue(0));
  close(target);
  EXPECT_THAT(dup3(fd_.get(), fd_.get(), 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(dup3(fd_.get(), target, O_NONBLOCK),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(dup3(-1, target, 0), SyscallFailsWithErrno(EBADF));
  EXPECT_FALSE(IsOpen(target));
}

// --- fcntl ----------------------------------------------------------------

TEST_F(FdTest, FcntlDupfd) {
  FileDescriptor d(fcntl(fd_.get(), F_DUPFD, 600));
  ASSERT_THAT(d.get(), SyscallSucceedsWithValue(Ge(600)));
  EXPECT_THAT(fcntl(d.get(), F_GETFD), SyscallSucceedsWithValue(0));
  // The lowest free number at or above the argument.
  FileDescriptor e(fcntl(fd_.get(), F_DUPFD, 600));
  EXPECT_THAT(e.get(), SyscallSucceedsWithValue(Ge(601)));
  FileDescriptor c(fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0));
  ASSERT_THAT(c.get(), SyscallSucceeds());
  EXPECT_THAT(fcntl(c.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
}

TEST_F(FdTest, FcntlDupfdLimits) {
  struct rlimit rl;
  ASSERT_THAT(getrlimit(RLIMIT_NOFILE, &rl), SyscallSucceeds());
  EXPECT_THAT(fcntl(fd_.get(), F_DUPFD, static_cast<int>(rl.rlim_cur)),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(fcntl(fd_.get(), F_DUPFD, -1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(fcntl(-1, F_DUPFD, 0), SyscallFailsWithErrno(EBADF));
}

TEST_F(FdTest, FcntlGetSetFd) {
  EXPECT_THAT(fcntl(fd_.get(), F_GETFD), SyscallSucceedsWithValue(0));
  ASSERT_THAT(fcntl(fd_.get(), F_SETFD, FD_CLOEXEC), SyscallSucceeds());
  EXPECT_THAT(fcntl(fd_.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  // Unknown bits are ignored.
  ASSERT_THAT(fcntl(fd_.get(), F_SETFD, 0xfe), SyscallSucceeds());
  EXPECT_THAT(fcntl(fd_.get(), F_GETFD), SyscallSucceedsWithValue(0));
  EXPECT_THAT(fcntl(-1, F_GETFD), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(fcntl(-1, F_SETFD, 0), SyscallFailsWithErrno(EBADF));
}

TEST_F(FdTest, FcntlSetflChangesOnlyModifiableFlags) {
  ASSERT_THAT(fcntl(fd_.get(), F_SETFL, O_APPEND | O_NONBLOCK | O_RDONLY |
                                            O_CREAT | O_TRUNC | O_EXCL),
              SyscallSucceeds());
  int fl = fcntl(fd_.get(), F_GETFL);
  EXPECT_EQ(fl & O_ACCMODE, O_RDWR);  // access mode is unchangeable
  EXPECT_TRUE(fl & O_APPEND);
  EXPECT_TRUE(fl & O_NONBLOCK);
  EXPECT_FALSE(fl & (O_CREAT | O_TRUNC | O_EXCL));
  ASSERT_THAT(fcntl(fd_.get(), F_SETFL, 0), SyscallSucceeds());
  fl = fcntl(fd_.get(), F_GETFL);
  EXPECT_FALSE(fl & (O_APPEND | O_NONBLOCK));
  // The file was not truncated by the stray O_TRUNC.
  struct stat st;
  ASSERT_THAT(fstat(fd_.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_size, 10);
}

TEST_F(FdTest, FcntlUnknownCommandIsEinval) {
  EXPECT_THAT(fcntl(fd_.get(), 0x7fff), SyscallFailsWithErrno(EINVAL));
}

TEST_F(FdTest, FcntlOnOPathDescriptor) {
  FileDescriptor p = OpenOrThrow(file_.path(), O_PATH);
  EXPECT_THAT(fcntl(p.get(), F_GETFD), SyscallSucceeds());
  EXPECT_THAT(fcntl(p.get(), F_SETFD, FD_CLOEXEC), SyscallSucceeds());
  EXPECT_THAT(fcntl(p.get(), F_SETFL, O_NONBLOCK), SyscallFailsWithErrno(EBADF));
  FileDescriptor d(fcntl(p.get(), F_DUPFD, 0));
  EXPECT_THAT(d.get(), SyscallSucceeds());
}

// --- close / close_range --------------------------------------------------

TEST(FdClose, CloseTwiceIsEbadf) {
  Pipe p = MakePipe();
  int fd = p.read_end.release();
  EXPECT_THAT(close(fd), SyscallSucceeds());
  EXPECT_THAT(close(fd), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(close(-1), SyscallFailsWithErrno(EBADF));
}

// Opens descriptors at exactly the given numbers.
class FixedFds {
 public:
  FixedFds(int source, std::vector<int> numbers) : numbers_(numbers) {
    for (int n : numbers_) {
      if (dup2(source, n) != n) ThrowErrno("dup2");
    }
  }
  ~FixedFds() {
    for (int n : numbers_) close(n);
  }

 private:
  std::vector<int> numbers_;
};

TEST_F(FdTest, CloseRangeClosesTheRangeOnly) {
  FixedFds fds(fd_.get(), {800, 801, 802, 803, 805});
  ASSERT_THAT(close_range(801, 804, 0), SyscallSucceeds());
  EXPECT_TRUE(IsOpen(800));
  EXPECT_FALSE(IsOpen(801));
  EXPECT_FALSE(IsOpen(802));
  EXPECT_FALSE(IsOpen(803));
  EXPECT_TRUE(IsOpen(805));
  // A range over nothing open, and one up to the maximum.
  EXPECT_THAT(close_range(900, 950, 0), SyscallSucceeds());
  EXPECT_THAT(close_range(805, ~0U, 0), SyscallSucceeds());
  EXPECT_FALSE(IsOpen(805));
  EXPECT_TRUE(IsOpen(800));
}

TEST_F(FdTest, CloseRangeCloexec) {
  FixedFds fds(fd_.get(), {810, 811, 812});
  ASSERT_THAT(close_range(810, 811, CLOSE_RANGE_CLOEXEC), SyscallSucceeds());
  EXPECT_THAT(fcntl(810, F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  EXPECT_THAT(fcntl(811, F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  EXPECT_THAT(fcntl(812, F_GETFD), SyscallSucceedsWithValue(0));
}

TEST_F(FdTest, CloseRangeErrors) {
  EXPECT_THAT(close_range(10, 9, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(close_range(800, 801, 0x8), SyscallFailsWithErrno(EINVAL));
}

TEST_F(FdTest, CloseRangeUnshareLeavesTheParentTableAlone) {
  FixedFds fds(fd_.get(), {820, 821});
  EXPECT_THAT(ForkAndWait([] {
    TEST_CHECK_SUCCESS(close_range(820, 821, CLOSE_RANGE_UNSHARE));
    TEST_CHECK(!IsOpen(820));
  }),
              ExitedWithCode(0));
  EXPECT_TRUE(IsOpen(820));
  EXPECT_TRUE(IsOpen(821));
}

// --- RLIMIT_NOFILE --------------------------------------------------------

TEST_F(FdTest, DescriptorLimitGivesEmfile) {
  const int src = fd_.get();
  EXPECT_THAT(ForkAndWait([src] {
    // Start from a clean table: only the standard streams and `src`.
    TEST_CHECK(dup2(src, 3) == 3);
    TEST_CHECK_SUCCESS(close_range(4, ~0U, 0));
    struct rlimit rl = {16, 16};
    TEST_CHECK_SUCCESS(setrlimit(RLIMIT_NOFILE, &rl));
    for (;;) {
      int fd = dup(3);
      if (fd < 0) {
        TEST_CHECK(errno == EMFILE);
        break;
      }
      TEST_CHECK(fd < 16);
    }
    // Every number below the limit is now in use.
    for (int fd = 0; fd < 16; ++fd) TEST_CHECK(IsOpen(fd));
    int fds[2];
    TEST_CHECK_ERRNO(pipe(fds), EMFILE);
    TEST_CHECK_ERRNO(open("/", O_RDONLY), EMFILE);
    TEST_CHECK_ERRNO(fcntl(3, F_DUPFD, 0), EMFILE);
    TEST_CHECK_ERRNO(fcntl(3, F_DUPFD, 16), EINVAL);
    TEST_CHECK_ERRNO(dup2(3, 16), EBADF);
    // dup2 onto an open number below the limit still works.
    TEST_CHECK_VALUE(dup2(3, 15), 15);
    // Lowering the limit below open descriptors is allowed.
    rl = {8, 8};
    TEST_CHECK_SUCCESS(setrlimit(RLIMIT_NOFILE, &rl));
    TEST_CHECK(IsOpen(15));
    TEST_CHECK_ERRNO(dup(3), EMFILE);
  }),
              ExitedWithCode(0));
}

// --- pipes ----------------------------------------------------------------

TEST(PipeTest, DataFlowsInOrder) {
  Pipe p = MakePipe();
  ASSERT_THAT(write(p.write_end.get(), "hello", 5), SyscallSucceedsWithValue(5));
  ASSERT_THAT(write(p.write_end.get(), " world", 6), SyscallSucceedsWithValue(6));
  char buf[32];
  EXPECT_THAT(read(p.read_end.get(), buf, 3), SyscallSucceedsWithValue(3));
  EXPECT_EQ(std::string(buf, 3), "hel");
  EXPECT_THAT(read(p.read_end.get(), buf, sizeof(buf)),
              SyscallSucceedsWithValue(8));
  EXPECT_EQ(std::string(buf, 8), "lo world");
}

TEST(PipeTest, Pipe2Flags) {
  int fds[2];
  ASSERT_THAT(pipe2(fds, O_CLOEXEC | O_NONBLOCK), SyscallSucceeds());
  FileDescriptor r(fds[0]), w(fds[1]);
  for (int fd : fds) {
    EXPECT_THAT(fcntl(fd, F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
    EXPECT_TRUE(fcntl(fd, F_GETFL) & O_NONBLOCK);
  }
  EXPECT_EQ(fcntl(fds[0], F_GETFL) & O_ACCMODE, O_RDONLY);
  EXPECT_EQ(fcntl(fds[1], F_GETFL) & O_ACCMODE, O_WRONLY);
  EXPECT_THAT(pipe2(fds, O_APPEND), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(pipe2(fds, 0x40000000), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(pipe2(Opaque<int*>(nullptr), 0), SyscallFailsWithErrno(EFAULT));
}

TEST(PipeTest, EndsHaveOneDirection) {
  Pipe p = MakePipe();
  char c;
  EXPECT_THAT(write(p.read_end.get(), "x", 1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(read(p.write_end.get(), &c, 1), SyscallFailsWithErrno(EBADF));
}

TEST(PipeTest, ReadReturnsEofOnceAllWritersClose) {
  Pipe p = MakePipe();
  FileDescriptor second(dup(p.write_end.get()));
  ASSERT_THAT(write(p.write_end.get(), "ab", 2), SyscallSucceeds());
  p.write_end.reset();
  char buf[4];
  EXPECT_THAT(read(p.read_end.get(), buf, 4), SyscallSucceedsWithValue(2));
  // One writer remains: with O_NONBLOCK an empty pipe is EAGAIN, not EOF.
  ASSERT_THAT(fcntl(p.read_end.get(), F_SETFL, O_NONBLOCK), SyscallSucceeds());
  EXPECT_THAT(read(p.read_end.get(), buf, 4), SyscallFailsWithErrno(EAGAIN));
  second.reset();
  EXPECT_THAT(read(p.read_end.get(), buf, 4), SyscallSucceedsWithValue(0));
  EXPECT_THAT(read(p.read_end.get(), buf, 4), SyscallSucceedsWithValue(0));
}

TEST(PipeTest, BlockedReaderWakesWhenTheWriterCloses) {
  Pipe p = MakePipe();
  std::thread closer([&] { p.write_end.reset(); });
  char c;
  EXPECT_THAT(read(p.read_end.get(), &c, 1), SyscallSucceedsWithValue(0));
  closer.join();
}

TEST(PipeTest, WriteWithoutReadersRaisesSigpipe) {
  EXPECT_THAT(ForkAndWait([] {
    int fds[2];
    TEST_CHECK_SUCCESS(pipe(fds));
    close(fds[0]);
    signal(SIGPIPE, SIG_DFL);
    ssize_t ignored = write(fds[1], "x", 1);
    (void)ignored;
    _exit(9);  // not reached: SIGPIPE kills
  }),
              KilledBySignal(SIGPIPE));
}

std::atomic<int> g_sigpipe_count{0};
void CountSigpipe(int) { g_sigpipe_count.fetch_add(1); }

TEST(PipeTest, WriteWithoutReadersIsEpipeWhenSigpipeIsHandled) {
  struct sigaction sa = {}, old;
  sa.sa_handler = CountSigpipe;
  ASSERT_THAT(sigaction(SIGPIPE, &sa, &old), SyscallSucceeds());
  g_sigpipe_count = 0;
  Pipe p = MakePipe();
  p.read_end.reset();
  EXPECT_THAT(write(p.write_end.get(), "x", 1), SyscallFailsWithErrno(EPIPE));
  EXPECT_EQ(g_sigpipe_count.load(), 1);
  sa.sa_handler = SIG_IGN;
  ASSERT_THAT(sigaction(SIGPIPE, &sa, nullptr), SyscallSucceeds());
  EXPECT_THAT(write(p.write_end.get(), "x", 1), SyscallFailsWithErrno(EPIPE));
  EXPECT_EQ(g_sigpipe_count.load(), 1);
  sigaction(SIGPIPE, &old, nullptr);
}

TEST(PipeTest, PipeSize) {
  Pipe p = MakePipe();
  const long page = sysconf(_SC_PAGESIZE);
  EXPECT_THAT(fcntl(p.read_end.get(), F_GETPIPE_SZ),
              SyscallSucceedsWithValue(16 * page));
  // Rounded up to a power-of-two number of pages.
  EXPECT_THAT(fcntl(p.write_end.get(), F_SETPIPE_SZ, 5000),
              SyscallSucceedsWithValue(2 * page));
  EXPECT_THAT(fcntl(p.read_end.get(), F_GETPIPE_SZ),
              SyscallSucceedsWithValue(2 * page));
  EXPECT_THAT(fcntl(p.write_end.get(), F_SETPIPE_SZ, 3 * page),
              SyscallSucceedsWithValue(4 * page));
  // Anything below a page becomes one page.
  EXPECT_THAT(fcntl(p.write_end.get(), F_SETPIPE_SZ, 1),
              SyscallSucceedsWithValue(page));
  EXPECT_THAT(fcntl(p.write_end.get(), F_SETPIPE_SZ, 1 << 20),
              SyscallSucceedsWithValue(1 << 20));
}

TEST(PipeTest, PipeSizeErrors) {
  Pipe p = MakePipe();
  const long page = sysconf(_SC_PAGESIZE);
  // Shrinking below the data it holds is EBUSY.
  std::string data(3 * page, 'd');
  WriteAll(p.write_end.get(), data);
  EXPECT_THAT(fcntl(p.write_end.get(), F_SETPIPE_SZ, page),
              SyscallFailsWithErrno(EBUSY));
  TempPath f = TempPath::File("");
  FileDescriptor file = OpenOrThrow(f.path(), O_RDONLY);
  EXPECT_THAT(fcntl(file.get(), F_GETPIPE_SZ), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(fcntl(file.get(), F_SETPIPE_SZ, page),
              SyscallFailsWithErrno(EBADF));
  // Above /proc/sys/fs/pipe-max-size (1 MiB by default) without
  // CAP_SYS_RESOURCE.
  const int wfd = p.write_end.get();
  EXPECT_THAT(ForkAndWait([wfd] {
    DropPrivilegesInChild();
    TEST_CHECK_ERRNO(fcntl(wfd, F_SETPIPE_SZ, 1 << 30), EPERM);
  }),
              ExitedWithCode(0));
}

TEST(PipeTest, NonblockingReadAndWrite) {
  Pipe p = MakePipe(O_NONBLOCK);
  char c;
  EXPECT_THAT(read(p.read_end.get(), &c, 1), SyscallFailsWithErrno(EAGAIN));
  // Fill the pipe: it takes exactly its capacity in page-sized writes.
  const int capacity = fcntl(p.write_end.get(), F_GETPIPE_SZ);
  std::string page(4096, 'p');
  int total = 0;
  for (;;) {
    ssize_t n = write(p.write_end.get(), page.data(), page.size());
    if (n < 0) {
      EXPECT_EQ(errno, EAGAIN);
      break;
    }
    total += n;
  }
  EXPECT_EQ(total, capacity);
  EXPECT_THAT(write(p.write_end.get(), "x", 1), SyscallFailsWithErrno(EAGAIN));
  EXPECT_THAT(read(p.read_end.get(), &c, 1), SyscallSucceedsWithValue(1));
}

TEST(PipeTest, SmallNonblockingWritesAreAllOrNothing) {
  Pipe p = MakePipe(O_NONBLOCK);
  const int capacity = fcntl(p.write_end.get(), F_GETPIPE_SZ);
  ASSERT_THAT(capacity, SyscallSucceeds());
  // Leave exactly 100 bytes of room.
  std::string fill(capacity - 100, 'f');
  ASSERT_THAT(write(p.write_end.get(), fill.data(), fill.size()),
              SyscallSucceedsWithValue(static_cast<ssize_t>(fill.size())));
  std::string small(200, 's');
  // 200 <= PIPE_BUF bytes do not fit: nothing is written.
  EXPECT_THAT(write(p.write_end.get(), small.data(), small.size()),
              SyscallFailsWithErrno(EAGAIN));
  EXPECT_THAT(write(p.write_end.get(), small.data(), 100),
              SyscallSucceedsWithValue(100));
  EXPECT_THAT(write(p.write_end.get(), "x", 1), SyscallFailsWithErrno(EAGAIN));
}

TEST(PipeTest, LargeBlockingWriteIsDeliveredWhole) {
  Pipe p = MakePipe();
  std::string data(1 << 20, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  std::thread writer([&] {
    EXPECT_THAT(write(p.write_end.get(), data.data(), data.size()),
                SyscallSucceedsWithValue(static_cast<ssize_t>(data.size())));
    p.write_end.reset();
  });
  std::string got = ReadAll(p.read_end.get());
  writer.join();
  EXPECT_TRUE(got == data);
}

TEST(PipeTest, WritesOfPipeBufBytesAreNeverInterleaved) {
  Pipe p = MakePipe();
  constexpr int kWriters = 3;
  constexpr int kRecords = 200;
  std::vector<pid_t> pids;
  for (int w = 0; w < kWriters; ++w) {
    pid_t pid = fork();
    ASSERT_THAT(pid, SyscallSucceeds());
    if (pid == 0) {
      alarm(kChildWatchdogSeconds);
      char record[PIPE_BUF];
      memset(record, 'a' + w, sizeof(record));
      for (int i = 0; i < kRecords; ++i) {
        if (write(p.write_end.get(), record, sizeof(record)) != PIPE_BUF) {
          _exit(1);
        }
      }
      _exit(0);
    }
    pids.push_back(pid);
  }
  p.write_end.reset();
  std::string all = ReadAll(p.read_end.get());
  for (pid_t pid : pids) {
    EXPECT_THAT(WaitForStatus(pid), ExitedWithCode(0));
  }
  ASSERT_EQ(all.size(), static_cast<size_t>(kWriters * kRecords * PIPE_BUF));
  int counts[kWriters] = {};
  for (size_t rec = 0; rec < all.size(); rec += PIPE_BUF) {
    const char first = all[rec];
    ASSERT_TRUE(first >= 'a' && first < 'a' + kWriters);
    ASSERT_EQ(std::string(all, rec, PIPE_BUF), std::string(PIPE_BUF, first))
        << "record at " << rec << " is interleaved";
    ++counts[first - 'a'];
  }
  for (int c : counts) EXPECT_EQ(c, kRecords);
}

TEST(PipeTest, PacketModeKeepsWriteBoundaries) {
  Pipe p = MakePipe(O_DIRECT);
  ASSERT_THAT(write(p.write_end.get(), "abc", 3), SyscallSucceeds());
  ASSERT_THAT(write(p.write_end.get(), "defgh", 5), SyscallSucceeds());
  char buf[16];
  EXPECT_THAT(read(p.read_end.get(), buf, sizeof(buf)),
              SyscallSucceedsWithValue(3));
  // A short read discards the rest of the packet.
  EXPECT_THAT(read(p.read_end.get(), buf, 2), SyscallSucceedsWithValue(2));
  EXPECT_EQ(std::string(buf, 2), "de");
  ASSERT_THAT(fcntl(p.read_end.get(), F_SETFL, O_NONBLOCK), SyscallSucceeds());
  EXPECT_THAT(read(p.read_end.get(), buf, sizeof(buf)),
              SyscallFailsWithErrno(EAGAIN));
}

// --- poll / ppoll ---------------------------------------------------------

TEST(PollTest, PipeReadiness) {
  Pipe p = MakePipe();
  struct pollfd fds[2] = {{p.read_end.get(), POLLIN, -1},
                          {p.write_end.get(), POLLOUT, -1}};
  EXPECT_THAT(poll(fds, 2, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(fds[0].revents, 0);
  EXPECT_EQ(fds[1].revents, POLLOUT);
  ASSERT_THAT(write(p.write_end.get(), "x", 1), SyscallSucceeds());
  EXPECT_THAT(poll(fds, 2, 0), SyscallSucceedsWithValue(2));
  EXPECT_EQ(fds[0].revents, POLLIN);
  EXPECT_EQ(fds[1].revents, POLLOUT);
}

TEST(PollTest, HangupAndError) {
  Pipe p = MakePipe();
  ASSERT_THAT(write(p.write_end.get(), "x", 1), SyscallSucceeds());
  p.write_end.reset();
  // POLLHUP is reported even though it was not requested, alongside
  // remaining data.
  struct pollfd r = {p.read_end.get(), POLLIN, 0};
  EXPECT_THAT(poll(&r, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(r.revents, POLLIN | POLLHUP);
  char c;
  ASSERT_THAT(read(p.read_end.get(), &c, 1), SyscallSucceeds());
  r.events = 0;
  EXPECT_THAT(poll(&r, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(r.revents, POLLHUP);

  Pipe q = MakePipe();
  q.read_end.reset();
  struct pollfd w = {q.write_end.get(), POLLOUT, 0};
  EXPECT_THAT(poll(&w, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_TRUE(w.revents & POLLERR);
}

TEST(PollTest, InvalidAndNegativeDescriptors) {
  Pipe p = MakePipe();
  int closed = p.write_end.get();
  p.write_end.reset();
  struct pollfd fds[2] = {{closed, POLLIN, 0}, {-1, POLLIN, 0}};
  EXPECT_THAT(poll(fds, 2, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(fds[0].revents, POLLNVAL);
  EXPECT_EQ(fds[1].revents, 0);  // a negative fd is skipped
}

TEST(PollTest, RegularFilesAreAlwaysReady) {
  TempPath f = TempPath::File("x");
  FileDescriptor fd = OpenOrThrow(f.path(), O_RDWR);
  struct pollfd p = {fd.get(), POLLIN | POLLOUT, 0};
  EXPECT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(p.revents, POLLIN | POLLOUT);
}

TEST(PollTest, StatusFlagsAreSharedByDuplicates) {
  Pipe p = MakePipe();
  FileDescriptor dup_fd(dup(p.read_end.get()));
  ASSERT_THAT(fcntl(p.read_end.get(), F_SETFL, O_NONBLOCK), SyscallSucceeds());
  char c;
  // The duplicate shares the open file description, so it is non-blocking.
  EXPECT_THAT(read(dup_fd.get(), &c, 1), SyscallFailsWithErrno(EAGAIN));
}

TEST(PollTest, TimeoutElapses) {
  Pipe p = MakePipe();
  struct pollfd fd = {p.read_end.get(), POLLIN, 0};
  const int64_t start = MonotonicNanos();
  EXPECT_THAT(poll(&fd, 1, 100), SyscallSucceedsWithValue(0));
  EXPECT_GE(MonotonicNanos() - start, 100 * 1000 * 1000);
  // No descriptors: poll is just a sleep.
  const int64_t start2 = MonotonicNanos();
  EXPECT_THAT(poll(nullptr, 0, 50), SyscallSucceedsWithValue(0));
  EXPECT_GE(MonotonicNanos() - start2, 50 * 1000 * 1000);
}

TEST(PollTest, BlocksUntilAnotherThreadWrites) {
  Pipe p = MakePipe();
  std::thread writer([&] { WriteAll(p.write_end.get(), "w"); });
  struct pollfd fd = {p.read_end.get(), POLLIN, 0};
  EXPECT_THAT(poll(&fd, 1, -1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(fd.revents, POLLIN);
  writer.join();
}

TEST(PollTest, Errors) {
  struct rlimit rl;
  ASSERT_THAT(getrlimit(RLIMIT_NOFILE, &rl), SyscallSucceeds());
  std::vector<struct pollfd> many(rl.rlim_cur + 1, {-1, 0, 0});
  EXPECT_THAT(poll(many.data(), many.size(), 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(poll(Opaque<struct pollfd*>(nullptr), 1, 0),
              SyscallFailsWithErrno(EFAULT));
}

TEST(PollTest, PpollTimeoutAndErrors) {
  Pipe p = MakePipe();
  struct pollfd fd = {p.read_end.get(), POLLIN, 0};
  struct timespec ts = {0, 20 * 1000 * 1000};
  const int64_t start = MonotonicNanos();
  EXPECT_THAT(ppoll(&fd, 1, &ts, nullptr), SyscallSucceedsWithValue(0));
  EXPECT_GE(MonotonicNanos() - start, 20 * 1000 * 1000);
  struct timespec bad = {0, 1000000000};
  EXPECT_THAT(ppoll(&fd, 1, &bad, nullptr), SyscallFailsWithErrno(EINVAL));
  struct timespec negative = {-1, 0};
  EXPECT_THAT(ppoll(&fd, 1, &negative, nullptr),
              SyscallFailsWithErrno(EINVAL));
}

void NoopHandler(int) {}

TEST(PollTest, PpollAppliesItsSignalMaskAtomically) {
  // SIGUSR1 is blocked and pending; ppoll's mask unblocks it, so the
  // handler runs and ppoll returns EINTR without waiting.
  struct sigaction sa = {}, old;
  sa.sa_handler = NoopHandler;
  ASSERT_THAT(sigaction(SIGUSR1, &sa, &old), SyscallSucceeds());
  sigset_t block, prev;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  ASSERT_THAT(sigprocmask(SIG_BLOCK, &block, &prev), SyscallSucceeds());
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  Pipe p = MakePipe();
  struct pollfd fd = {p.read_end.get(), POLLIN, 0};
  sigset_t empty;
  sigemptyset(&empty);
  struct timespec ts = {30, 0};
  EXPECT_THAT(ppoll(&fd, 1, &ts, &empty), SyscallFailsWithErrno(EINTR));
  // The original mask is back.
  sigset_t now;
  ASSERT_THAT(sigprocmask(SIG_SETMASK, nullptr, &now), SyscallSucceeds());
  EXPECT_TRUE(sigismember(&now, SIGUSR1));
  sigprocmask(SIG_SETMASK, &prev, nullptr);
  sigaction(SIGUSR1, &old, nullptr);
}

// --- select / pselect -----------------------------------------------------

TEST(SelectTest, PipeReadiness) {
  Pipe p = MakePipe();
  const int r = p.read_end.get(), w = p.write_end.get();
  fd_set rfds, wfds;
  FD_ZERO(&rfds);
  FD_ZERO(&wfds);
  FD_SET(r, &rfds);
  FD_SET(w, &wfds);
  struct timeval tv = {0, 0};
  EXPECT_THAT(select(std::max(r, w) + 1, &rfds, &wfds, nullptr, &tv),
              SyscallSucceedsWithValue(1));
  EXPECT_FALSE(FD_ISSET(r, &rfds));
  EXPECT_TRUE(FD_ISSET(w, &wfds));
  ASSERT_THAT(write(w, "x", 1), SyscallSucceeds());
  FD_SET(r, &rfds);
  FD_SET(w, &wfds);
  tv = {0, 0};
  EXPECT_THAT(select(std::max(r, w) + 1, &rfds, &wfds, nullptr, &tv),
              SyscallSucceedsWithValue(2));
  EXPECT_TRUE(FD_ISSET(r, &rfds));
}

TEST(SelectTest, EofIsReadable) {
  Pipe p = MakePipe();
  p.write_end.reset();
  fd_set rfds;
  FD_ZERO(&rfds);
  FD_SET(p.read_end.get(), &rfds);
  struct timeval tv = {0, 0};
  EXPECT_THAT(select(p.read_end.get() + 1, &rfds, nullptr, nullptr, &tv),
              SyscallSucceedsWithValue(1));
}

TEST(SelectTest, TimeoutElapsesAndIsUpdated) {
  Pipe p = MakePipe();
  fd_set rfds;
  FD_ZERO(&rfds);
  FD_SET(p.read_end.get(), &rfds);
  struct timeval tv = {0, 50 * 1000};
  const int64_t start = MonotonicNanos();
  EXPECT_THAT(select(p.read_end.get() + 1, &rfds, nullptr, nullptr, &tv),
              SyscallSucceedsWithValue(0));
  EXPECT_GE(MonotonicNanos() - start, 50 * 1000 * 1000);
  EXPECT_FALSE(FD_ISSET(p.read_end.get(), &rfds));
  // Linux writes back the time not slept: none is left.
  EXPECT_EQ(tv.tv_sec, 0);
  EXPECT_EQ(tv.tv_usec, 0);
}

TEST(SelectTest, Errors) {
  fd_set rfds;
  FD_ZERO(&rfds);
  struct timeval tv = {0, 0};
  EXPECT_THAT(select(-1, &rfds, nullptr, nullptr, &tv),
              SyscallFailsWithErrno(EINVAL));
  Pipe p = MakePipe();
  const int closed = p.write_end.get();
  p.write_end.reset();
  FD_SET(closed, &rfds);
  EXPECT_THAT(select(closed + 1, &rfds, nullptr, nullptr, &tv),
              SyscallFailsWithErrno(EBADF));
  FD_ZERO(&rfds);
  struct timeval negative = {-1, 0};
  EXPECT_THAT(select(1, &rfds, nullptr, nullptr, &negative),
              SyscallFailsWithErrno(EINVAL));
}

TEST(SelectTest, Pselect6) {
  Pipe p = MakePipe();
  fd_set rfds;
  FD_ZERO(&rfds);
  FD_SET(p.read_end.get(), &rfds);
  struct timespec ts = {0, 10 * 1000 * 1000};
  EXPECT_THAT(pselect(p.read_end.get() + 1, &rfds, nullptr, nullptr, &ts,
                      nullptr),
              SyscallSucceedsWithValue(0));
  ASSERT_THAT(write(p.write_end.get(), "x", 1), SyscallSucceeds());
  FD_SET(p.read_end.get(), &rfds);
  EXPECT_THAT(pselect(p.read_end.get() + 1, &rfds, nullptr, nullptr, &ts,
                      nullptr),
              SyscallSucceedsWithValue(1));
  struct timespec bad = {0, 1000000000};
  EXPECT_THAT(pselect(p.read_end.get() + 1, &rfds, nullptr, nullptr, &bad,
                      nullptr),
              SyscallFailsWithErrno(EINVAL));
}

}  // namespace
}  // namespace systest
