// read(2), write(2), pread(2), pwrite(2), readv(2), writev(2), preadv2(2),
// pwritev2(2) and lseek(2).

#include <limits.h>
#include <linux/fs.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/uio.h>

#include <climits>
#include <cstring>
#include <string>
#include <vector>

#include "tests/syscalls/test_util.h"

namespace systest {
namespace {

using ::testing::Ge;
using ::testing::Le;
using ::testing::AllOf;

// Two adjacent pages of which the second is unmapped: a buffer that ends at
// `good_end()` is valid, one that crosses it faults partway through.
class HalfMappedBuffer {
 public:
  HalfMappedBuffer() {
    page_ = sysconf(_SC_PAGESIZE);
    void* p = mmap(nullptr, 2 * page_, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) ThrowErrno("mmap");
    base_ = static_cast<char*>(p);
    if (munmap(base_ + page_, page_) != 0) ThrowErrno("munmap");
    memset(base_, 'g', page_);
  }
  ~HalfMappedBuffer() { munmap(base_, page_); }
  char* good_end() const { return base_ + page_; }
  char* bad() const { return base_ + page_; }

 private:
  long page_;
  char* base_;
};

class ReadWriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    file_ = TempPath::File("0123456789");
    fd_ = OpenOrThrow(file_.path(), O_RDWR);
  }

  TempPath file_;
  FileDescriptor fd_;
};

TEST_F(ReadWriteTest, ReadReturnsContentsAndAdvancesOffset) {
  char buf[4] = {};
  EXPECT_THAT(read(fd_.get(), buf, 4), SyscallSucceedsWithValue(4));
  EXPECT_EQ(std::string(buf, 4), "0123");
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(4));
  EXPECT_THAT(read(fd_.get(), buf, 4), SyscallSucceedsWithValue(4));
  EXPECT_EQ(std::string(buf, 4), "4567");
}

TEST_F(ReadWriteTest, ShortReadAtEndThenZeroAtEof) {
  char buf[16];
  ASSERT_THAT(lseek(fd_.get(), 8, SEEK_SET), SyscallSucceedsWithValue(8));
  EXPECT_THAT(read(fd_.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(2));
  EXPECT_EQ(std::string(buf, 2), "89");
  EXPECT_THAT(read(fd_.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(0));
}

TEST_F(ReadWriteTest, WriteOverwritesAtOffset) {
  ASSERT_THAT(lseek(fd_.get(), 3, SEEK_SET), SyscallSucceeds());
  EXPECT_THAT(write(fd_.get(), "abc", 3), SyscallSucceedsWithValue(3));
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(6));
  char buf[16];
  EXPECT_THAT(pread(fd_.get(), buf, sizeof(buf), 0),
              SyscallSucceedsWithValue(10));
  EXPECT_EQ(std::string(buf, 10), "012abc6789");
}

TEST_F(ReadWriteTest, ZeroLengthIo) {
  // A zero count never touches the buffer, so even a null one is fine.
  EXPECT_THAT(read(fd_.get(), nullptr, 0), SyscallSucceedsWithValue(0));
  EXPECT_THAT(write(fd_.get(), nullptr, 0), SyscallSucceedsWithValue(0));
  EXPECT_THAT(pread(fd_.get(), nullptr, 0, 5), SyscallSucceedsWithValue(0));
  EXPECT_THAT(pwrite(fd_.get(), nullptr, 0, 5), SyscallSucceedsWithValue(0));
  struct stat st;
  ASSERT_THAT(fstat(fd_.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_size, 10);
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(0));
}

TEST_F(ReadWriteTest, ZeroLengthIoStillChecksTheDescriptor) {
  EXPECT_THAT(read(-1, nullptr, 0), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(write(-1, nullptr, 0), SyscallFailsWithErrno(EBADF));
}

TEST(ReadWriteBadFd, ClosedOrNegativeFdIsEbadf) {
  char buf[4];
  int fd;
  {
    TempPath f = TempPath::File("x");
    fd = open(f.c_str(), O_RDONLY);
    ASSERT_THAT(fd, SyscallSucceeds());
    ASSERT_THAT(close(fd), SyscallSucceeds());
  }
  EXPECT_THAT(read(fd, buf, 1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(write(fd, buf, 1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(read(-1, buf, 1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(pread(-1, buf, 1, 0), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(pwrite(-1, buf, 1, 0), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(lseek(-1, 0, SEEK_SET), SyscallFailsWithErrno(EBADF));
}

TEST_F(ReadWriteTest, WrongAccessModeIsEbadf) {
  FileDescriptor ro = OpenOrThrow(file_.path(), O_RDONLY);
  FileDescriptor wo = OpenOrThrow(file_.path(), O_WRONLY);
  char buf[4] = {};
  EXPECT_THAT(write(ro.get(), "x", 1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(pwrite(ro.get(), "x", 1, 0), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(read(wo.get(), buf, 1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(pread(wo.get(), buf, 1, 0), SyscallFailsWithErrno(EBADF));
}

TEST_F(ReadWriteTest, OPathDescriptorCannotReadOrWrite) {
  FileDescriptor path = OpenOrThrow(file_.path(), O_PATH);
  char buf[4];
  EXPECT_THAT(read(path.get(), buf, 1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(write(path.get(), "x", 1), SyscallFailsWithErrno(EBADF));
}

TEST(ReadWriteDirectory, ReadOfDirectoryIsEisdir) {
  TempPath dir = TempPath::Dir();
  FileDescriptor fd = OpenOrThrow(dir.path(), O_RDONLY | O_DIRECTORY);
  char buf[16];
  EXPECT_THAT(read(fd.get(), buf, sizeof(buf)), SyscallFailsWithErrno(EISDIR));
  EXPECT_THAT(pread(fd.get(), buf, sizeof(buf), 0),
              SyscallFailsWithErrno(EISDIR));
}

TEST_F(ReadWriteTest, UnmappedBufferIsEfault) {
  HalfMappedBuffer mem;
  EXPECT_THAT(write(fd_.get(), mem.bad(), 4), SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(read(fd_.get(), mem.bad(), 4), SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(pwrite(fd_.get(), mem.bad(), 4, 0),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(pread(fd_.get(), mem.bad(), 4, 0),
              SyscallFailsWithErrno(EFAULT));
  // Nothing was written or consumed.
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(0));
  char buf[16];
  ASSERT_THAT(pread(fd_.get(), buf, sizeof(buf), 0),
              SyscallSucceedsWithValue(10));
  EXPECT_EQ(std::string(buf, 10), "0123456789");
}

TEST_F(ReadWriteTest, NullBufferWithNonZeroCountIsEfault) {
  char* null = Opaque<char*>(nullptr);
  EXPECT_THAT(read(fd_.get(), null, 4), SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(write(fd_.get(), null, 4), SyscallFailsWithErrno(EFAULT));
}

TEST_F(ReadWriteTest, PartiallyBadWriteBufferGivesShortCount) {
  HalfMappedBuffer mem;
  // 6 valid bytes ("gggggg") followed by the unmapped page.
  EXPECT_THAT(pwrite(fd_.get(), mem.good_end() - 6, 16, 0),
              SyscallSucceedsWithValue(6));
  char buf[16];
  ASSERT_THAT(pread(fd_.get(), buf, sizeof(buf), 0),
              SyscallSucceedsWithValue(10));
  EXPECT_EQ(std::string(buf, 10), "gggggg6789");
}

TEST_F(ReadWriteTest, PartiallyBadReadBufferGivesShortCount) {
  HalfMappedBuffer mem;
  EXPECT_THAT(read(fd_.get(), mem.good_end() - 4, 8),
              SyscallSucceedsWithValue(4));
  EXPECT_EQ(std::string(mem.good_end() - 4, 4), "0123");
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(4));
}

TEST_F(ReadWriteTest, PreadPwriteDoNotMoveTheOffset) {
  ASSERT_THAT(lseek(fd_.get(), 2, SEEK_SET), SyscallSucceeds());
  char buf[3];
  EXPECT_THAT(pread(fd_.get(), buf, 3, 5), SyscallSucceedsWithValue(3));
  EXPECT_EQ(std::string(buf, 3), "567");
  EXPECT_THAT(pwrite(fd_.get(), "XY", 2, 0), SyscallSucceedsWithValue(2));
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(2));
  EXPECT_THAT(read(fd_.get(), buf, 3), SyscallSucceedsWithValue(3));
  EXPECT_EQ(std::string(buf, 3), "234");
}

TEST_F(ReadWriteTest, PreadPastEofReturnsZero) {
  char buf[4];
  EXPECT_THAT(pread(fd_.get(), buf, 4, 10), SyscallSucceedsWithValue(0));
  EXPECT_THAT(pread(fd_.get(), buf, 4, 1 << 20), SyscallSucceedsWithValue(0));
}

TEST_F(ReadWriteTest, PwritePastEofLeavesAZeroFilledHole) {
  EXPECT_THAT(pwrite(fd_.get(), "end", 3, 20), SyscallSucceedsWithValue(3));
  struct stat st;
  ASSERT_THAT(fstat(fd_.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_size, 23);
  char buf[32];
  ASSERT_THAT(pread(fd_.get(), buf, sizeof(buf), 0),
              SyscallSucceedsWithValue(23));
  EXPECT_EQ(std::string(buf, 23),
            std::string("0123456789") + std::string(10, '\0') + "end");
}

TEST_F(ReadWriteTest, NegativeOffsetIsEinval) {
  char buf[4];
  EXPECT_THAT(pread(fd_.get(), buf, 1, -1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(pwrite(fd_.get(), buf, 1, -1), SyscallFailsWithErrno(EINVAL));
  struct iovec iov = {buf, 1};
  EXPECT_THAT(preadv(fd_.get(), &iov, 1, -5), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(pwritev(fd_.get(), &iov, 1, -5), SyscallFailsWithErrno(EINVAL));
}

TEST(ReadWritePipe, PositionalIoAndSeekOnAPipeIsEspipe) {
  Pipe p = MakePipe();
  char buf[4];
  EXPECT_THAT(pwrite(p.write_end.get(), "x", 1, 0),
              SyscallFailsWithErrno(ESPIPE));
  EXPECT_THAT(pread(p.read_end.get(), buf, 1, 0),
              SyscallFailsWithErrno(ESPIPE));
  EXPECT_THAT(lseek(p.read_end.get(), 0, SEEK_CUR),
              SyscallFailsWithErrno(ESPIPE));
  EXPECT_THAT(lseek(p.write_end.get(), 0, SEEK_SET),
              SyscallFailsWithErrno(ESPIPE));
  struct iovec iov = {buf, 1};
  EXPECT_THAT(preadv(p.read_end.get(), &iov, 1, 0),
              SyscallFailsWithErrno(ESPIPE));
}

TEST(ReadWriteAppend, OAppendWritesAtTheEndWhateverTheOffset) {
  TempPath f = TempPath::File("abc");
  FileDescriptor fd = OpenOrThrow(f.path(), O_RDWR | O_APPEND);
  ASSERT_THAT(lseek(fd.get(), 0, SEEK_SET), SyscallSucceedsWithValue(0));
  EXPECT_THAT(write(fd.get(), "de", 2), SyscallSucceedsWithValue(2));
  EXPECT_THAT(lseek(fd.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(5));
  // Linux: pwrite on an O_APPEND descriptor appends, ignoring the offset.
  EXPECT_THAT(pwrite(fd.get(), "f", 1, 0), SyscallSucceedsWithValue(1));
  char buf[16];
  ASSERT_THAT(pread(fd.get(), buf, sizeof(buf), 0),
              SyscallSucceedsWithValue(6));
  EXPECT_EQ(std::string(buf, 6), "abcdef");
}

TEST(ReadWriteAppend, AppendSeesWritesThroughOtherDescriptors) {
  TempPath f = TempPath::File("");
  FileDescriptor a = OpenOrThrow(f.path(), O_WRONLY | O_APPEND);
  FileDescriptor b = OpenOrThrow(f.path(), O_WRONLY);
  ASSERT_THAT(write(b.get(), "1234", 4), SyscallSucceedsWithValue(4));
  ASSERT_THAT(write(a.get(), "ab", 2), SyscallSucceedsWithValue(2));
  // b's own offset (4) did not move with the append through a.
  ASSERT_THAT(write(b.get(), "5", 1), SyscallSucceedsWithValue(1));
  FileDescriptor r = OpenOrThrow(f.path(), O_RDONLY);
  EXPECT_EQ(ReadAll(r.get()), "12345b");
}

TEST(ReadWriteFsize, WriteBeyondRlimitFsizeIsShortThenEfbig) {
  TempPath f = TempPath::File("");
  const std::string path = f.path();
  EXPECT_THAT(ForkAndWait([&] {
    TEST_CHECK(signal(SIGXFSZ, SIG_IGN) != SIG_ERR);
    struct rlimit rl = {8, 8};
    TEST_CHECK_SUCCESS(setrlimit(RLIMIT_FSIZE, &rl));
    int fd = open(path.c_str(), O_WRONLY);
    TEST_CHECK(fd >= 0);
    TEST_CHECK_VALUE(write(fd, "0123456789", 10), 8);
    TEST_CHECK_ERRNO(write(fd, "x", 1), EFBIG);
    TEST_CHECK_ERRNO(pwrite(fd, "x", 1, 100), EFBIG);
  }),
              ExitedWithCode(0));
  struct stat st;
  ASSERT_THAT(stat(path.c_str(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_size, 8);
}

TEST(ReadWriteFsize, WriteBeyondRlimitFsizeRaisesSigxfsz) {
  TempPath f = TempPath::File("");
  const std::string path = f.path();
  EXPECT_THAT(ForkAndWait([&] {
    struct rlimit rl = {0, 0};
    TEST_CHECK_SUCCESS(setrlimit(RLIMIT_FSIZE, &rl));
    // Disable core dumps so the status is just "killed by SIGXFSZ".
    TEST_CHECK_SUCCESS(setrlimit(RLIMIT_CORE, &rl));
    int fd = open(path.c_str(), O_WRONLY);
    TEST_CHECK(fd >= 0);
    ssize_t ignored = write(fd, "x", 1);
    (void)ignored;
    _exit(3);
  }),
              KilledBySignal(SIGXFSZ));
}

TEST_F(ReadWriteTest, PositionPlusCountOverflowIsEinval) {
  char buf[16];
  EXPECT_THAT(pread(fd_.get(), buf, sizeof(buf), LLONG_MAX - 4),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(pwrite(fd_.get(), buf, sizeof(buf), LLONG_MAX - 4),
              SyscallFailsWithErrno(EINVAL));
}

TEST(ReadWriteLarge, MultiMegabyteRoundTrip) {
  TempPath f = TempPath::File("");
  FileDescriptor fd = OpenOrThrow(f.path(), O_RDWR);
  std::string data(3 * 1024 * 1024 + 123, '\0');
  for (size_t i = 0; i < data.size(); ++i) {
    data[i] = static_cast<char>((i * 2654435761u) >> 13);
  }
  EXPECT_THAT(write(fd.get(), data.data(), data.size()),
              SyscallSucceedsWithValue(static_cast<ssize_t>(data.size())));
  std::string back(data.size(), '\0');
  EXPECT_THAT(pread(fd.get(), back.data(), back.size(), 0),
              SyscallSucceedsWithValue(static_cast<ssize_t>(data.size())));
  EXPECT_TRUE(back == data);
  // An unaligned window in the middle.
  std::string mid(5000, '\0');
  EXPECT_THAT(pread(fd.get(), mid.data(), mid.size(), 1000003),
              SyscallSucceedsWithValue(5000));
  EXPECT_TRUE(mid == data.substr(1000003, 5000));
}

TEST(ReadWriteDevices, NullAndZero) {
  FileDescriptor null = OpenOrThrow("/dev/null", O_RDWR);
  char buf[64];
  memset(buf, 'x', sizeof(buf));
  EXPECT_THAT(write(null.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(64));
  EXPECT_THAT(read(null.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(0));
  FileDescriptor zero = OpenOrThrow("/dev/zero", O_RDWR);
  EXPECT_THAT(read(zero.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(64));
  EXPECT_EQ(std::string(buf, 64), std::string(64, '\0'));
  EXPECT_THAT(write(zero.get(), "abc", 3), SyscallSucceedsWithValue(3));
}

TEST(ReadWritePipe, ReadvFromAPipeFillsBuffersInOrder) {
  Pipe p = MakePipe();
  WriteAll(p.write_end.get(), "abcdefg");
  char a[2], b[3], c[8];
  struct iovec iov[3] = {{a, 2}, {b, 3}, {c, 8}};
  EXPECT_THAT(readv(p.read_end.get(), iov, 3), SyscallSucceedsWithValue(7));
  EXPECT_EQ(std::string(a, 2), "ab");
  EXPECT_EQ(std::string(b, 3), "cde");
  EXPECT_EQ(std::string(c, 2), "fg");
}

TEST(ReadWritePipe, UnmappedBufferIsEfault) {
  Pipe p = MakePipe(O_NONBLOCK);
  HalfMappedBuffer mem;
  EXPECT_THAT(write(p.write_end.get(), mem.bad(), 8),
              SyscallFailsWithErrno(EFAULT));
  WriteAll(p.write_end.get(), "12345678");
  EXPECT_THAT(read(p.read_end.get(), mem.bad(), 8),
              SyscallFailsWithErrno(EFAULT));
}

// --- readv / writev -------------------------------------------------------

TEST_F(ReadWriteTest, WritevGathersInOrder) {
  char a[] = "AB", b[] = "", c[] = "CDE";
  struct iovec iov[3] = {{a, 2}, {b, 0}, {c, 3}};
  EXPECT_THAT(writev(fd_.get(), iov, 3), SyscallSucceedsWithValue(5));
  char buf[16];
  ASSERT_THAT(pread(fd_.get(), buf, sizeof(buf), 0),
              SyscallSucceedsWithValue(10));
  EXPECT_EQ(std::string(buf, 10), "ABCDE56789");
}

TEST_F(ReadWriteTest, ReadvScattersInOrder) {
  char a[3], b[4], c[8];
  struct iovec iov[3] = {{a, 3}, {b, 4}, {c, 8}};
  EXPECT_THAT(readv(fd_.get(), iov, 3), SyscallSucceedsWithValue(10));
  EXPECT_EQ(std::string(a, 3), "012");
  EXPECT_EQ(std::string(b, 4), "3456");
  EXPECT_EQ(std::string(c, 3), "789");
}

TEST_F(ReadWriteTest, VectorZeroCountAndNullEntries) {
  EXPECT_THAT(readv(fd_.get(), nullptr, 0), SyscallSucceedsWithValue(0));
  EXPECT_THAT(writev(fd_.get(), nullptr, 0), SyscallSucceedsWithValue(0));
  struct iovec iov[2] = {{nullptr, 0}, {nullptr, 0}};
  EXPECT_THAT(readv(fd_.get(), iov, 2), SyscallSucceedsWithValue(0));
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(0));
}

TEST_F(ReadWriteTest, VectorCountLimits) {
  char byte;
  std::vector<struct iovec> iov(IOV_MAX + 1, {&byte, 1});
  EXPECT_THAT(readv(fd_.get(), iov.data(), IOV_MAX + 1),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(writev(fd_.get(), iov.data(), Opaque(-1)),
              SyscallFailsWithErrno(EINVAL));
  // Exactly IOV_MAX is allowed: reads the 10 bytes one per entry.
  EXPECT_THAT(readv(fd_.get(), iov.data(), IOV_MAX),
              SyscallSucceedsWithValue(10));
}

TEST_F(ReadWriteTest, VectorLengthAboveSsizeMaxIsEinval) {
  // One entry that does not fit in ssize_t is refused outright. (A sum of
  // entries that overflows is clamped by Linux, not refused.)
  char buf[1];
  struct iovec iov[2] = {{buf, 1},
                         {buf, static_cast<size_t>(SSIZE_MAX) + 1}};
  EXPECT_THAT(readv(fd_.get(), iov, 2), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(writev(fd_.get(), iov, 2), SyscallFailsWithErrno(EINVAL));
}

TEST_F(ReadWriteTest, UnmappedIovecArrayIsEfault) {
  HalfMappedBuffer mem;
  EXPECT_THAT(readv(fd_.get(), reinterpret_cast<struct iovec*>(mem.bad()), 1),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(writev(fd_.get(), reinterpret_cast<struct iovec*>(mem.bad()), 1),
              SyscallFailsWithErrno(EFAULT));
}

TEST_F(ReadWriteTest, WritevStopsShortAtABadSecondBuffer) {
  HalfMappedBuffer mem;
  char good[] = "ABCD";
  struct iovec iov[2] = {{good, 4}, {mem.bad(), 4}};
  EXPECT_THAT(writev(fd_.get(), iov, 2), SyscallSucceedsWithValue(4));
  char buf[16];
  ASSERT_THAT(pread(fd_.get(), buf, sizeof(buf), 0),
              SyscallSucceedsWithValue(10));
  EXPECT_EQ(std::string(buf, 10), "ABCD456789");
}

TEST_F(ReadWriteTest, PreadvPwritevUseTheGivenOffset) {
  char a[] = "xy";
  struct iovec wiov = {a, 2};
  EXPECT_THAT(pwritev(fd_.get(), &wiov, 1, 4), SyscallSucceedsWithValue(2));
  char b[3], c[3];
  struct iovec riov[2] = {{b, 3}, {c, 3}};
  EXPECT_THAT(preadv(fd_.get(), riov, 2, 2), SyscallSucceedsWithValue(6));
  EXPECT_EQ(std::string(b, 3), "23x");
  EXPECT_EQ(std::string(c, 3), "y67");
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(0));
}

// --- preadv2 / pwritev2 ---------------------------------------------------

TEST_F(ReadWriteTest, Preadv2OffsetMinusOneUsesAndAdvancesFilePosition) {
  ASSERT_THAT(lseek(fd_.get(), 6, SEEK_SET), SyscallSucceeds());
  char b[2];
  struct iovec iov = {b, 2};
  EXPECT_THAT(preadv2(fd_.get(), &iov, 1, -1, 0), SyscallSucceedsWithValue(2));
  EXPECT_EQ(std::string(b, 2), "67");
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(8));
  // With an explicit offset the position stays.
  EXPECT_THAT(preadv2(fd_.get(), &iov, 1, 0, 0), SyscallSucceedsWithValue(2));
  EXPECT_EQ(std::string(b, 2), "01");
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(8));
  char w[] = "Z";
  struct iovec wiov = {w, 1};
  EXPECT_THAT(pwritev2(fd_.get(), &wiov, 1, -1, 0),
              SyscallSucceedsWithValue(1));
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(9));
}

TEST_F(ReadWriteTest, Preadv2OtherNegativeOffsetIsEinval) {
  char b[2];
  struct iovec iov = {b, 2};
  EXPECT_THAT(preadv2(fd_.get(), &iov, 1, -2, 0),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(pwritev2(fd_.get(), &iov, 1, -2, 0),
              SyscallFailsWithErrno(EINVAL));
}

TEST_F(ReadWriteTest, Preadv2UnknownFlagIsEopnotsupp) {
  char b[2];
  struct iovec iov = {b, 2};
  EXPECT_THAT(preadv2(fd_.get(), &iov, 1, 0, 0x40000000),
              SyscallFailsWithErrno(EOPNOTSUPP));
  EXPECT_THAT(pwritev2(fd_.get(), &iov, 1, 0, 0x40000000),
              SyscallFailsWithErrno(EOPNOTSUPP));
}

TEST_F(ReadWriteTest, Pwritev2SyncFlagsWrite) {
  char w[] = "S";
  struct iovec iov = {w, 1};
  EXPECT_THAT(pwritev2(fd_.get(), &iov, 1, 0, RWF_DSYNC),
              SyscallSucceedsWithValue(1));
  EXPECT_THAT(pwritev2(fd_.get(), &iov, 1, 1, RWF_SYNC),
              SyscallSucceedsWithValue(1));
  char buf[4];
  ASSERT_THAT(pread(fd_.get(), buf, 3, 0), SyscallSucceedsWithValue(3));
  EXPECT_EQ(std::string(buf, 3), "SS2");
}

TEST_F(ReadWriteTest, Pwritev2AppendFlagAppendsAndKeepsPosition) {
  char w[] = "ap";
  struct iovec iov = {w, 2};
  EXPECT_THAT(pwritev2(fd_.get(), &iov, 1, 0, RWF_APPEND),
              SyscallSucceedsWithValue(2));
  char buf[16];
  ASSERT_THAT(pread(fd_.get(), buf, sizeof(buf), 0),
              SyscallSucceedsWithValue(12));
  EXPECT_EQ(std::string(buf, 12), "0123456789ap");
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(0));
}

TEST(ReadWritePipe, Preadv2NowaitOnAnEmptyPipeIsEagain) {
  Pipe p = MakePipe();
  char b[4];
  struct iovec iov = {b, sizeof(b)};
  EXPECT_THAT(preadv2(p.read_end.get(), &iov, 1, -1, RWF_NOWAIT),
              SyscallFailsWithErrno(EAGAIN));
  WriteAll(p.write_end.get(), "hi");
  EXPECT_THAT(preadv2(p.read_end.get(), &iov, 1, -1, RWF_NOWAIT),
              SyscallSucceedsWithValue(2));
  EXPECT_EQ(std::string(b, 2), "hi");
}

// --- lseek ----------------------------------------------------------------

TEST_F(ReadWriteTest, LseekWhence) {
  EXPECT_THAT(lseek(fd_.get(), 4, SEEK_SET), SyscallSucceedsWithValue(4));
  EXPECT_THAT(lseek(fd_.get(), 3, SEEK_CUR), SyscallSucceedsWithValue(7));
  EXPECT_THAT(lseek(fd_.get(), -2, SEEK_CUR), SyscallSucceedsWithValue(5));
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_END), SyscallSucceedsWithValue(10));
  EXPECT_THAT(lseek(fd_.get(), -3, SEEK_END), SyscallSucceedsWithValue(7));
  EXPECT_THAT(lseek(fd_.get(), 5, SEEK_END), SyscallSucceedsWithValue(15));
}

TEST_F(ReadWriteTest, LseekBeforeStartIsEinvalAndKeepsOffset) {
  ASSERT_THAT(lseek(fd_.get(), 3, SEEK_SET), SyscallSucceeds());
  EXPECT_THAT(lseek(fd_.get(), -1, SEEK_SET), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(lseek(fd_.get(), -4, SEEK_CUR), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(lseek(fd_.get(), -11, SEEK_END), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(3));
}

TEST_F(ReadWriteTest, LseekBadWhenceIsEinval) {
  EXPECT_THAT(lseek(fd_.get(), 0, 5), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(lseek(fd_.get(), 0, -1), SyscallFailsWithErrno(EINVAL));
}

TEST_F(ReadWriteTest, LseekOverflowIsEinval) {
  ASSERT_THAT(lseek(fd_.get(), 1, SEEK_SET), SyscallSucceeds());
  EXPECT_THAT(lseek(fd_.get(), LLONG_MAX, SEEK_CUR),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(lseek(fd_.get(), LLONG_MAX, SEEK_END),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(1));
}

TEST_F(ReadWriteTest, SeekPastEndThenWriteLeavesZeros) {
  ASSERT_THAT(lseek(fd_.get(), 4096 * 3, SEEK_SET),
              SyscallSucceedsWithValue(4096 * 3));
  char buf[8];
  EXPECT_THAT(read(fd_.get(), buf, 8), SyscallSucceedsWithValue(0));
  ASSERT_THAT(write(fd_.get(), "T", 1), SyscallSucceedsWithValue(1));
  EXPECT_THAT(pread(fd_.get(), buf, 8, 4096), SyscallSucceedsWithValue(8));
  EXPECT_EQ(std::string(buf, 8), std::string(8, '\0'));
}

TEST_F(ReadWriteTest, SeekDataAndHole) {
  // A file system may report holes exactly or treat the whole file as
  // data; either way data is found where data was written, a hole is found
  // at or before EOF, and past EOF both fail with ENXIO.
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_DATA), SyscallSucceedsWithValue(0));
  EXPECT_THAT(lseek(fd_.get(), 5, SEEK_DATA), SyscallSucceedsWithValue(5));
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_HOLE), SyscallSucceedsWithValue(10));
  EXPECT_THAT(lseek(fd_.get(), 9, SEEK_HOLE), SyscallSucceedsWithValue(10));
  EXPECT_THAT(lseek(fd_.get(), 10, SEEK_DATA), SyscallFailsWithErrno(ENXIO));
  EXPECT_THAT(lseek(fd_.get(), 10, SEEK_HOLE), SyscallFailsWithErrno(ENXIO));
  EXPECT_THAT(lseek(fd_.get(), 100, SEEK_DATA), SyscallFailsWithErrno(ENXIO));
  EXPECT_THAT(lseek(fd_.get(), -1, SEEK_DATA), SyscallFailsWithErrno(ENXIO));
}

TEST(ReadWriteSeek, SeekHoleInASparseFile) {
  TempPath f = TempPath::File("");
  FileDescriptor fd = OpenOrThrow(f.path(), O_RDWR);
  constexpr off_t kSize = 1 << 20;
  ASSERT_THAT(pwrite(fd.get(), "x", 1, kSize - 1), SyscallSucceedsWithValue(1));
  // The first hole is at 0 when holes are reported, else at EOF.
  off_t hole = lseek(fd.get(), 0, SEEK_HOLE);
  EXPECT_TRUE(hole == 0 || hole == kSize) << hole;
  EXPECT_THAT(lseek(fd.get(), 0, SEEK_DATA),
              SyscallSucceedsWithValue(AllOf(Ge(0), Le(kSize - 1))));
  EXPECT_THAT(lseek(fd.get(), kSize - 1, SEEK_DATA),
              SyscallSucceedsWithValue(kSize - 1));
}

}  // namespace
}  // namespace systest
