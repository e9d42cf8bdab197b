// splice, tee, vmsplice, copy_file_range and sync_file_range: which ends
// must be pipes, offsets, blocking and non-blocking behaviour, and errors.

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "tests/syscalls/test_util.h"

namespace systest {
namespace {

std::string ReadN(int fd, size_t n) {
  std::string s(n, '\0');
  ssize_t r = read(fd, s.data(), n);
  s.resize(r > 0 ? static_cast<size_t>(r) : 0);
  return s;
}

TEST(SpliceTest, FileToPipeAndBack) {
  TempPath src = TempPath::File("0123456789");
  FileDescriptor in = OpenOrThrow(src.path(), O_RDONLY);
  Pipe p = MakePipe();
  loff_t off = 2;
  ASSERT_THAT(splice(in.get(), &off, p.write_end.get(), nullptr, 5, 0), SyscallSucceedsWithValue(5));
  EXPECT_EQ(off, 7);
  EXPECT_EQ(lseek(in.get(), 0, SEEK_CUR), 0) << "the file position did not move";
  // Without an offset the file position is used and moved.
  ASSERT_THAT(splice(in.get(), nullptr, p.write_end.get(), nullptr, 3, 0), SyscallSucceedsWithValue(3));
  EXPECT_EQ(lseek(in.get(), 0, SEEK_CUR), 3);
  EXPECT_EQ(ReadN(p.read_end.get(), 100), "23456012");

  TempPath dst = TempPath::File("");
  FileDescriptor out = OpenOrThrow(dst.path(), O_WRONLY);
  ASSERT_THAT(write(p.write_end.get(), "abcdef", 6), SyscallSucceedsWithValue(6));
  loff_t wo = 4;
  ASSERT_THAT(splice(p.read_end.get(), nullptr, out.get(), &wo, 6, 0), SyscallSucceedsWithValue(6));
  EXPECT_EQ(wo, 10);
  FileDescriptor check = OpenOrThrow(dst.path(), O_RDONLY);
  std::string got = ReadN(check.get(), 100);
  EXPECT_EQ(got, std::string("\0\0\0\0abcdef", 10));
}

TEST(SpliceTest, PipeEndsAndBlocking) {
  Pipe a = MakePipe(), b = MakePipe();
  // Empty and non-blocking: EAGAIN; once the writer is gone: 0.
  EXPECT_THAT(splice(a.read_end.get(), nullptr, b.write_end.get(), nullptr, 10, SPLICE_F_NONBLOCK),
              SyscallFailsWithErrno(EAGAIN));
  std::thread writer([&] {
    usleep(50000);
    write(a.write_end.get(), "late", 4);
  });
  EXPECT_THAT(splice(a.read_end.get(), nullptr, b.write_end.get(), nullptr, 10, 0),
              SyscallSucceedsWithValue(4));
  writer.join();
  EXPECT_EQ(ReadN(b.read_end.get(), 10), "late");
  a.write_end.reset();
  EXPECT_THAT(splice(a.read_end.get(), nullptr, b.write_end.get(), nullptr, 10, 0),
              SyscallSucceedsWithValue(0));
  // O_NONBLOCK on either end makes the call non-blocking.
  Pipe e = MakePipe(), g = MakePipe(O_NONBLOCK);
  EXPECT_THAT(splice(e.read_end.get(), nullptr, g.write_end.get(), nullptr, 10, 0),
              SyscallFailsWithErrno(EAGAIN));

  // tee copies without consuming.
  Pipe c = MakePipe(), d = MakePipe();
  ASSERT_THAT(write(c.write_end.get(), "dup", 3), SyscallSucceedsWithValue(3));
  ASSERT_THAT(tee(c.read_end.get(), d.write_end.get(), 10, 0), SyscallSucceedsWithValue(3));
  EXPECT_EQ(ReadN(d.read_end.get(), 10), "dup");
  EXPECT_EQ(ReadN(c.read_end.get(), 10), "dup");

  // vmsplice from user memory into a pipe.
  char m1[] = "vm", m2[] = "splice";
  iovec iov[2] = {{m1, 2}, {m2, 6}};
  ASSERT_THAT(vmsplice(c.write_end.get(), iov, 2, 0), SyscallSucceedsWithValue(8));
  EXPECT_EQ(ReadN(c.read_end.get(), 10), "vmsplice");
}

TEST(SpliceTest, Errors) {
  TempPath f = TempPath::File("data");
  FileDescriptor fd = OpenOrThrow(f.path(), O_RDWR);
  FileDescriptor fd2 = OpenOrThrow(f.path(), O_RDWR);
  Pipe p = MakePipe();
  loff_t off = 0;
  // Neither end a pipe.
  EXPECT_THAT(splice(fd.get(), nullptr, fd2.get(), nullptr, 1, 0), SyscallFailsWithErrno(EINVAL));
  // An offset for a pipe end.
  EXPECT_THAT(splice(p.read_end.get(), &off, fd.get(), nullptr, 1, 0), SyscallFailsWithErrno(ESPIPE));
  EXPECT_THAT(splice(fd.get(), nullptr, p.write_end.get(), nullptr, 1, 0x100),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(splice(-1, nullptr, p.write_end.get(), nullptr, 1, 0), SyscallFailsWithErrno(EBADF));
  // The wrong end of the pipe.
  EXPECT_THAT(splice(fd.get(), nullptr, p.read_end.get(), nullptr, 1, 0), SyscallFailsWithErrno(EBADF));
  off = -1;
  EXPECT_THAT(splice(fd.get(), &off, p.write_end.get(), nullptr, 1, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(tee(fd.get(), p.write_end.get(), 1, 0), SyscallFailsWithErrno(EINVAL));
  char c = 'x';
  iovec iov = {&c, 1};
  EXPECT_THAT(vmsplice(fd.get(), &iov, 1, 0), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(sync_file_range(fd.get(), 0, 0, 0x100), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(sync_file_range(fd.get(), -1, 0, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(sync_file_range(p.read_end.get(), 0, 0, 0), SyscallFailsWithErrno(ESPIPE));
  EXPECT_THAT(sync_file_range(fd.get(), 0, 4, SYNC_FILE_RANGE_WRITE), SyscallSucceeds());
}

TEST(CopyFileRangeTest, CopiesAndMovesPositions) {
  std::string data(300000, 'q');
  data[12345] = 'Z';
  TempPath src = TempPath::File(data);
  TempPath dst = TempPath::File("");
  FileDescriptor in = OpenOrThrow(src.path(), O_RDONLY);
  FileDescriptor out = OpenOrThrow(dst.path(), O_WRONLY);
  ASSERT_THAT(copy_file_range(in.get(), nullptr, out.get(), nullptr, data.size() + 10, 0),
              SyscallSucceedsWithValue(static_cast<ssize_t>(data.size())));
  EXPECT_EQ(lseek(in.get(), 0, SEEK_CUR), static_cast<off_t>(data.size()));
  EXPECT_EQ(lseek(out.get(), 0, SEEK_CUR), static_cast<off_t>(data.size()));
  EXPECT_THAT(copy_file_range(in.get(), nullptr, out.get(), nullptr, 10, 0),
              SyscallSucceedsWithValue(0));  // at the end
  FileDescriptor check = OpenOrThrow(dst.path(), O_RDONLY);
  EXPECT_EQ(ReadAll(check.get()), data);

  loff_t io = 12340, oo = 0;
  FileDescriptor out2 = OpenOrThrow(dst.path(), O_WRONLY);
  ASSERT_THAT(copy_file_range(in.get(), &io, out2.get(), &oo, 10, 0), SyscallSucceedsWithValue(10));
  EXPECT_EQ(io, 12350);
  EXPECT_EQ(oo, 10);
  EXPECT_EQ(lseek(out2.get(), 0, SEEK_CUR), 0);
  char buf[10];
  ASSERT_THAT(pread(check.get(), buf, 10, 0), SyscallSucceedsWithValue(10));
  EXPECT_EQ(std::string(buf, 10), "qqqqqZqqqq");
}

TEST(CopyFileRangeTest, Errors) {
  TempPath f = TempPath::File("0123456789");
  FileDescriptor rw = OpenOrThrow(f.path(), O_RDWR);
  FileDescriptor ro = OpenOrThrow(f.path(), O_RDONLY);
  FileDescriptor app = OpenOrThrow(f.path(), O_WRONLY | O_APPEND);
  TempPath d = TempPath::Dir();
  FileDescriptor dir = OpenOrThrow(d.path(), O_RDONLY | O_DIRECTORY);
  Pipe p = MakePipe();
  loff_t a = 0, b = 2;
  EXPECT_THAT(copy_file_range(rw.get(), &a, rw.get(), &b, 5, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(copy_file_range(rw.get(), nullptr, ro.get(), nullptr, 5, 0),
              SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(copy_file_range(rw.get(), nullptr, app.get(), nullptr, 5, 0),
              SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(copy_file_range(rw.get(), nullptr, rw.get(), nullptr, 5, 1),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(copy_file_range(dir.get(), nullptr, rw.get(), nullptr, 5, 0),
              SyscallFailsWithErrno(EISDIR));
  EXPECT_THAT(copy_file_range(p.read_end.get(), nullptr, rw.get(), nullptr, 5, 0),
              SyscallFailsWithErrno(EINVAL));
  a = -1;
  EXPECT_THAT(copy_file_range(rw.get(), &a, rw.get(), nullptr, 5, 0),
              SyscallFailsWithErrno(EOVERFLOW));
}

}  // namespace
}  // namespace systest
