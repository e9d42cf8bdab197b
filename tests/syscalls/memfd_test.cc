// memfd_create(2): anonymous files with tmpfs semantics.

#include <sys/mman.h>
#include <sys/stat.h>

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

}  // namespace
}  // namespace systest
