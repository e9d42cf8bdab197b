// stat(2), lstat(2), fstat(2), fstatat(2), statx(2), access(2),
// faccessat(2) and faccessat2.

#include <grp.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <string>

#include "tests/syscalls/test_util.h"

namespace systest {
namespace {

using ::testing::Ge;

int64_t Nanos(const struct timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

int64_t NowRealtimeNanos() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return Nanos(ts);
}

// Waits (by sleeping, not as synchronization) until the realtime clock has
// moved past `t` by more than any file system timestamp granularity.
void WaitUntilClockPasses(const struct timespec& t) {
  const int64_t target = Nanos(t) + 50 * 1000 * 1000;
  while (NowRealtimeNanos() <= target) {
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, nullptr);
  }
}

int Faccessat2(int dirfd, const char* path, int mode, int flags) {
  return static_cast<int>(syscall(SYS_faccessat2, dirfd, path, mode, flags));
}

class StatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempPath::Dir();
    file_ = dir_.Child("file");
    FileDescriptor fd = OpenOrThrow(file_, O_CREAT | O_WRONLY, 0640);
    ASSERT_THAT(fchmod(fd.get(), 0640), SyscallSucceeds());
    WriteAll(fd.get(), "twelve bytes");
  }

  TempPath dir_;
  std::string file_;
};

TEST_F(StatTest, RegularFile) {
  struct stat st;
  ASSERT_THAT(stat(file_.c_str(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_mode, S_IFREG | 0640);
  EXPECT_EQ(st.st_size, 12);
  EXPECT_EQ(st.st_nlink, 1u);
  EXPECT_EQ(st.st_uid, geteuid());
  EXPECT_EQ(st.st_gid, getegid());
  EXPECT_GT(st.st_blksize, 0);
  EXPECT_NE(st.st_ino, 0u);
}

TEST_F(StatTest, FstatAgreesWithStat) {
  FileDescriptor fd = OpenOrThrow(file_, O_RDONLY);
  struct stat a, b;
  ASSERT_THAT(stat(file_.c_str(), &a), SyscallSucceeds());
  ASSERT_THAT(fstat(fd.get(), &b), SyscallSucceeds());
  EXPECT_EQ(a.st_dev, b.st_dev);
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(a.st_mode, b.st_mode);
  EXPECT_EQ(a.st_size, b.st_size);
  EXPECT_EQ(Nanos(a.st_mtim), Nanos(b.st_mtim));
}

TEST_F(StatTest, DistinctFilesHaveDistinctInodes) {
  TempPath other = TempPath::File("", dir_.path());
  struct stat a, b;
  ASSERT_THAT(stat(file_.c_str(), &a), SyscallSucceeds());
  ASSERT_THAT(stat(other.c_str(), &b), SyscallSucceeds());
  EXPECT_EQ(a.st_dev, b.st_dev);
  EXPECT_NE(a.st_ino, b.st_ino);
}

TEST_F(StatTest, LstatSeesTheSymlink) {
  const std::string link = dir_.Child("link");
  ASSERT_THAT(symlink("file", link.c_str()), SyscallSucceeds());
  struct stat l, s;
  ASSERT_THAT(lstat(link.c_str(), &l), SyscallSucceeds());
  EXPECT_TRUE(S_ISLNK(l.st_mode));
  EXPECT_EQ(l.st_size, 4);  // strlen("file")
  ASSERT_THAT(stat(link.c_str(), &s), SyscallSucceeds());
  EXPECT_TRUE(S_ISREG(s.st_mode));
  EXPECT_EQ(s.st_size, 12);
  EXPECT_NE(l.st_ino, s.st_ino);
}

TEST_F(StatTest, DanglingSymlink) {
  const std::string link = dir_.Child("dangling");
  ASSERT_THAT(symlink("nowhere", link.c_str()), SyscallSucceeds());
  struct stat st;
  EXPECT_THAT(stat(link.c_str(), &st), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(lstat(link.c_str(), &st), SyscallSucceeds());
}

TEST_F(StatTest, FileTypes) {
  struct stat st;
  ASSERT_THAT(stat(dir_.c_str(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  Pipe p = MakePipe();
  ASSERT_THAT(fstat(p.read_end.get(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  const std::string fifo = dir_.Child("fifo");
  ASSERT_THAT(mkfifo(fifo.c_str(), 0600), SyscallSucceeds());
  ASSERT_THAT(stat(fifo.c_str(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_size, 0);
  ASSERT_THAT(stat("/dev/null", &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(1, 3));
}

TEST_F(StatTest, Errors) {
  struct stat st;
  EXPECT_THAT(stat(dir_.Child("missing").c_str(), &st),
              SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(stat("", &st), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(stat((file_ + "/x").c_str(), &st),
              SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(stat(dir_.Child(std::string(NAME_MAX + 1, 'x')).c_str(), &st),
              SyscallFailsWithErrno(ENAMETOOLONG));
  EXPECT_THAT(fstat(-1, &st), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(stat(Opaque<const char*>(nullptr), &st),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(stat(file_.c_str(), Opaque<struct stat*>(nullptr)),
              SyscallFailsWithErrno(EFAULT));
  const std::string loop = dir_.Child("loop");
  ASSERT_THAT(symlink("loop", loop.c_str()), SyscallSucceeds());
  EXPECT_THAT(stat(loop.c_str(), &st), SyscallFailsWithErrno(ELOOP));
  EXPECT_THAT(lstat(loop.c_str(), &st), SyscallSucceeds());
}

TEST_F(StatTest, FstatOfOPathDescriptor) {
  FileDescriptor fd = OpenOrThrow(file_, O_PATH);
  struct stat st;
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_size, 12);
}

TEST_F(StatTest, FstatOfUnlinkedFileHasNoLinks) {
  FileDescriptor fd = OpenOrThrow(file_, O_RDONLY);
  ASSERT_THAT(unlink(file_.c_str()), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_nlink, 0u);
  EXPECT_EQ(st.st_size, 12);
}

TEST_F(StatTest, TrailingSlashes) {
  struct stat st;
  EXPECT_THAT(stat((file_ + "/").c_str(), &st), SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(lstat((file_ + "/").c_str(), &st),
              SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(stat((dir_.path() + "/").c_str(), &st), SyscallSucceeds());
  // A trailing slash makes lstat follow a symlink to a directory.
  const std::string link = dir_.Child("dirlink");
  ASSERT_THAT(symlink(dir_.c_str(), link.c_str()), SyscallSucceeds());
  ASSERT_THAT(lstat((link + "/").c_str(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  ASSERT_THAT(lstat(link.c_str(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISLNK(st.st_mode));
}

TEST(StatRootTest, DotDotOfTheRootIsTheRoot) {
  struct stat root, up, upup;
  ASSERT_THAT(stat("/", &root), SyscallSucceeds());
  ASSERT_THAT(stat("/..", &up), SyscallSucceeds());
  ASSERT_THAT(stat("/../../..", &upup), SyscallSucceeds());
  EXPECT_TRUE(S_ISDIR(root.st_mode));
  EXPECT_EQ(root.st_ino, up.st_ino);
  EXPECT_EQ(root.st_dev, up.st_dev);
  EXPECT_EQ(root.st_ino, upup.st_ino);
  // Repeated slashes are one separator.
  struct stat slashes;
  ASSERT_THAT(stat("//tmp///", &slashes), SyscallSucceeds());
  struct stat tmp;
  ASSERT_THAT(stat("/tmp", &tmp), SyscallSucceeds());
  EXPECT_EQ(slashes.st_ino, tmp.st_ino);
}

TEST_F(StatTest, BlocksCountAllocatedSpace) {
  const std::string dense = dir_.Child("dense");
  {
    FileDescriptor fd = OpenOrThrow(dense, O_CREAT | O_WRONLY, 0644);
    WriteAll(fd.get(), std::string(1 << 20, 'd'));
    ASSERT_THAT(fsync(fd.get()), SyscallSucceeds());
  }
  struct stat st;
  ASSERT_THAT(stat(dense.c_str(), &st), SyscallSucceeds());
  // st_blocks is in 512-byte units whatever st_blksize is.
  EXPECT_GE(st.st_blocks, (1 << 20) / 512);
  EXPECT_LT(st.st_blocks, 2 * (1 << 20) / 512);
  const std::string sparse = dir_.Child("sparse");
  {
    FileDescriptor fd = OpenOrThrow(sparse, O_CREAT | O_WRONLY, 0644);
    ASSERT_THAT(ftruncate(fd.get(), 1 << 20), SyscallSucceeds());
  }
  ASSERT_THAT(stat(sparse.c_str(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_size, 1 << 20);
  EXPECT_EQ(st.st_blocks, 0);
}

// --- fstatat --------------------------------------------------------------

TEST_F(StatTest, FstatatRelativeToDirfd) {
  FileDescriptor dfd = OpenOrThrow(dir_.path(), O_RDONLY | O_DIRECTORY);
  struct stat st;
  ASSERT_THAT(fstatat(dfd.get(), "file", &st, 0), SyscallSucceeds());
  EXPECT_EQ(st.st_size, 12);
  EXPECT_THAT(fstatat(dfd.get(), "missing", &st, 0),
              SyscallFailsWithErrno(ENOENT));
  FileDescriptor ffd = OpenOrThrow(file_, O_RDONLY);
  EXPECT_THAT(fstatat(ffd.get(), "x", &st, 0), SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(fstatat(-1, "file", &st, 0), SyscallFailsWithErrno(EBADF));
  // An absolute path ignores the dirfd.
  EXPECT_THAT(fstatat(-1, file_.c_str(), &st, 0), SyscallSucceeds());
}

TEST_F(StatTest, FstatatEmptyPath) {
  FileDescriptor fd = OpenOrThrow(file_, O_RDONLY);
  struct stat st;
  ASSERT_THAT(fstatat(fd.get(), "", &st, AT_EMPTY_PATH), SyscallSucceeds());
  EXPECT_EQ(st.st_size, 12);
  EXPECT_THAT(fstatat(fd.get(), "", &st, 0), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(fstatat(-1, "", &st, AT_EMPTY_PATH),
              SyscallFailsWithErrno(EBADF));
  // With AT_FDCWD, the empty path names the working directory.
  struct stat cwd, dot;
  ASSERT_THAT(fstatat(AT_FDCWD, "", &cwd, AT_EMPTY_PATH), SyscallSucceeds());
  ASSERT_THAT(stat(".", &dot), SyscallSucceeds());
  EXPECT_EQ(cwd.st_ino, dot.st_ino);
}

TEST_F(StatTest, FstatatSymlinkNofollow) {
  ASSERT_THAT(symlink("file", dir_.Child("link").c_str()), SyscallSucceeds());
  FileDescriptor dfd = OpenOrThrow(dir_.path(), O_RDONLY | O_DIRECTORY);
  struct stat st;
  ASSERT_THAT(fstatat(dfd.get(), "link", &st, AT_SYMLINK_NOFOLLOW),
              SyscallSucceeds());
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  ASSERT_THAT(fstatat(dfd.get(), "link", &st, 0), SyscallSucceeds());
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST_F(StatTest, FstatatUnknownFlagIsEinval) {
  struct stat st;
  EXPECT_THAT(fstatat(AT_FDCWD, file_.c_str(), &st, AT_NO_AUTOMOUNT),
              SyscallSucceeds());
  EXPECT_THAT(fstatat(AT_FDCWD, file_.c_str(), &st, 0x80000),
              SyscallFailsWithErrno(EINVAL));
}

// --- statx ----------------------------------------------------------------

TEST_F(StatTest, StatxBasicStatsAgreeWithStat) {
  struct statx stx = {};
  ASSERT_THAT(statx(AT_FDCWD, file_.c_str(), 0, STATX_BASIC_STATS, &stx),
              SyscallSucceeds());
  EXPECT_EQ(stx.stx_mask & STATX_BASIC_STATS, STATX_BASIC_STATS);
  struct stat st;
  ASSERT_THAT(stat(file_.c_str(), &st), SyscallSucceeds());
  EXPECT_EQ(stx.stx_mode, st.st_mode);
  EXPECT_EQ(stx.stx_ino, st.st_ino);
  EXPECT_EQ(stx.stx_size, static_cast<uint64_t>(st.st_size));
  EXPECT_EQ(stx.stx_nlink, st.st_nlink);
  EXPECT_EQ(stx.stx_uid, st.st_uid);
  EXPECT_EQ(stx.stx_gid, st.st_gid);
  EXPECT_EQ(stx.stx_blocks, static_cast<uint64_t>(st.st_blocks));
  EXPECT_EQ(makedev(stx.stx_dev_major, stx.stx_dev_minor), st.st_dev);
  EXPECT_EQ(stx.stx_mtime.tv_sec, st.st_mtim.tv_sec);
  EXPECT_EQ(stx.stx_mtime.tv_nsec, static_cast<uint32_t>(st.st_mtim.tv_nsec));
  EXPECT_EQ(stx.stx_blksize, static_cast<uint32_t>(st.st_blksize));
}

TEST_F(StatTest, StatxEmptyPathAndNofollow) {
  ASSERT_THAT(symlink("file", dir_.Child("link").c_str()), SyscallSucceeds());
  struct statx stx = {};
  ASSERT_THAT(statx(AT_FDCWD, dir_.Child("link").c_str(), AT_SYMLINK_NOFOLLOW,
                    STATX_TYPE | STATX_SIZE, &stx),
              SyscallSucceeds());
  EXPECT_TRUE(S_ISLNK(stx.stx_mode));
  EXPECT_EQ(stx.stx_size, 4u);
  FileDescriptor fd = OpenOrThrow(file_, O_RDONLY);
  ASSERT_THAT(statx(fd.get(), "", AT_EMPTY_PATH, STATX_SIZE, &stx),
              SyscallSucceeds());
  EXPECT_TRUE(stx.stx_mask & STATX_SIZE);
  EXPECT_EQ(stx.stx_size, 12u);
}

TEST_F(StatTest, StatxRejectsReservedMaskAndConflictingSyncFlags) {
  struct statx stx;
  EXPECT_THAT(statx(AT_FDCWD, file_.c_str(), 0, STATX__RESERVED, &stx),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(statx(AT_FDCWD, file_.c_str(),
                    AT_STATX_FORCE_SYNC | AT_STATX_DONT_SYNC, STATX_BASIC_STATS,
                    &stx),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(statx(AT_FDCWD, file_.c_str(), 0x40000000, STATX_BASIC_STATS,
                    &stx),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(statx(AT_FDCWD, dir_.Child("missing").c_str(), 0,
                    STATX_BASIC_STATS, &stx),
              SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(statx(AT_FDCWD, file_.c_str(), 0, STATX_BASIC_STATS,
                    Opaque<struct statx*>(nullptr)),
              SyscallFailsWithErrno(EFAULT));
}

TEST_F(StatTest, StatxSyncFlagsAreAccepted) {
  struct statx stx;
  EXPECT_THAT(statx(AT_FDCWD, file_.c_str(), AT_STATX_FORCE_SYNC,
                    STATX_BASIC_STATS, &stx),
              SyscallSucceeds());
  EXPECT_THAT(statx(AT_FDCWD, file_.c_str(), AT_STATX_DONT_SYNC,
                    STATX_BASIC_STATS, &stx),
              SyscallSucceeds());
  // A zero mask is a valid request.
  EXPECT_THAT(statx(AT_FDCWD, file_.c_str(), 0, 0, &stx), SyscallSucceeds());
}

// --- link counts ----------------------------------------------------------

nlink_t LinksOf(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) ThrowErrno("stat(" + path + ")");
  return st.st_nlink;
}

TEST_F(StatTest, DirectoryLinkCountCountsSubdirectories) {
  const std::string d = dir_.Child("d");
  ASSERT_THAT(mkdir(d.c_str(), 0755), SyscallSucceeds());
  EXPECT_EQ(LinksOf(d), 2u);  // its entry and its own "."
  ASSERT_THAT(mkdir((d + "/a").c_str(), 0755), SyscallSucceeds());
  ASSERT_THAT(mkdir((d + "/b").c_str(), 0755), SyscallSucceeds());
  EXPECT_EQ(LinksOf(d), 4u);  // plus ".." of each subdirectory
  // Files do not count.
  FileDescriptor f = OpenOrThrow(d + "/f", O_CREAT | O_WRONLY);
  EXPECT_EQ(LinksOf(d), 4u);
  ASSERT_THAT(rmdir((d + "/a").c_str()), SyscallSucceeds());
  EXPECT_EQ(LinksOf(d), 3u);
  ASSERT_THAT(rename((d + "/b").c_str(), dir_.Child("b").c_str()),
              SyscallSucceeds());
  EXPECT_EQ(LinksOf(d), 2u);
}

TEST_F(StatTest, HardLinksCount) {
  ASSERT_THAT(link(file_.c_str(), dir_.Child("l1").c_str()), SyscallSucceeds());
  ASSERT_THAT(link(file_.c_str(), dir_.Child("l2").c_str()), SyscallSucceeds());
  EXPECT_EQ(LinksOf(file_), 3u);
  ASSERT_THAT(unlink(dir_.Child("l1").c_str()), SyscallSucceeds());
  EXPECT_EQ(LinksOf(dir_.Child("l2")), 2u);
}

// --- timestamps -----------------------------------------------------------

TEST_F(StatTest, WriteUpdatesMtimeAndCtime) {
  // Start from timestamps far in the past so any update is visible.
  struct timespec old_times[2] = {{946684800, 0}, {946684800, 0}};
  ASSERT_THAT(utimensat(AT_FDCWD, file_.c_str(), old_times, 0),
              SyscallSucceeds());
  struct stat before;
  ASSERT_THAT(stat(file_.c_str(), &before), SyscallSucceeds());
  EXPECT_EQ(before.st_mtim.tv_sec, 946684800);
  WaitUntilClockPasses(before.st_ctim);
  FileDescriptor fd = OpenOrThrow(file_, O_WRONLY);
  ASSERT_THAT(write(fd.get(), "x", 1), SyscallSucceeds());
  struct stat after;
  ASSERT_THAT(fstat(fd.get(), &after), SyscallSucceeds());
  EXPECT_GT(after.st_mtim.tv_sec, 946684800);
  EXPECT_GT(Nanos(after.st_ctim), Nanos(before.st_ctim));
  // Writing does not touch atime.
  EXPECT_EQ(Nanos(after.st_atim), Nanos(before.st_atim));
  // And the new mtime is "now", within a generous margin.
  EXPECT_LT(std::abs(NowRealtimeNanos() - Nanos(after.st_mtim)),
            int64_t{10} * 1000000000);
}

TEST_F(StatTest, ChmodUpdatesCtimeOnly) {
  struct timespec old_times[2] = {{946684800, 0}, {946684800, 0}};
  ASSERT_THAT(utimensat(AT_FDCWD, file_.c_str(), old_times, 0),
              SyscallSucceeds());
  struct stat before;
  ASSERT_THAT(stat(file_.c_str(), &before), SyscallSucceeds());
  WaitUntilClockPasses(before.st_ctim);
  ASSERT_THAT(chmod(file_.c_str(), 0600), SyscallSucceeds());
  struct stat after;
  ASSERT_THAT(stat(file_.c_str(), &after), SyscallSucceeds());
  EXPECT_EQ(after.st_mtim.tv_sec, 946684800);
  EXPECT_EQ(after.st_atim.tv_sec, 946684800);
  EXPECT_GT(Nanos(after.st_ctim), Nanos(before.st_ctim));
}

TEST_F(StatTest, CreatingAnEntryUpdatesDirectoryMtime) {
  struct timespec old_times[2] = {{946684800, 0}, {946684800, 0}};
  ASSERT_THAT(utimensat(AT_FDCWD, dir_.c_str(), old_times, 0),
              SyscallSucceeds());
  FileDescriptor f = OpenOrThrow(dir_.Child("new"), O_CREAT | O_WRONLY);
  struct stat st;
  ASSERT_THAT(stat(dir_.c_str(), &st), SyscallSucceeds());
  EXPECT_GT(st.st_mtim.tv_sec, 946684800);
}

TEST_F(StatTest, NanosecondTimestampsRoundTrip) {
  struct timespec times[2] = {{1000000000, 123456789}, {1100000000, 987654321}};
  ASSERT_THAT(utimensat(AT_FDCWD, file_.c_str(), times, 0), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(stat(file_.c_str(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_atim.tv_sec, 1000000000);
  EXPECT_EQ(st.st_atim.tv_nsec, 123456789);
  EXPECT_EQ(st.st_mtim.tv_sec, 1100000000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 987654321);
}

// --- access / faccessat / faccessat2 --------------------------------------

TEST_F(StatTest, AccessExistence) {
  EXPECT_THAT(access(file_.c_str(), F_OK), SyscallSucceeds());
  EXPECT_THAT(access(dir_.Child("missing").c_str(), F_OK),
              SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(access((file_ + "/x").c_str(), F_OK),
              SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(access(file_.c_str(), 8), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(access(file_.c_str(), -1), SyscallFailsWithErrno(EINVAL));
}

TEST_F(StatTest, ExecuteNeedsAnExecuteBitEvenForRoot) {
  // For a regular file, even a privileged caller needs at least one x bit.
  EXPECT_THAT(access(file_.c_str(), X_OK), SyscallFailsWithErrno(EACCES));
  ASSERT_THAT(chmod(file_.c_str(), 0001), SyscallSucceeds());
  if (geteuid() == 0) {
    EXPECT_THAT(access(file_.c_str(), X_OK), SyscallSucceeds());
    EXPECT_THAT(access(file_.c_str(), R_OK | W_OK), SyscallSucceeds());
  }
  // Directories are searchable by root regardless.
  ASSERT_THAT(chmod(dir_.c_str(), 0), SyscallSucceeds());
  if (geteuid() == 0) {
    EXPECT_THAT(access(dir_.c_str(), X_OK), SyscallSucceeds());
  }
  ASSERT_THAT(chmod(dir_.c_str(), 0755), SyscallSucceeds());
}

TEST_F(StatTest, AccessAsUnprivilegedUser) {
  SKIP_IF_NOT_ROOT();
  ASSERT_THAT(chmod(dir_.c_str(), 0755), SyscallSucceeds());
  ASSERT_THAT(chmod(file_.c_str(), 0604), SyscallSucceeds());  // other: r
  const std::string f = file_;
  EXPECT_THAT(ForkAndWait([&] {
    DropPrivilegesInChild();
    TEST_CHECK_SUCCESS(access(f.c_str(), R_OK));
    TEST_CHECK_SUCCESS(access(f.c_str(), F_OK));
    TEST_CHECK_ERRNO(access(f.c_str(), W_OK), EACCES);
    TEST_CHECK_ERRNO(access(f.c_str(), X_OK), EACCES);
    TEST_CHECK_ERRNO(access(f.c_str(), R_OK | W_OK), EACCES);
  }),
              ExitedWithCode(0));
}

TEST_F(StatTest, AccessUsesRealIdsAndAtEaccessEffectiveOnes) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to split real and effective uid";
  ASSERT_THAT(chmod(dir_.c_str(), 0755), SyscallSucceeds());
  ASSERT_THAT(chmod(file_.c_str(), 0600), SyscallSucceeds());  // root only
  const std::string f = file_;
  EXPECT_THAT(ForkAndWait([&] {
    TEST_CHECK_SUCCESS(setgroups(0, nullptr));
    TEST_CHECK_SUCCESS(setresgid(kNobody, 0, 0));
    // Real uid nobody, effective and saved uid still root.
    TEST_CHECK_SUCCESS(setresuid(kNobody, 0, 0));
    TEST_CHECK_ERRNO(access(f.c_str(), R_OK), EACCES);
    TEST_CHECK_ERRNO(faccessat(AT_FDCWD, f.c_str(), R_OK, 0), EACCES);
    TEST_CHECK_SUCCESS(Faccessat2(AT_FDCWD, f.c_str(), R_OK, AT_EACCESS));
    int fd = open(f.c_str(), O_RDONLY);  // open uses the effective ids
    TEST_CHECK(fd >= 0);
  }),
              ExitedWithCode(0));
}

TEST_F(StatTest, Faccessat2Flags) {
  const std::string link = dir_.Child("dangling");
  ASSERT_THAT(symlink("nowhere", link.c_str()), SyscallSucceeds());
  EXPECT_THAT(Faccessat2(AT_FDCWD, link.c_str(), F_OK, 0),
              SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(Faccessat2(AT_FDCWD, link.c_str(), F_OK, AT_SYMLINK_NOFOLLOW),
              SyscallSucceeds());
  FileDescriptor fd = OpenOrThrow(file_, O_RDONLY);
  EXPECT_THAT(Faccessat2(fd.get(), "", R_OK, AT_EMPTY_PATH), SyscallSucceeds());
  EXPECT_THAT(Faccessat2(fd.get(), "", R_OK, 0), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(Faccessat2(AT_FDCWD, file_.c_str(), R_OK, 0x1),
              SyscallFailsWithErrno(EINVAL));
  FileDescriptor dfd = OpenOrThrow(dir_.path(), O_RDONLY | O_DIRECTORY);
  EXPECT_THAT(Faccessat2(dfd.get(), "file", W_OK, 0), SyscallSucceeds());
  EXPECT_THAT(Faccessat2(-1, "file", W_OK, 0), SyscallFailsWithErrno(EBADF));
}

}  // namespace
}  // namespace systest
