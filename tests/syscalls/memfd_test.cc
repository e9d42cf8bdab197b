// memfd_create(2): anonymous files with tmpfs semantics.

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "tests/syscalls/test_util.h"

namespace systest {
namespace {

TEST(MemfdTest, IsAnUnlinkedRegularFile) {
  FileDescriptor fd(memfd_create("test", MFD_CLOEXEC));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_THAT(fcntl(fd.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  EXPECT_EQ(fcntl(fd.get(), F_GETFL) & O_ACCMODE, O_RDWR);
  struct stat st;
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0777u) << "the umask does not apply";
  EXPECT_EQ(st.st_nlink, 0u);
  EXPECT_EQ(st.st_size, 0);
}

TEST(MemfdTest, ReadWriteTruncateAndSharedMappings) {
  FileDescriptor fd(memfd_create("data", 0));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  ASSERT_THAT(write(fd.get(), "hello", 5), SyscallSucceedsWithValue(5));
  ASSERT_THAT(ftruncate(fd.get(), 8192), SyscallSucceeds());
  void* p = mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  ASSERT_NE(p, MAP_FAILED);
  char* c = static_cast<char*>(p);
  EXPECT_EQ(std::string(c, 5), "hello");
  c[5] = '!';
  c[4096] = 'x';
  char buf[6] = {};
  ASSERT_THAT(pread(fd.get(), buf, 6, 0), SyscallSucceedsWithValue(6));
  EXPECT_EQ(std::string(buf, 6), "hello!");
  ASSERT_THAT(pread(fd.get(), buf, 1, 4096), SyscallSucceedsWithValue(1));
  EXPECT_EQ(buf[0], 'x');
  munmap(p, 8192);
  // A forked child shares the same file.
  EXPECT_THAT(ForkAndWait([&] {
    TEST_CHECK_VALUE(pwrite(fd.get(), "C", 1, 0), 1);
  }),
              ExitedWithCode(0));
  ASSERT_THAT(pread(fd.get(), buf, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(buf[0], 'C');
}

TEST(MemfdTest, Errors) {
  EXPECT_THAT(memfd_create("x", 0x100), SyscallFailsWithErrno(EINVAL));
  std::string long_name(250, 'n');
  EXPECT_THAT(memfd_create(long_name.c_str(), 0), SyscallFailsWithErrno(EINVAL));
  std::string ok_name(249, 'n');
  FileDescriptor fd(memfd_create(ok_name.c_str(), 0));
  EXPECT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_THAT(memfd_create(Opaque<const char*>(nullptr), 0), SyscallFailsWithErrno(EFAULT));
}

TEST(MemfdTest, ProcShowsTheName) {
  FileDescriptor fd(memfd_create("myname", 0));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_EQ(FdLink(fd.get()), "/memfd:myname (deleted)");
}

TEST(MemfdTest, SealsNeedAllowSealing) {
  FileDescriptor fd(memfd_create("s", 0));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_THAT(fcntl(fd.get(), F_GET_SEALS), SyscallSucceedsWithValue(F_SEAL_SEAL));
  EXPECT_THAT(fcntl(fd.get(), F_ADD_SEALS, F_SEAL_WRITE), SyscallFailsWithErrno(EPERM));
  // Files without seals at all.
  Pipe p = MakePipe();
  EXPECT_THAT(fcntl(p.read_end.get(), F_GET_SEALS), SyscallFailsWithErrno(EINVAL));
}

TEST(MemfdTest, SealsEnforced) {
  FileDescriptor fd(memfd_create("sealed", MFD_ALLOW_SEALING));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_THAT(fcntl(fd.get(), F_GET_SEALS), SyscallSucceedsWithValue(0));
  ASSERT_THAT(write(fd.get(), "12345678", 8), SyscallSucceedsWithValue(8));
  EXPECT_THAT(fcntl(fd.get(), F_ADD_SEALS, 0x1000), SyscallFailsWithErrno(EINVAL));
  ASSERT_THAT(fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), SyscallSucceeds());
  EXPECT_THAT(ftruncate(fd.get(), 4), SyscallFailsWithErrno(EPERM));
  EXPECT_THAT(ftruncate(fd.get(), 100), SyscallFailsWithErrno(EPERM));
  EXPECT_THAT(ftruncate(fd.get(), 8), SyscallSucceeds());
  // Growing writes fail whole; writes inside the size work.
  EXPECT_THAT(pwrite(fd.get(), "abc", 3, 6), SyscallFailsWithErrno(EPERM));
  EXPECT_THAT(pwrite(fd.get(), "ab", 2, 6), SyscallSucceedsWithValue(2));
  EXPECT_THAT(fallocate(fd.get(), 0, 0, 100), SyscallFailsWithErrno(EPERM));

  ASSERT_THAT(fcntl(fd.get(), F_ADD_SEALS, F_SEAL_WRITE), SyscallSucceeds());
  EXPECT_THAT(pwrite(fd.get(), "x", 1, 0), SyscallFailsWithErrno(EPERM));
  EXPECT_EQ(mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0), MAP_FAILED);
  EXPECT_EQ(errno, EPERM);
  void* ro = mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd.get(), 0);
  ASSERT_NE(ro, MAP_FAILED);
  EXPECT_THAT(mprotect(ro, 4096, PROT_READ | PROT_WRITE), SyscallFailsWithErrno(EACCES));
  munmap(ro, 4096);
  // A private mapping may still be written (copy on write).
  void* priv = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd.get(), 0);
  ASSERT_NE(priv, MAP_FAILED);
  static_cast<char*>(priv)[0] = 'z';
  munmap(priv, 4096);

  ASSERT_THAT(fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SEAL), SyscallSucceeds());
  EXPECT_THAT(fcntl(fd.get(), F_GET_SEALS),
              SyscallSucceedsWithValue(F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE));
  EXPECT_THAT(fcntl(fd.get(), F_ADD_SEALS, F_SEAL_FUTURE_WRITE), SyscallFailsWithErrno(EPERM));

  // Only a writable descriptor adds seals.
  FileDescriptor fd2(memfd_create("ro", MFD_ALLOW_SEALING));
  std::string self = "/proc/self/fd/" + std::to_string(fd2.get());
  FileDescriptor rofd(open(self.c_str(), O_RDONLY));
  ASSERT_THAT(rofd.get(), SyscallSucceeds());
  EXPECT_THAT(fcntl(rofd.get(), F_ADD_SEALS, F_SEAL_GROW), SyscallFailsWithErrno(EPERM));
  EXPECT_THAT(fcntl(rofd.get(), F_GET_SEALS), SyscallSucceedsWithValue(0));
}

}  // namespace
}  // namespace systest
