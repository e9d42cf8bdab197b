// Operations on names and inodes: mkdir(2), rmdir(2), unlink(2), rename(2),
// renameat2(2), link(2), symlink(2), readlink(2), chmod(2), chown(2),
// truncate(2), utimensat(2), getdents64(2), getcwd(2), chdir(2), fchdir(2).

#include <dirent.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/syscalls/test_util.h"

namespace systest {
namespace {

struct stat StatOf(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) ThrowErrno("lstat(" + path + ")");
  return st;
}

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

std::string Contents(const std::string& path) {
  FileDescriptor fd = OpenOrThrow(path, O_RDONLY);
  return ReadAll(fd.get());
}

void MakeFile(const std::string& path, const std::string& contents,
              mode_t mode = 0644) {
  FileDescriptor fd = OpenOrThrow(path, O_CREAT | O_EXCL | O_WRONLY, mode);
  WriteAll(fd.get(), contents);
}

class FsOpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempPath::Dir();
    MakeFile(dir_.Child("file"), "data");
    ASSERT_THAT(mkdir(dir_.Child("sub").c_str(), 0755), SyscallSucceeds());
  }
  std::string P(const std::string& name) const { return dir_.Child(name); }

  TempPath dir_;
};

// --- mkdir ----------------------------------------------------------------

TEST_F(FsOpsTest, MkdirCreatesAnEmptyDirectory) {
  mode_t old = umask(022);
  ASSERT_THAT(mkdir(P("d").c_str(), 0777), SyscallSucceeds());
  umask(old);
  struct stat st = StatOf(P("d"));
  EXPECT_EQ(st.st_mode, S_IFDIR | 0755);
  EXPECT_EQ(st.st_uid, geteuid());
  // A trailing slash is accepted.
  EXPECT_THAT(mkdir(P("e/").c_str(), 0755), SyscallSucceeds());
}

TEST_F(FsOpsTest, MkdirErrors) {
  EXPECT_THAT(mkdir(P("file").c_str(), 0755), SyscallFailsWithErrno(EEXIST));
  EXPECT_THAT(mkdir(P("sub").c_str(), 0755), SyscallFailsWithErrno(EEXIST));
  ASSERT_THAT(symlink("nowhere", P("dangling").c_str()), SyscallSucceeds());
  EXPECT_THAT(mkdir(P("dangling").c_str(), 0755),
              SyscallFailsWithErrno(EEXIST));
  EXPECT_THAT(mkdir(P("missing/d").c_str(), 0755),
              SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(mkdir(P("file/d").c_str(), 0755),
              SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(mkdir(P(std::string(NAME_MAX + 1, 'd')).c_str(), 0755),
              SyscallFailsWithErrno(ENAMETOOLONG));
  EXPECT_THAT(mkdir("", 0755), SyscallFailsWithErrno(ENOENT));
}

TEST_F(FsOpsTest, MkdirInUnwritableDirectoryIsEacces) {
  SKIP_IF_NOT_ROOT();
  ASSERT_THAT(chmod(P("sub").c_str(), 0555), SyscallSucceeds());
  const std::string target = P("sub/d");
  EXPECT_THAT(ForkAndWait([&] {
    DropPrivilegesInChild();
    TEST_CHECK_ERRNO(mkdir(target.c_str(), 0755), EACCES);
  }),
              ExitedWithCode(0));
}

// --- rmdir ----------------------------------------------------------------

TEST_F(FsOpsTest, RmdirRemovesAnEmptyDirectory) {
  EXPECT_THAT(rmdir(P("sub").c_str()), SyscallSucceeds());
  EXPECT_FALSE(Exists(P("sub")));
}

TEST_F(FsOpsTest, RmdirErrors) {
  MakeFile(P("sub/f"), "");
  EXPECT_THAT(rmdir(P("sub").c_str()), SyscallFailsWithErrno(ENOTEMPTY));
  EXPECT_THAT(rmdir(P("file").c_str()), SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(rmdir(P("missing").c_str()), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(rmdir(P("sub/.").c_str()), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(rmdir(P("sub/..").c_str()), SyscallFailsWithErrno(ENOTEMPTY));
  ASSERT_THAT(symlink("sub", P("link").c_str()), SyscallSucceeds());
  EXPECT_THAT(rmdir(P("link").c_str()), SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(rmdir("/"), SyscallFailsWithErrno(EBUSY));
}

TEST_F(FsOpsTest, RmdirOfTheWorkingDirectory) {
  char cwd[PATH_MAX];
  ASSERT_NE(getcwd(cwd, sizeof(cwd)), nullptr);
  ASSERT_THAT(chdir(P("sub").c_str()), SyscallSucceeds());
  int rc = rmdir(P("sub").c_str());
  int err = errno;
  // getcwd on a removed working directory fails with ENOENT.
  char buf[PATH_MAX];
  long gc = syscall(SYS_getcwd, buf, sizeof(buf));
  int gc_err = errno;
  ASSERT_THAT(chdir(cwd), SyscallSucceeds());
  errno = err;
  EXPECT_THAT(rc, SyscallSucceeds());
  errno = gc_err;
  EXPECT_THAT(gc, SyscallFailsWithErrno(ENOENT));
}

// --- unlink ---------------------------------------------------------------

TEST_F(FsOpsTest, UnlinkRemovesTheNameNotTheOpenFile) {
  FileDescriptor fd = OpenOrThrow(P("file"), O_RDONLY);
  ASSERT_THAT(unlink(P("file").c_str()), SyscallSucceeds());
  EXPECT_FALSE(Exists(P("file")));
  EXPECT_EQ(ReadAll(fd.get()), "data");
}

TEST_F(FsOpsTest, UnlinkOfASymlinkRemovesOnlyTheLink) {
  ASSERT_THAT(symlink("file", P("link").c_str()), SyscallSucceeds());
  ASSERT_THAT(unlink(P("link").c_str()), SyscallSucceeds());
  EXPECT_FALSE(Exists(P("link")));
  EXPECT_TRUE(Exists(P("file")));
}

TEST_F(FsOpsTest, UnlinkErrors) {
  EXPECT_THAT(unlink(P("sub").c_str()), SyscallFailsWithErrno(EISDIR));
  EXPECT_THAT(unlink(P("missing").c_str()), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(unlink(P("file/x").c_str()), SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(unlink(""), SyscallFailsWithErrno(ENOENT));
}

TEST_F(FsOpsTest, Unlinkat) {
  FileDescriptor dfd = OpenOrThrow(dir_.path(), O_RDONLY | O_DIRECTORY);
  EXPECT_THAT(unlinkat(dfd.get(), "file", AT_REMOVEDIR),
              SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(unlinkat(dfd.get(), "sub", 0), SyscallFailsWithErrno(EISDIR));
  EXPECT_THAT(unlinkat(dfd.get(), "file", 0x1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(unlinkat(dfd.get(), "sub", AT_REMOVEDIR), SyscallSucceeds());
  EXPECT_THAT(unlinkat(dfd.get(), "file", 0), SyscallSucceeds());
  EXPECT_FALSE(Exists(P("sub")));
  EXPECT_FALSE(Exists(P("file")));
}

TEST_F(FsOpsTest, StickyDirectoryProtectsOthersFiles) {
  SKIP_IF_NOT_ROOT();
  ASSERT_THAT(chmod(P("sub").c_str(), 01777), SyscallSucceeds());
  MakeFile(P("sub/roots"), "");
  const std::string victim = P("sub/roots");
  const std::string own = P("sub/own");
  EXPECT_THAT(ForkAndWait([&] {
    DropPrivilegesInChild();
    TEST_CHECK_ERRNO(unlink(victim.c_str()), EPERM);
    int fd = open(own.c_str(), O_CREAT | O_WRONLY, 0644);
    TEST_CHECK(fd >= 0);
    TEST_CHECK_SUCCESS(unlink(own.c_str()));
  }),
              ExitedWithCode(0));
}

// --- rename / renameat2 ---------------------------------------------------

TEST_F(FsOpsTest, RenameMovesAndReplaces) {
  MakeFile(P("other"), "other");
  struct stat before = StatOf(P("file"));
  ASSERT_THAT(rename(P("file").c_str(), P("other").c_str()), SyscallSucceeds());
  EXPECT_FALSE(Exists(P("file")));
  EXPECT_EQ(Contents(P("other")), "data");
  EXPECT_EQ(StatOf(P("other")).st_ino, before.st_ino);
  ASSERT_THAT(rename(P("other").c_str(), P("sub/moved").c_str()),
              SyscallSucceeds());
  EXPECT_EQ(Contents(P("sub/moved")), "data");
}

TEST_F(FsOpsTest, RenameDirectories) {
  MakeFile(P("sub/inside"), "x");
  ASSERT_THAT(mkdir(P("empty").c_str(), 0755), SyscallSucceeds());
  // A directory may replace an empty directory.
  ASSERT_THAT(rename(P("sub").c_str(), P("empty").c_str()), SyscallSucceeds());
  EXPECT_EQ(Contents(P("empty/inside")), "x");
  // But not a non-empty one.
  ASSERT_THAT(mkdir(P("d2").c_str(), 0755), SyscallSucceeds());
  EXPECT_THAT(rename(P("d2").c_str(), P("empty").c_str()),
              SyscallFailsWithErrno(ENOTEMPTY));
}

TEST_F(FsOpsTest, RenameTypeMismatches) {
  EXPECT_THAT(rename(P("sub").c_str(), P("file").c_str()),
              SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(rename(P("file").c_str(), P("sub").c_str()),
              SyscallFailsWithErrno(EISDIR));
  EXPECT_THAT(rename(P("file").c_str(), P("newdir/").c_str()),
              SyscallFailsWithErrno(ENOTDIR));
}

TEST_F(FsOpsTest, RenameIntoOwnSubtreeIsEinval) {
  ASSERT_THAT(mkdir(P("sub/child").c_str(), 0755), SyscallSucceeds());
  EXPECT_THAT(rename(P("sub").c_str(), P("sub/child/sub").c_str()),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(rename(P("sub").c_str(), P("sub/x").c_str()),
              SyscallFailsWithErrno(EINVAL));
}

TEST_F(FsOpsTest, RenameOntoItselfOrAnotherLinkDoesNothing) {
  EXPECT_THAT(rename(P("file").c_str(), P("file").c_str()), SyscallSucceeds());
  EXPECT_EQ(Contents(P("file")), "data");
  ASSERT_THAT(link(P("file").c_str(), P("hard").c_str()), SyscallSucceeds());
  EXPECT_THAT(rename(P("file").c_str(), P("hard").c_str()), SyscallSucceeds());
  // POSIX: both names stay when they are links to the same file.
  EXPECT_TRUE(Exists(P("file")));
  EXPECT_TRUE(Exists(P("hard")));
}

TEST_F(FsOpsTest, RenameErrors) {
  EXPECT_THAT(rename(P("missing").c_str(), P("x").c_str()),
              SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(rename(P("file").c_str(), P("missing/x").c_str()),
              SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(rename(P("file").c_str(), P("file/x").c_str()),
              SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(rename(P("sub/.").c_str(), P("x").c_str()),
              SyscallFailsWithErrno(EBUSY));
}

TEST_F(FsOpsTest, RenamingADirectoryMovesItsDotDot) {
  ASSERT_THAT(mkdir(P("dest").c_str(), 0755), SyscallSucceeds());
  const nlink_t dir_links = StatOf(dir_.path()).st_nlink;
  ASSERT_THAT(rename(P("sub").c_str(), P("dest/sub").c_str()),
              SyscallSucceeds());
  struct stat dotdot;
  ASSERT_THAT(stat(P("dest/sub/..").c_str(), &dotdot), SyscallSucceeds());
  EXPECT_EQ(dotdot.st_ino, StatOf(P("dest")).st_ino);
  // The link counts of both parents follow.
  EXPECT_EQ(StatOf(P("dest")).st_nlink, 3u);
  EXPECT_EQ(StatOf(dir_.path()).st_nlink, dir_links - 1);
}

TEST_F(FsOpsTest, ReplacedFileStaysReadableThroughAnOpenDescriptor) {
  MakeFile(P("new"), "new contents");
  FileDescriptor old = OpenOrThrow(P("file"), O_RDONLY);
  ASSERT_THAT(rename(P("new").c_str(), P("file").c_str()), SyscallSucceeds());
  EXPECT_EQ(ReadAll(old.get()), "data");
  EXPECT_EQ(Contents(P("file")), "new contents");
  struct stat st;
  ASSERT_THAT(fstat(old.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_nlink, 0u);
}

TEST_F(FsOpsTest, RenameOfASymlinkMovesTheLink) {
  ASSERT_THAT(symlink("file", P("link").c_str()), SyscallSucceeds());
  ASSERT_THAT(rename(P("link").c_str(), P("link2").c_str()), SyscallSucceeds());
  EXPECT_TRUE(S_ISLNK(StatOf(P("link2")).st_mode));
  EXPECT_TRUE(S_ISREG(StatOf(P("file")).st_mode));
}

TEST_F(FsOpsTest, Renameat2Noreplace) {
  MakeFile(P("other"), "other");
  EXPECT_THAT(renameat2(AT_FDCWD, P("file").c_str(), AT_FDCWD,
                        P("other").c_str(), RENAME_NOREPLACE),
              SyscallFailsWithErrno(EEXIST));
  EXPECT_EQ(Contents(P("other")), "other");
  EXPECT_THAT(renameat2(AT_FDCWD, P("file").c_str(), AT_FDCWD,
                        P("fresh").c_str(), RENAME_NOREPLACE),
              SyscallSucceeds());
  EXPECT_EQ(Contents(P("fresh")), "data");
}

TEST_F(FsOpsTest, Renameat2Exchange) {
  MakeFile(P("sub/inner"), "inner");
  ASSERT_THAT(renameat2(AT_FDCWD, P("file").c_str(), AT_FDCWD, P("sub").c_str(),
                        RENAME_EXCHANGE),
              SyscallSucceeds());
  // "file" is now the directory and "sub" the regular file.
  EXPECT_EQ(Contents(P("sub")), "data");
  EXPECT_EQ(Contents(P("file/inner")), "inner");
  EXPECT_THAT(renameat2(AT_FDCWD, P("sub").c_str(), AT_FDCWD,
                        P("missing").c_str(), RENAME_EXCHANGE),
              SyscallFailsWithErrno(ENOENT));
}

TEST_F(FsOpsTest, Renameat2InvalidFlags) {
  EXPECT_THAT(renameat2(AT_FDCWD, P("file").c_str(), AT_FDCWD, P("x").c_str(),
                        RENAME_NOREPLACE | RENAME_EXCHANGE),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(renameat2(AT_FDCWD, P("file").c_str(), AT_FDCWD, P("x").c_str(),
                        1u << 10),
              SyscallFailsWithErrno(EINVAL));
}

TEST_F(FsOpsTest, RenameatWithDirfds) {
  FileDescriptor from = OpenOrThrow(dir_.path(), O_RDONLY | O_DIRECTORY);
  FileDescriptor to = OpenOrThrow(P("sub"), O_RDONLY | O_DIRECTORY);
  ASSERT_THAT(renameat(from.get(), "file", to.get(), "file"), SyscallSucceeds());
  EXPECT_EQ(Contents(P("sub/file")), "data");
}

// --- link / symlink / readlink --------------------------------------------

TEST_F(FsOpsTest, LinkSharesTheInode) {
  ASSERT_THAT(link(P("file").c_str(), P("hard").c_str()), SyscallSucceeds());
  EXPECT_EQ(StatOf(P("hard")).st_ino, StatOf(P("file")).st_ino);
  EXPECT_EQ(StatOf(P("file")).st_nlink, 2u);
  FileDescriptor fd = OpenOrThrow(P("hard"), O_WRONLY | O_APPEND);
  WriteAll(fd.get(), "+");
  EXPECT_EQ(Contents(P("file")), "data+");
}

TEST_F(FsOpsTest, LinkErrors) {
  EXPECT_THAT(link(P("file").c_str(), P("sub").c_str()),
              SyscallFailsWithErrno(EEXIST));
  EXPECT_THAT(link(P("sub").c_str(), P("dirlink").c_str()),
              SyscallFailsWithErrno(EPERM));
  EXPECT_THAT(link(P("missing").c_str(), P("x").c_str()),
              SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(link(P("file").c_str(), P("missing/x").c_str()),
              SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(linkat(AT_FDCWD, P("file").c_str(), AT_FDCWD, P("x").c_str(),
                     0x1),
              SyscallFailsWithErrno(EINVAL));
}

TEST_F(FsOpsTest, LinkatFollowsSymlinksOnlyWhenAsked) {
  ASSERT_THAT(symlink("file", P("link").c_str()), SyscallSucceeds());
  ASSERT_THAT(linkat(AT_FDCWD, P("link").c_str(), AT_FDCWD, P("l1").c_str(), 0),
              SyscallSucceeds());
  EXPECT_TRUE(S_ISLNK(StatOf(P("l1")).st_mode));
  ASSERT_THAT(linkat(AT_FDCWD, P("link").c_str(), AT_FDCWD, P("l2").c_str(),
                     AT_SYMLINK_FOLLOW),
              SyscallSucceeds());
  EXPECT_TRUE(S_ISREG(StatOf(P("l2")).st_mode));
  EXPECT_EQ(StatOf(P("l2")).st_ino, StatOf(P("file")).st_ino);
}

TEST_F(FsOpsTest, SymlinkStoresTheTargetVerbatim) {
  const std::string target = "../does/not//exist/./yet";
  ASSERT_THAT(symlink(target.c_str(), P("link").c_str()), SyscallSucceeds());
  char buf[PATH_MAX];
  ssize_t n = readlink(P("link").c_str(), buf, sizeof(buf));
  ASSERT_THAT(n, SyscallSucceedsWithValue(static_cast<ssize_t>(target.size())));
  EXPECT_EQ(std::string(buf, n), target);
}

TEST_F(FsOpsTest, SymlinkErrors) {
  EXPECT_THAT(symlink("x", P("file").c_str()), SyscallFailsWithErrno(EEXIST));
  EXPECT_THAT(symlink("", P("empty").c_str()), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(symlink("x", P("missing/link").c_str()),
              SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(symlink(std::string(PATH_MAX, 'x').c_str(), P("long").c_str()),
              SyscallFailsWithErrno(ENAMETOOLONG));
}

TEST_F(FsOpsTest, ReadlinkTruncatesWithoutError) {
  ASSERT_THAT(symlink("abcdefgh", P("link").c_str()), SyscallSucceeds());
  char buf[8];
  memset(buf, '#', sizeof(buf));
  // No terminating NUL and no ERANGE: just the first bufsiz bytes.
  EXPECT_THAT(readlink(P("link").c_str(), buf, 3), SyscallSucceedsWithValue(3));
  EXPECT_EQ(std::string(buf, 4), "abc#");
  EXPECT_THAT(readlink(P("link").c_str(), buf, 8), SyscallSucceedsWithValue(8));
  EXPECT_EQ(std::string(buf, 8), "abcdefgh");
}

TEST_F(FsOpsTest, ReadlinkErrors) {
  char buf[16];
  EXPECT_THAT(readlink(P("file").c_str(), buf, sizeof(buf)),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(readlink(P("missing").c_str(), buf, sizeof(buf)),
              SyscallFailsWithErrno(ENOENT));
  ASSERT_THAT(symlink("file", P("link").c_str()), SyscallSucceeds());
  EXPECT_THAT(readlink(P("link").c_str(), buf, Opaque<size_t>(0)),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(readlink(P("link").c_str(), Opaque<char*>(nullptr), 16),
              SyscallFailsWithErrno(EFAULT));
}

TEST_F(FsOpsTest, ReadlinkatRelativeAndEmptyPath) {
  ASSERT_THAT(symlink("file", P("link").c_str()), SyscallSucceeds());
  FileDescriptor dfd = OpenOrThrow(dir_.path(), O_RDONLY | O_DIRECTORY);
  char buf[16];
  EXPECT_THAT(readlinkat(dfd.get(), "link", buf, sizeof(buf)),
              SyscallSucceedsWithValue(4));
  FileDescriptor lfd = OpenOrThrow(P("link"), O_PATH | O_NOFOLLOW);
  EXPECT_THAT(readlinkat(lfd.get(), "", buf, sizeof(buf)),
              SyscallSucceedsWithValue(4));
  // An empty path on a descriptor that is not a symlink is ENOENT (a
  // non-empty path naming a non-symlink is EINVAL).
  EXPECT_THAT(readlinkat(dfd.get(), "", buf, sizeof(buf)),
              SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(readlinkat(dfd.get(), "file", buf, sizeof(buf)),
              SyscallFailsWithErrno(EINVAL));
}

// --- chmod / chown --------------------------------------------------------

TEST_F(FsOpsTest, ChmodSetsPermissionBitsOnly) {
  ASSERT_THAT(chmod(P("file").c_str(), 07777 | S_IFDIR), SyscallSucceeds());
  EXPECT_EQ(StatOf(P("file")).st_mode, S_IFREG | 07777);
  FileDescriptor fd = OpenOrThrow(P("file"), O_RDONLY);
  ASSERT_THAT(fchmod(fd.get(), 0400), SyscallSucceeds());
  EXPECT_EQ(StatOf(P("file")).st_mode, S_IFREG | 0400);
  ASSERT_THAT(fchmodat(AT_FDCWD, P("file").c_str(), 0640, 0), SyscallSucceeds());
  EXPECT_EQ(StatOf(P("file")).st_mode, S_IFREG | 0640);
}

TEST_F(FsOpsTest, ChmodFollowsSymlinks) {
  ASSERT_THAT(symlink("file", P("link").c_str()), SyscallSucceeds());
  ASSERT_THAT(chmod(P("link").c_str(), 0600), SyscallSucceeds());
  EXPECT_EQ(StatOf(P("file")).st_mode, S_IFREG | 0600);
}

TEST_F(FsOpsTest, ChmodErrors) {
  SKIP_IF_NOT_ROOT();
  EXPECT_THAT(chmod(P("missing").c_str(), 0644), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(fchmod(-1, 0644), SyscallFailsWithErrno(EBADF));
  ASSERT_THAT(chmod(dir_.c_str(), 0755), SyscallSucceeds());
  const std::string f = P("file");
  EXPECT_THAT(ForkAndWait([&] {
    DropPrivilegesInChild();
    TEST_CHECK_ERRNO(chmod(f.c_str(), 0777), EPERM);
  }),
              ExitedWithCode(0));
}

TEST_F(FsOpsTest, ChownAsRoot) {
  if (geteuid() != 0) GTEST_SKIP() << "changing owners needs CAP_CHOWN";
  ASSERT_THAT(chown(P("file").c_str(), kNobody, kNobody), SyscallSucceeds());
  EXPECT_EQ(StatOf(P("file")).st_uid, kNobody);
  EXPECT_EQ(StatOf(P("file")).st_gid, kNobody);
  // -1 leaves an id unchanged.
  ASSERT_THAT(chown(P("file").c_str(), 0, static_cast<gid_t>(-1)),
              SyscallSucceeds());
  EXPECT_EQ(StatOf(P("file")).st_uid, 0u);
  EXPECT_EQ(StatOf(P("file")).st_gid, kNobody);
  // lchown changes the link, chown its target.
  ASSERT_THAT(symlink("file", P("link").c_str()), SyscallSucceeds());
  ASSERT_THAT(lchown(P("link").c_str(), kNobody, kNobody), SyscallSucceeds());
  EXPECT_EQ(StatOf(P("link")).st_uid, kNobody);
  EXPECT_EQ(StatOf(P("file")).st_uid, 0u);
  FileDescriptor fd = OpenOrThrow(P("file"), O_RDONLY);
  ASSERT_THAT(fchown(fd.get(), 1, 1), SyscallSucceeds());
  EXPECT_EQ(StatOf(P("file")).st_uid, 1u);
}

TEST_F(FsOpsTest, ChownClearsSetuidAndSetgid) {
  if (geteuid() != 0) GTEST_SKIP() << "changing owners needs CAP_CHOWN";
  ASSERT_THAT(chmod(P("file").c_str(), 06755), SyscallSucceeds());
  ASSERT_THAT(chown(P("file").c_str(), kNobody, kNobody), SyscallSucceeds());
  EXPECT_EQ(StatOf(P("file")).st_mode & 07777, 0755u);
}

TEST_F(FsOpsTest, ChownUnprivilegedIsEperm) {
  SKIP_IF_NOT_ROOT();
  ASSERT_THAT(chmod(dir_.c_str(), 0777), SyscallSucceeds());
  const std::string mine = P("mine");
  const std::string roots = P("file");
  EXPECT_THAT(ForkAndWait([&] {
    DropPrivilegesInChild();
    int fd = open(mine.c_str(), O_CREAT | O_WRONLY, 0644);
    TEST_CHECK(fd >= 0);
    // Giving away a file is not allowed; a no-op chown is.
    TEST_CHECK_ERRNO(fchown(fd, 0, static_cast<gid_t>(-1)), EPERM);
    TEST_CHECK_SUCCESS(fchown(fd, kNobody, kNobody));
    TEST_CHECK_ERRNO(chown(roots.c_str(), kNobody, kNobody), EPERM);
    // Changing the group to one the caller is not in.
    TEST_CHECK_ERRNO(fchown(fd, static_cast<uid_t>(-1), 0), EPERM);
  }),
              ExitedWithCode(0));
}

// --- truncate / ftruncate -------------------------------------------------

TEST_F(FsOpsTest, TruncateShrinksAndExtends) {
  ASSERT_THAT(truncate(P("file").c_str(), 2), SyscallSucceeds());
  EXPECT_EQ(Contents(P("file")), "da");
  ASSERT_THAT(truncate(P("file").c_str(), 6), SyscallSucceeds());
  EXPECT_EQ(Contents(P("file")), std::string("da\0\0\0\0", 6));
  FileDescriptor fd = OpenOrThrow(P("file"), O_RDWR);
  ASSERT_THAT(ftruncate(fd.get(), 0), SyscallSucceeds());
  EXPECT_EQ(StatOf(P("file")).st_size, 0);
  // The offset is not changed by truncation.
  ASSERT_THAT(lseek(fd.get(), 10, SEEK_SET), SyscallSucceeds());
  ASSERT_THAT(ftruncate(fd.get(), 3), SyscallSucceeds());
  EXPECT_THAT(lseek(fd.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(10));
}

TEST_F(FsOpsTest, TruncateErrors) {
  EXPECT_THAT(truncate(P("file").c_str(), -1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(truncate(P("sub").c_str(), 0), SyscallFailsWithErrno(EISDIR));
  EXPECT_THAT(truncate(P("missing").c_str(), 0), SyscallFailsWithErrno(ENOENT));
  FileDescriptor ro = OpenOrThrow(P("file"), O_RDONLY);
  EXPECT_THAT(ftruncate(ro.get(), 0), SyscallFailsWithErrno(EINVAL));
  FileDescriptor rw = OpenOrThrow(P("file"), O_RDWR);
  EXPECT_THAT(ftruncate(rw.get(), -1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(ftruncate(-1, 0), SyscallFailsWithErrno(EBADF));
  Pipe p = MakePipe();
  EXPECT_THAT(ftruncate(p.write_end.get(), 0), SyscallFailsWithErrno(EINVAL));
  FileDescriptor dir = OpenOrThrow(dir_.path(), O_RDONLY | O_DIRECTORY);
  EXPECT_THAT(ftruncate(dir.get(), 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_EQ(Contents(P("file")), "data");
}

TEST_F(FsOpsTest, TruncateNeedsWritePermission) {
  SKIP_IF_NOT_ROOT();
  ASSERT_THAT(chmod(dir_.c_str(), 0755), SyscallSucceeds());
  const std::string f = P("file");
  EXPECT_THAT(ForkAndWait([&] {
    DropPrivilegesInChild();
    TEST_CHECK_ERRNO(truncate(f.c_str(), 0), EACCES);
  }),
              ExitedWithCode(0));
}

// --- utimensat ------------------------------------------------------------

int64_t Nanos(const struct timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

int64_t NowNanos() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return Nanos(ts);
}

constexpr int64_t kSecond = 1000000000;

TEST_F(FsOpsTest, UtimensatExplicitNowAndOmit) {
  struct timespec set[2] = {{1000, 1}, {2000, 2}};
  ASSERT_THAT(utimensat(AT_FDCWD, P("file").c_str(), set, 0), SyscallSucceeds());
  struct stat st = StatOf(P("file"));
  EXPECT_EQ(Nanos(st.st_atim), 1000 * kSecond + 1);
  EXPECT_EQ(Nanos(st.st_mtim), 2000 * kSecond + 2);

  struct timespec now_omit[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
  ASSERT_THAT(utimensat(AT_FDCWD, P("file").c_str(), now_omit, 0),
              SyscallSucceeds());
  st = StatOf(P("file"));
  EXPECT_LT(std::abs(Nanos(st.st_atim) - NowNanos()), 10 * kSecond);
  EXPECT_EQ(Nanos(st.st_mtim), 2000 * kSecond + 2);

  struct timespec omit_both[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
  ASSERT_THAT(utimensat(AT_FDCWD, P("file").c_str(), omit_both, 0),
              SyscallSucceeds());
  EXPECT_EQ(Nanos(StatOf(P("file")).st_mtim), 2000 * kSecond + 2);

  // A null array means both "now".
  ASSERT_THAT(utimensat(AT_FDCWD, P("file").c_str(), nullptr, 0),
              SyscallSucceeds());
  st = StatOf(P("file"));
  EXPECT_LT(std::abs(Nanos(st.st_mtim) - NowNanos()), 10 * kSecond);
}

TEST_F(FsOpsTest, UtimensatErrors) {
  struct timespec bad[2] = {{0, 1000000000}, {0, 0}};
  EXPECT_THAT(utimensat(AT_FDCWD, P("file").c_str(), bad, 0),
              SyscallFailsWithErrno(EINVAL));
  struct timespec negative_nsec[2] = {{0, 0}, {0, -5}};
  EXPECT_THAT(utimensat(AT_FDCWD, P("file").c_str(), negative_nsec, 0),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(utimensat(AT_FDCWD, P("file").c_str(), nullptr, 0x1000000),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(utimensat(AT_FDCWD, P("missing").c_str(), nullptr, 0),
              SyscallFailsWithErrno(ENOENT));
}

TEST_F(FsOpsTest, UtimensatSymlinkNofollowChangesTheLink) {
  ASSERT_THAT(symlink("file", P("link").c_str()), SyscallSucceeds());
  struct timespec set[2] = {{3000, 0}, {3000, 0}};
  ASSERT_THAT(utimensat(AT_FDCWD, P("link").c_str(), set, AT_SYMLINK_NOFOLLOW),
              SyscallSucceeds());
  EXPECT_EQ(StatOf(P("link")).st_mtim.tv_sec, 3000);
  EXPECT_NE(StatOf(P("file")).st_mtim.tv_sec, 3000);
}

TEST_F(FsOpsTest, FutimensOnADescriptor) {
  FileDescriptor fd = OpenOrThrow(P("file"), O_RDONLY);
  struct timespec set[2] = {{4000, 0}, {5000, 0}};
  ASSERT_THAT(futimens(fd.get(), set), SyscallSucceeds());
  EXPECT_EQ(StatOf(P("file")).st_mtim.tv_sec, 5000);
  EXPECT_EQ(StatOf(P("file")).st_atim.tv_sec, 4000);
}

TEST_F(FsOpsTest, UtimensatPermissionsForNonOwners) {
  SKIP_IF_NOT_ROOT();
  ASSERT_THAT(chmod(dir_.c_str(), 0755), SyscallSucceeds());
  MakeFile(P("shared"), "", 0666);
  ASSERT_THAT(chmod(P("shared").c_str(), 0666), SyscallSucceeds());
  const std::string shared = P("shared");
  const std::string readonly = P("file");
  EXPECT_THAT(ForkAndWait([&] {
    DropPrivilegesInChild();
    // Write permission allows "now", but explicit times need ownership.
    TEST_CHECK_SUCCESS(utimensat(AT_FDCWD, shared.c_str(), nullptr, 0));
    struct timespec now[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
    TEST_CHECK_SUCCESS(utimensat(AT_FDCWD, shared.c_str(), now, 0));
    struct timespec set[2] = {{1, 0}, {1, 0}};
    TEST_CHECK_ERRNO(utimensat(AT_FDCWD, shared.c_str(), set, 0), EPERM);
    TEST_CHECK_ERRNO(utimensat(AT_FDCWD, readonly.c_str(), nullptr, 0), EACCES);
  }),
              ExitedWithCode(0));
}

// --- getdents64 -----------------------------------------------------------

struct Dirent {
  ino64_t ino;
  unsigned char type;
};

// Reads a whole directory with getdents64 and a small buffer; fails the
// test if a name shows up twice.
std::map<std::string, Dirent> ReadDirectory(int fd, size_t bufsize = 256) {
  std::map<std::string, Dirent> out;
  std::vector<char> buf(bufsize);
  for (;;) {
    long n = syscall(SYS_getdents64, fd, buf.data(), buf.size());
    if (n < 0) ThrowErrno("getdents64");
    if (n == 0) return out;
    for (long off = 0; off < n;) {
      auto* d = reinterpret_cast<struct dirent64*>(buf.data() + off);
      std::string name = d->d_name;
      EXPECT_TRUE(out.emplace(name, Dirent{d->d_ino, d->d_type}).second)
          << "duplicate entry " << name;
      EXPECT_GT(d->d_reclen, 0);
      EXPECT_EQ(d->d_reclen % 8, 0) << "records are 8-byte aligned";
      off += d->d_reclen;
    }
  }
}

TEST_F(FsOpsTest, GetdentsListsEveryEntryExactlyOnce) {
  std::set<std::string> expected = {".", "..", "file", "sub"};
  for (int i = 0; i < 150; ++i) {
    std::string name = "entry_with_a_longish_name_" + std::to_string(i);
    MakeFile(P(name), "");
    expected.insert(name);
  }
  ASSERT_THAT(symlink("file", P("link").c_str()), SyscallSucceeds());
  expected.insert("link");
  FileDescriptor fd = OpenOrThrow(dir_.path(), O_RDONLY | O_DIRECTORY);
  std::map<std::string, Dirent> got = ReadDirectory(fd.get());
  std::set<std::string> names;
  for (const auto& [name, ent] : got) names.insert(name);
  EXPECT_EQ(names, expected);
  EXPECT_EQ(got["file"].type, DT_REG);
  EXPECT_EQ(got["sub"].type, DT_DIR);
  EXPECT_EQ(got["link"].type, DT_LNK);
  EXPECT_EQ(got["."].type, DT_DIR);
  EXPECT_EQ(got["file"].ino, StatOf(P("file")).st_ino);
  EXPECT_EQ(got["sub"].ino, StatOf(P("sub")).st_ino);
  EXPECT_EQ(got["."].ino, StatOf(dir_.path()).st_ino);
}

TEST_F(FsOpsTest, GetdentsRewindWithLseek) {
  FileDescriptor fd = OpenOrThrow(dir_.path(), O_RDONLY | O_DIRECTORY);
  auto first = ReadDirectory(fd.get());
  char buf[256];
  EXPECT_THAT(syscall(SYS_getdents64, fd.get(), buf, sizeof(buf)),
              SyscallSucceedsWithValue(0));
  ASSERT_THAT(lseek(fd.get(), 0, SEEK_SET), SyscallSucceedsWithValue(0));
  auto second = ReadDirectory(fd.get());
  EXPECT_EQ(first.size(), second.size());
  EXPECT_EQ(first.size(), 4u);
}

TEST_F(FsOpsTest, GetdentsErrors) {
  FileDescriptor fd = OpenOrThrow(dir_.path(), O_RDONLY | O_DIRECTORY);
  char small[8];
  EXPECT_THAT(syscall(SYS_getdents64, fd.get(), small, sizeof(small)),
              SyscallFailsWithErrno(EINVAL));
  FileDescriptor file = OpenOrThrow(P("file"), O_RDONLY);
  char buf[256];
  EXPECT_THAT(syscall(SYS_getdents64, file.get(), buf, sizeof(buf)),
              SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(syscall(SYS_getdents64, -1, buf, sizeof(buf)),
              SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(syscall(SYS_getdents64, fd.get(), nullptr, sizeof(buf)),
              SyscallFailsWithErrno(EFAULT));
  FileDescriptor path = OpenOrThrow(dir_.path(), O_PATH | O_DIRECTORY);
  EXPECT_THAT(syscall(SYS_getdents64, path.get(), buf, sizeof(buf)),
              SyscallFailsWithErrno(EBADF));
}

TEST_F(FsOpsTest, GetdentsOfARemovedDirectoryIsEnoent) {
  FileDescriptor fd = OpenOrThrow(P("sub"), O_RDONLY | O_DIRECTORY);
  ASSERT_THAT(rmdir(P("sub").c_str()), SyscallSucceeds());
  char buf[256];
  EXPECT_THAT(syscall(SYS_getdents64, fd.get(), buf, sizeof(buf)),
              SyscallFailsWithErrno(ENOENT));
}

// --- getcwd / chdir / fchdir ----------------------------------------------

// Runs `fn` with the working directory changed, restoring it afterwards.
template <typename Fn>
void WithCwd(const std::string& dir, Fn fn) {
  char saved[PATH_MAX];
  if (getcwd(saved, sizeof(saved)) == nullptr) ThrowErrno("getcwd");
  if (chdir(dir.c_str()) != 0) ThrowErrno("chdir(" + dir + ")");
  fn();
  if (chdir(saved) != 0) ThrowErrno("chdir back");
}

std::string RealPath(const std::string& path) {
  char buf[PATH_MAX];
  if (realpath(path.c_str(), buf) == nullptr) ThrowErrno("realpath");
  return buf;
}

TEST_F(FsOpsTest, ChdirAndGetcwd) {
  const std::string expected = RealPath(P("sub"));
  WithCwd(P("sub"), [&] {
    char buf[PATH_MAX];
    long n = syscall(SYS_getcwd, buf, sizeof(buf));
    ASSERT_THAT(n, SyscallSucceedsWithValue(
                       static_cast<long>(expected.size() + 1)));
    EXPECT_EQ(std::string(buf), expected);
    // Relative names now resolve from here.
    EXPECT_THAT(access("../file", F_OK), SyscallSucceeds());
    ASSERT_THAT(chdir(".."), SyscallSucceeds());
    ASSERT_NE(getcwd(buf, sizeof(buf)), nullptr);
    EXPECT_EQ(std::string(buf), RealPath(dir_.path()));
  });
}

TEST_F(FsOpsTest, GetcwdBufferSize) {
  const std::string expected = RealPath(P("sub"));
  WithCwd(P("sub"), [&] {
    std::vector<char> buf(expected.size() + 1);
    // One byte short of the path plus its NUL.
    EXPECT_THAT(syscall(SYS_getcwd, buf.data(), expected.size()),
                SyscallFailsWithErrno(ERANGE));
    EXPECT_THAT(syscall(SYS_getcwd, buf.data(), expected.size() + 1),
                SyscallSucceeds());
    EXPECT_THAT(syscall(SYS_getcwd, buf.data(), 0),
                SyscallFailsWithErrno(ERANGE));
    EXPECT_THAT(syscall(SYS_getcwd, nullptr, PATH_MAX),
                SyscallFailsWithErrno(EFAULT));
  });
}

TEST_F(FsOpsTest, ChdirErrors) {
  EXPECT_THAT(chdir(P("file").c_str()), SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(chdir(P("missing").c_str()), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(chdir(""), SyscallFailsWithErrno(ENOENT));
  FileDescriptor file = OpenOrThrow(P("file"), O_RDONLY);
  EXPECT_THAT(fchdir(file.get()), SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(fchdir(-1), SyscallFailsWithErrno(EBADF));
}

TEST_F(FsOpsTest, ChdirWithoutSearchPermissionIsEacces) {
  SKIP_IF_NOT_ROOT();
  ASSERT_THAT(chmod(dir_.c_str(), 0755), SyscallSucceeds());
  ASSERT_THAT(chmod(P("sub").c_str(), 0700), SyscallSucceeds());
  const std::string sub = P("sub");
  EXPECT_THAT(ForkAndWait([&] {
    DropPrivilegesInChild();
    TEST_CHECK_ERRNO(chdir(sub.c_str()), EACCES);
  }),
              ExitedWithCode(0));
}

TEST_F(FsOpsTest, Fchdir) {
  FileDescriptor dfd = OpenOrThrow(P("sub"), O_RDONLY | O_DIRECTORY);
  FileDescriptor pfd = OpenOrThrow(dir_.path(), O_PATH | O_DIRECTORY);
  WithCwd("/", [&] {
    ASSERT_THAT(fchdir(dfd.get()), SyscallSucceeds());
    char buf[PATH_MAX];
    ASSERT_NE(getcwd(buf, sizeof(buf)), nullptr);
    EXPECT_EQ(std::string(buf), RealPath(P("sub")));
    ASSERT_THAT(fchdir(pfd.get()), SyscallSucceeds());
    EXPECT_THAT(access("file", F_OK), SyscallSucceeds());
  });
}

TEST_F(FsOpsTest, WorkingDirectoryIsPerProcess) {
  const std::string sub = RealPath(P("sub"));
  char before[PATH_MAX];
  ASSERT_NE(getcwd(before, sizeof(before)), nullptr);
  EXPECT_THAT(ForkAndWait([&] {
    TEST_CHECK_SUCCESS(chdir(sub.c_str()));
    char buf[PATH_MAX];
    TEST_CHECK(getcwd(buf, sizeof(buf)) != nullptr);
    TEST_CHECK(std::string(buf) == sub);
  }),
              ExitedWithCode(0));
  char after[PATH_MAX];
  ASSERT_NE(getcwd(after, sizeof(after)), nullptr);
  EXPECT_STREQ(before, after);
}

// --- mknod ----------------------------------------------------------------

TEST_F(FsOpsTest, MknodFifoAndRegular) {
  ASSERT_THAT(mknod(P("fifo").c_str(), S_IFIFO | 0600, 0), SyscallSucceeds());
  EXPECT_TRUE(S_ISFIFO(StatOf(P("fifo")).st_mode));
  ASSERT_THAT(mknod(P("reg").c_str(), S_IFREG | 0600, 0), SyscallSucceeds());
  EXPECT_TRUE(S_ISREG(StatOf(P("reg")).st_mode));
  EXPECT_THAT(mknod(P("fifo").c_str(), S_IFIFO | 0600, 0),
              SyscallFailsWithErrno(EEXIST));
  EXPECT_THAT(mknod(P("dir").c_str(), S_IFDIR | 0700, 0),
              SyscallFailsWithErrno(EPERM));
}

}  // namespace
}  // namespace systest
