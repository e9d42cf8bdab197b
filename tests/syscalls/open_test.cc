// open(2), openat(2), openat2(2), creat(2) and the umask as open sees it.

#include <dirent.h>
#include <linux/openat2.h>
#include <sys/stat.h>

#include <climits>
#include <string>
#include <vector>

#include "tests/syscalls/test_util.h"

namespace systest {
namespace {

// Sets the umask for the lifetime of the object.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(umask(mask)) {}
  ~ScopedUmask() { umask(old_); }

 private:
  mode_t old_;
};

mode_t ModeOf(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) ThrowErrno("lstat(" + path + ")");
  return st.st_mode;
}

// The size of the first published struct open_how (flags, mode, resolve).
constexpr size_t kOpenHowSizeVer0 = 24;

int Openat2(int dirfd, const std::string& path, const struct open_how& how,
            size_t size = sizeof(struct open_how)) {
  return static_cast<int>(
      syscall(SYS_openat2, dirfd, path.c_str(), &how, size));
}

class OpenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempPath::Dir();
    file_ = dir_.Child("file");
    FileDescriptor fd = OpenOrThrow(file_, O_CREAT | O_WRONLY, 0644);
    WriteAll(fd.get(), "contents");
  }

  TempPath dir_;
  std::string file_;
};

// --- O_CREAT / O_EXCL / O_TRUNC -------------------------------------------

TEST_F(OpenTest, CreatAppliesModeMinusUmask) {
  ScopedUmask mask(027);
  const std::string path = dir_.Child("new");
  FileDescriptor fd(open(path.c_str(), O_CREAT | O_WRONLY, 0666));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_EQ(ModeOf(path), S_IFREG | 0640);
  struct stat st;
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_size, 0);
  EXPECT_EQ(st.st_uid, geteuid());
  EXPECT_EQ(st.st_gid, getegid());
}

TEST_F(OpenTest, CreatOnExistingFileKeepsContentsAndMode) {
  ASSERT_THAT(chmod(file_.c_str(), 0600), SyscallSucceeds());
  FileDescriptor fd(open(file_.c_str(), O_CREAT | O_RDONLY, 0777));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_EQ(ReadAll(fd.get()), "contents");
  EXPECT_EQ(ModeOf(file_), S_IFREG | 0600);
}

TEST_F(OpenTest, CreatExclOnExistingIsEexist) {
  EXPECT_THAT(open(file_.c_str(), O_CREAT | O_EXCL | O_RDWR, 0644),
              SyscallFailsWithErrno(EEXIST));
  EXPECT_THAT(open(dir_.c_str(), O_CREAT | O_EXCL | O_RDONLY, 0644),
              SyscallFailsWithErrno(EEXIST));
}

TEST_F(OpenTest, CreatExclDoesNotFollowADanglingSymlink) {
  const std::string link = dir_.Child("dangling");
  const std::string target = dir_.Child("target");
  ASSERT_THAT(symlink(target.c_str(), link.c_str()), SyscallSucceeds());
  EXPECT_THAT(open(link.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644),
              SyscallFailsWithErrno(EEXIST));
  EXPECT_THAT(access(target.c_str(), F_OK), SyscallFailsWithErrno(ENOENT));
}

TEST_F(OpenTest, CreatThroughADanglingSymlinkCreatesTheTarget) {
  const std::string link = dir_.Child("dangling");
  const std::string target = dir_.Child("target");
  ASSERT_THAT(symlink(target.c_str(), link.c_str()), SyscallSucceeds());
  FileDescriptor fd(open(link.c_str(), O_CREAT | O_WRONLY, 0644));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_TRUE(S_ISREG(ModeOf(target)));
  EXPECT_TRUE(S_ISLNK(ModeOf(link)));
}

TEST_F(OpenTest, TruncEmptiesTheFile) {
  FileDescriptor fd(open(file_.c_str(), O_WRONLY | O_TRUNC));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_size, 0);
}

TEST_F(OpenTest, TruncWithReadOnlyStillTruncatesOnLinux) {
  FileDescriptor fd(open(file_.c_str(), O_RDONLY | O_TRUNC));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_size, 0);
}

TEST_F(OpenTest, FlagsSeenByGetfl) {
  FileDescriptor fd(
      open(file_.c_str(), O_RDWR | O_APPEND | O_CREAT | O_TRUNC | O_NONBLOCK));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  int fl = fcntl(fd.get(), F_GETFL);
  ASSERT_THAT(fl, SyscallSucceeds());
  EXPECT_EQ(fl & O_ACCMODE, O_RDWR);
  EXPECT_TRUE(fl & O_APPEND);
  EXPECT_TRUE(fl & O_NONBLOCK);
  // Creation flags are not kept in the open file description.
  EXPECT_FALSE(fl & (O_CREAT | O_TRUNC | O_EXCL | O_NOCTTY));
}

TEST_F(OpenTest, Creat) {
  const std::string path = dir_.Child("creat");
  FileDescriptor fd(creat(path.c_str(), 0600));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_THAT(fcntl(fd.get(), F_GETFL),
              SyscallSucceedsWithValue(::testing::Truly(
                  [](int fl) { return (fl & O_ACCMODE) == O_WRONLY; })));
  char c;
  EXPECT_THAT(read(fd.get(), &c, 1), SyscallFailsWithErrno(EBADF));
  // creat truncates an existing file.
  FileDescriptor again(creat(file_.c_str(), 0600));
  ASSERT_THAT(again.get(), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(fstat(again.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_size, 0);
}

// --- O_DIRECTORY / EISDIR / ENOTDIR ---------------------------------------

TEST_F(OpenTest, DirectoryFlagOnAFileIsEnotdir) {
  EXPECT_THAT(open(file_.c_str(), O_RDONLY | O_DIRECTORY),
              SyscallFailsWithErrno(ENOTDIR));
  FileDescriptor fd(open(dir_.c_str(), O_RDONLY | O_DIRECTORY));
  EXPECT_THAT(fd.get(), SyscallSucceeds());
}

TEST_F(OpenTest, DirectoryWithCreatIsEinval) {
  // Since Linux 6.4 the combination is refused outright.
  EXPECT_THAT(open(dir_.Child("d").c_str(), O_CREAT | O_DIRECTORY | O_RDONLY,
                   0755),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(open(dir_.c_str(), O_CREAT | O_DIRECTORY | O_RDONLY, 0755),
              SyscallFailsWithErrno(EINVAL));
}

TEST_F(OpenTest, WritingADirectoryIsEisdir) {
  EXPECT_THAT(open(dir_.c_str(), O_WRONLY), SyscallFailsWithErrno(EISDIR));
  EXPECT_THAT(open(dir_.c_str(), O_RDWR), SyscallFailsWithErrno(EISDIR));
  EXPECT_THAT(open(dir_.c_str(), O_CREAT | O_RDONLY, 0644),
              SyscallFailsWithErrno(EISDIR));
  EXPECT_THAT(open(dir_.c_str(), O_RDONLY | O_TRUNC),
              SyscallFailsWithErrno(EISDIR));
}

TEST_F(OpenTest, CreatWithTrailingSlashIsEisdir) {
  const std::string path = dir_.Child("newdir/");
  EXPECT_THAT(open(path.c_str(), O_CREAT | O_WRONLY, 0644),
              SyscallFailsWithErrno(EISDIR));
}

TEST_F(OpenTest, FileAsPathComponentIsEnotdir) {
  EXPECT_THAT(open((file_ + "/x").c_str(), O_RDONLY),
              SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(open((file_ + "/").c_str(), O_RDONLY),
              SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(open((file_ + "/x").c_str(), O_CREAT | O_WRONLY, 0644),
              SyscallFailsWithErrno(ENOTDIR));
}

TEST_F(OpenTest, DotAndDotDot) {
  FileDescriptor fd(open((dir_.path() + "/./.").c_str(), O_RDONLY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  struct stat a, b;
  ASSERT_THAT(fstat(fd.get(), &a), SyscallSucceeds());
  ASSERT_THAT(stat(dir_.c_str(), &b), SyscallSucceeds());
  EXPECT_EQ(a.st_ino, b.st_ino);
  const std::string sub = dir_.Child("sub");
  ASSERT_THAT(mkdir(sub.c_str(), 0755), SyscallSucceeds());
  FileDescriptor up(open((sub + "/../file").c_str(), O_RDONLY));
  ASSERT_THAT(up.get(), SyscallSucceeds());
  EXPECT_EQ(ReadAll(up.get()), "contents");
}

// --- ENOENT / ENAMETOOLONG ------------------------------------------------

TEST_F(OpenTest, MissingIsEnoent) {
  EXPECT_THAT(open(dir_.Child("missing").c_str(), O_RDONLY),
              SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(open(dir_.Child("missing/file").c_str(), O_CREAT | O_WRONLY,
                   0644),
              SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(open("", O_RDONLY), SyscallFailsWithErrno(ENOENT));
}

TEST_F(OpenTest, NameTooLong) {
  const std::string long_name(NAME_MAX + 1, 'n');
  EXPECT_THAT(open(dir_.Child(long_name).c_str(), O_RDONLY),
              SyscallFailsWithErrno(ENAMETOOLONG));
  EXPECT_THAT(open(dir_.Child(long_name).c_str(), O_CREAT | O_WRONLY, 0644),
              SyscallFailsWithErrno(ENAMETOOLONG));
  // NAME_MAX itself is fine (just missing).
  EXPECT_THAT(open(dir_.Child(std::string(NAME_MAX, 'n')).c_str(), O_RDONLY),
              SyscallFailsWithErrno(ENOENT));
  // A whole path of PATH_MAX bytes or more, made of short components.
  std::string path = dir_.path();
  while (path.size() < PATH_MAX) path += "/.";
  EXPECT_THAT(open(path.c_str(), O_RDONLY),
              SyscallFailsWithErrno(ENAMETOOLONG));
}

TEST_F(OpenTest, BadPathPointerIsEfault) {
  EXPECT_THAT(open(Opaque<const char*>(nullptr), O_RDONLY),
              SyscallFailsWithErrno(EFAULT));
}

// --- symlinks: ELOOP / O_NOFOLLOW -----------------------------------------

TEST_F(OpenTest, SymlinkIsFollowed) {
  const std::string link = dir_.Child("link");
  ASSERT_THAT(symlink("file", link.c_str()), SyscallSucceeds());
  FileDescriptor fd(open(link.c_str(), O_RDONLY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_EQ(ReadAll(fd.get()), "contents");
}

TEST_F(OpenTest, SymlinkLoopIsEloop) {
  const std::string a = dir_.Child("a");
  const std::string b = dir_.Child("b");
  ASSERT_THAT(symlink(b.c_str(), a.c_str()), SyscallSucceeds());
  ASSERT_THAT(symlink(a.c_str(), b.c_str()), SyscallSucceeds());
  EXPECT_THAT(open(a.c_str(), O_RDONLY), SyscallFailsWithErrno(ELOOP));
  EXPECT_THAT(open((a + "/x").c_str(), O_RDONLY), SyscallFailsWithErrno(ELOOP));
  const std::string self = dir_.Child("self");
  ASSERT_THAT(symlink("self", self.c_str()), SyscallSucceeds());
  EXPECT_THAT(open(self.c_str(), O_RDONLY), SyscallFailsWithErrno(ELOOP));
}

TEST_F(OpenTest, FortySymlinksAreFollowedButNotFortyOne) {
  // link0 -> link1 -> ... -> link39 -> file: 40 links in one resolution.
  for (int i = 0; i < 40; ++i) {
    std::string target = i == 39 ? std::string("file")
                                 : "link" + std::to_string(i + 1);
    ASSERT_THAT(symlink(target.c_str(),
                        dir_.Child("link" + std::to_string(i)).c_str()),
                SyscallSucceeds());
  }
  FileDescriptor fd(open(dir_.Child("link0").c_str(), O_RDONLY));
  EXPECT_THAT(fd.get(), SyscallSucceeds());
  ASSERT_THAT(symlink("link0", dir_.Child("extra").c_str()), SyscallSucceeds());
  EXPECT_THAT(open(dir_.Child("extra").c_str(), O_RDONLY),
              SyscallFailsWithErrno(ELOOP));
}

TEST_F(OpenTest, NofollowOnASymlinkIsEloop) {
  const std::string link = dir_.Child("link");
  ASSERT_THAT(symlink("file", link.c_str()), SyscallSucceeds());
  EXPECT_THAT(open(link.c_str(), O_RDONLY | O_NOFOLLOW),
              SyscallFailsWithErrno(ELOOP));
  EXPECT_THAT(open(link.c_str(), O_RDONLY | O_NOFOLLOW | O_CREAT, 0644),
              SyscallFailsWithErrno(ELOOP));
  // Only the last component is concerned.
  const std::string dirlink = dir_.Child("dirlink");
  ASSERT_THAT(symlink(dir_.c_str(), dirlink.c_str()), SyscallSucceeds());
  FileDescriptor fd(open((dirlink + "/file").c_str(), O_RDONLY | O_NOFOLLOW));
  EXPECT_THAT(fd.get(), SyscallSucceeds());
  FileDescriptor plain(open(file_.c_str(), O_RDONLY | O_NOFOLLOW));
  EXPECT_THAT(plain.get(), SyscallSucceeds());
}

TEST_F(OpenTest, DirectorySymlinkWithTrailingSlash) {
  const std::string link = dir_.Child("dirlink");
  ASSERT_THAT(symlink(dir_.c_str(), link.c_str()), SyscallSucceeds());
  // A trailing slash makes the final component a directory to resolve,
  // so the symlink is followed.
  FileDescriptor fd(open((link + "/").c_str(), O_RDONLY | O_DIRECTORY));
  EXPECT_THAT(fd.get(), SyscallSucceeds());
}

// --- O_PATH ---------------------------------------------------------------

TEST_F(OpenTest, OPathAllowsOnlyDescriptorLevelOperations) {
  FileDescriptor fd(open(file_.c_str(), O_PATH));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  struct stat st;
  EXPECT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_size, 8);
  char c;
  EXPECT_THAT(read(fd.get(), &c, 1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(write(fd.get(), "x", 1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(fchmod(fd.get(), 0600), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(ftruncate(fd.get(), 0), SyscallFailsWithErrno(EBADF));
  int fl = fcntl(fd.get(), F_GETFL);
  ASSERT_THAT(fl, SyscallSucceeds());
  EXPECT_TRUE(fl & O_PATH);
  // dup and close work.
  FileDescriptor dup_fd(dup(fd.get()));
  EXPECT_THAT(dup_fd.get(), SyscallSucceeds());
}

TEST_F(OpenTest, OPathIgnoresOtherFlags) {
  // O_TRUNC and O_WRONLY are ignored with O_PATH: contents survive.
  FileDescriptor fd(open(file_.c_str(), O_PATH | O_WRONLY | O_TRUNC));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(stat(file_.c_str(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_size, 8);
}

TEST_F(OpenTest, OPathNofollowOpensTheSymlinkItself) {
  const std::string link = dir_.Child("link");
  ASSERT_THAT(symlink("file", link.c_str()), SyscallSucceeds());
  FileDescriptor fd(open(link.c_str(), O_PATH | O_NOFOLLOW));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(fstatat(fd.get(), "", &st, AT_EMPTY_PATH), SyscallSucceeds());
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  char buf[16];
  EXPECT_THAT(readlinkat(fd.get(), "", buf, sizeof(buf)),
              SyscallSucceedsWithValue(4));
  EXPECT_EQ(std::string(buf, 4), "file");
}

TEST_F(OpenTest, OPathDirectoryServesAsDirfd) {
  FileDescriptor dfd(open(dir_.c_str(), O_PATH | O_DIRECTORY));
  ASSERT_THAT(dfd.get(), SyscallSucceeds());
  FileDescriptor fd(openat(dfd.get(), "file", O_RDONLY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_EQ(ReadAll(fd.get()), "contents");
}

TEST_F(OpenTest, OPathNeedsNoPermissionOnTheFileItself) {
  ASSERT_THAT(chmod(file_.c_str(), 0), SyscallSucceeds());
  const std::string path = file_;
  EXPECT_THAT(ForkAndWait([&] {
    DropPrivilegesInChild();
    int fd = open(path.c_str(), O_PATH);
    TEST_CHECK(fd >= 0);
    struct stat st;
    TEST_CHECK_SUCCESS(fstat(fd, &st));
    TEST_CHECK_ERRNO(open(path.c_str(), O_RDONLY), EACCES);
  }),
              ExitedWithCode(0));
}

// --- O_CLOEXEC ------------------------------------------------------------

TEST_F(OpenTest, CloexecSetsFdCloexec) {
  FileDescriptor with(open(file_.c_str(), O_RDONLY | O_CLOEXEC));
  FileDescriptor without(open(file_.c_str(), O_RDONLY));
  EXPECT_THAT(fcntl(with.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  EXPECT_THAT(fcntl(without.get(), F_GETFD), SyscallSucceedsWithValue(0));
  // O_CLOEXEC is a descriptor flag, not a status flag.
  EXPECT_FALSE(fcntl(with.get(), F_GETFL) & O_CLOEXEC);
}

TEST_F(OpenTest, OpenReturnsTheLowestFreeDescriptor) {
  FileDescriptor a = OpenOrThrow(file_, O_RDONLY);
  FileDescriptor b = OpenOrThrow(file_, O_RDONLY);
  FileDescriptor c = OpenOrThrow(file_, O_RDONLY);
  const int freed = b.get();
  b.reset();
  FileDescriptor d = OpenOrThrow(file_, O_RDONLY);
  EXPECT_EQ(d.get(), freed);
}

// --- O_TMPFILE ------------------------------------------------------------

TEST_F(OpenTest, TmpfileIsAnUnnamedFile) {
  FileDescriptor fd(open(dir_.c_str(), O_TMPFILE | O_RDWR, 0600));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_nlink, 0u);
  WriteAll(fd.get(), "anon");
  char buf[8];
  EXPECT_THAT(pread(fd.get(), buf, sizeof(buf), 0), SyscallSucceedsWithValue(4));
  // Nothing new appeared in the directory.
  FileDescriptor dfd = OpenOrThrow(dir_.path(), O_RDONLY | O_DIRECTORY);
  char dents[4096];
  long n = syscall(SYS_getdents64, dfd.get(), dents, sizeof(dents));
  ASSERT_THAT(n, SyscallSucceeds());
  int entries = 0;
  for (long off = 0; off < n;) {
    auto* d = reinterpret_cast<struct dirent64*>(dents + off);
    ++entries;
    off += d->d_reclen;
  }
  EXPECT_EQ(entries, 3);  // ".", ".." and "file"
}

TEST_F(OpenTest, TmpfileCanBeLinkedIn) {
  if (geteuid() != 0) GTEST_SKIP() << "linkat(AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH";
  FileDescriptor fd(open(dir_.c_str(), O_TMPFILE | O_WRONLY, 0640));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  WriteAll(fd.get(), "linked");
  const std::string name = dir_.Child("named");
  ASSERT_THAT(linkat(fd.get(), "", AT_FDCWD, name.c_str(), AT_EMPTY_PATH),
              SyscallSucceeds());
  FileDescriptor r = OpenOrThrow(name, O_RDONLY);
  EXPECT_EQ(ReadAll(r.get()), "linked");
  // O_EXCL forbids ever giving it a name.
  FileDescriptor excl(open(dir_.c_str(), O_TMPFILE | O_WRONLY | O_EXCL, 0600));
  ASSERT_THAT(excl.get(), SyscallSucceeds());
  EXPECT_THAT(linkat(excl.get(), "", AT_FDCWD, dir_.Child("never").c_str(),
                     AT_EMPTY_PATH),
              SyscallFailsWithErrno(ENOENT));
}

TEST_F(OpenTest, TmpfileErrors) {
  // It needs write access and a directory.
  EXPECT_THAT(open(dir_.c_str(), O_TMPFILE | O_RDONLY, 0600),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(open(file_.c_str(), O_TMPFILE | O_RDWR, 0600),
              SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(open(dir_.Child("missing").c_str(), O_TMPFILE | O_RDWR, 0600),
              SyscallFailsWithErrno(ENOENT));
}

// --- FIFOs ----------------------------------------------------------------

TEST_F(OpenTest, NonblockingFifoOpen) {
  const std::string fifo = dir_.Child("fifo");
  ASSERT_THAT(mkfifo(fifo.c_str(), 0644), SyscallSucceeds());
  EXPECT_THAT(open(fifo.c_str(), O_WRONLY | O_NONBLOCK),
              SyscallFailsWithErrno(ENXIO));
  FileDescriptor r(open(fifo.c_str(), O_RDONLY | O_NONBLOCK));
  ASSERT_THAT(r.get(), SyscallSucceeds());
  FileDescriptor w(open(fifo.c_str(), O_WRONLY | O_NONBLOCK));
  ASSERT_THAT(w.get(), SyscallSucceeds());
  ASSERT_THAT(write(w.get(), "z", 1), SyscallSucceedsWithValue(1));
  char c;
  EXPECT_THAT(read(r.get(), &c, 1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(c, 'z');
}

// --- permissions (run unprivileged in a child) ----------------------------

class OpenPermissionTest : public OpenTest {
 protected:
  void SetUp() override {
    OpenTest::SetUp();
    // Let the unprivileged child reach dir_.
    ASSERT_THAT(chmod(dir_.c_str(), 0755), SyscallSucceeds());
  }
};

TEST_F(OpenPermissionTest, ModeBitsAreEnforced) {
  const std::string none = dir_.Child("none");
  const std::string ro = dir_.Child("ro");
  const std::string wo = dir_.Child("wo");
  for (auto [path, mode] : {std::pair{none, 0000}, std::pair{ro, 0444},
                            std::pair{wo, 0222}}) {
    FileDescriptor fd = OpenOrThrow(path, O_CREAT | O_WRONLY, 0600);
    ASSERT_THAT(fchmod(fd.get(), mode), SyscallSucceeds());
  }
  EXPECT_THAT(ForkAndWait([&] {
    DropPrivilegesInChild();
    TEST_CHECK_ERRNO(open(none.c_str(), O_RDONLY), EACCES);
    TEST_CHECK_ERRNO(open(none.c_str(), O_WRONLY), EACCES);
    TEST_CHECK_ERRNO(open(ro.c_str(), O_WRONLY), EACCES);
    TEST_CHECK_ERRNO(open(ro.c_str(), O_RDWR), EACCES);
    TEST_CHECK_ERRNO(open(ro.c_str(), O_RDONLY | O_TRUNC), EACCES);
    TEST_CHECK_ERRNO(open(wo.c_str(), O_RDONLY), EACCES);
    int fd = open(ro.c_str(), O_RDONLY);
    TEST_CHECK(fd >= 0);
    close(fd);
    fd = open(wo.c_str(), O_WRONLY);
    TEST_CHECK(fd >= 0);
    close(fd);
    // O_CREAT on an existing file checks the open mode, not the directory.
    TEST_CHECK_ERRNO(open(ro.c_str(), O_CREAT | O_WRONLY, 0644), EACCES);
  }),
              ExitedWithCode(0));
}

TEST_F(OpenPermissionTest, DirectoryPermissions) {
  const std::string nosearch = dir_.Child("nosearch");
  const std::string nowrite = dir_.Child("nowrite");
  ASSERT_THAT(mkdir(nosearch.c_str(), 0755), SyscallSucceeds());
  ASSERT_THAT(mkdir(nowrite.c_str(), 0755), SyscallSucceeds());
  FileDescriptor f = OpenOrThrow(nosearch + "/f", O_CREAT | O_WRONLY, 0644);
  ASSERT_THAT(chmod(nosearch.c_str(), 0666), SyscallSucceeds());
  ASSERT_THAT(chmod(nowrite.c_str(), 0555), SyscallSucceeds());
  EXPECT_THAT(ForkAndWait([&] {
    DropPrivilegesInChild();
    // No search (x) permission on a directory: nothing below is reachable.
    TEST_CHECK_ERRNO(open((nosearch + "/f").c_str(), O_RDONLY), EACCES);
    TEST_CHECK_ERRNO(open((nosearch + "/missing").c_str(), O_RDONLY), EACCES);
    // No write permission: no new names, but existing ones still open.
    TEST_CHECK_ERRNO(open((nowrite + "/new").c_str(), O_CREAT | O_WRONLY, 0644),
                     EACCES);
    int fd = open(nowrite.c_str(), O_RDONLY | O_DIRECTORY);
    TEST_CHECK(fd >= 0);
    close(fd);
  }),
              ExitedWithCode(0));
}

// --- openat ---------------------------------------------------------------

TEST_F(OpenTest, OpenatResolvesRelativeToDirfd) {
  FileDescriptor dfd = OpenOrThrow(dir_.path(), O_RDONLY | O_DIRECTORY);
  FileDescriptor fd(openat(dfd.get(), "file", O_RDONLY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_EQ(ReadAll(fd.get()), "contents");
  FileDescriptor created(openat(dfd.get(), "made", O_CREAT | O_WRONLY, 0644));
  ASSERT_THAT(created.get(), SyscallSucceeds());
  EXPECT_THAT(access(dir_.Child("made").c_str(), F_OK), SyscallSucceeds());
}

TEST_F(OpenTest, OpenatAbsolutePathIgnoresDirfd) {
  FileDescriptor fd(openat(-1, file_.c_str(), O_RDONLY));
  EXPECT_THAT(fd.get(), SyscallSucceeds());
  FileDescriptor filefd = OpenOrThrow(file_, O_RDONLY);
  FileDescriptor fd2(openat(filefd.get(), file_.c_str(), O_RDONLY));
  EXPECT_THAT(fd2.get(), SyscallSucceeds());
}

TEST_F(OpenTest, OpenatAtFdcwd) {
  char cwd[PATH_MAX];
  ASSERT_NE(getcwd(cwd, sizeof(cwd)), nullptr);
  ASSERT_THAT(chdir(dir_.c_str()), SyscallSucceeds());
  int fd = openat(AT_FDCWD, "file", O_RDONLY);
  int err = errno;
  ASSERT_THAT(chdir(cwd), SyscallSucceeds());
  errno = err;
  ASSERT_THAT(fd, SyscallSucceeds());
  FileDescriptor owned(fd);
  EXPECT_EQ(ReadAll(fd), "contents");
}

TEST_F(OpenTest, OpenatBadDirfd) {
  EXPECT_THAT(openat(-1, "file", O_RDONLY), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(openat(12345, "file", O_RDONLY), SyscallFailsWithErrno(EBADF));
  FileDescriptor filefd = OpenOrThrow(file_, O_RDONLY);
  EXPECT_THAT(openat(filefd.get(), "x", O_RDONLY),
              SyscallFailsWithErrno(ENOTDIR));
}

// --- openat2 --------------------------------------------------------------

class Openat2Test : public OpenTest {
 protected:
  void SetUp() override {
    OpenTest::SetUp();
    // dir_/root/{sub/,inner -> sub, abs -> /, up -> ..}
    root_ = dir_.Child("root");
    ASSERT_THAT(mkdir(root_.c_str(), 0755), SyscallSucceeds());
    ASSERT_THAT(mkdir((root_ + "/sub").c_str(), 0755), SyscallSucceeds());
    FileDescriptor f = OpenOrThrow(root_ + "/sub/leaf", O_CREAT | O_WRONLY);
    WriteAll(f.get(), "leaf");
    ASSERT_THAT(symlink("sub", (root_ + "/inner").c_str()), SyscallSucceeds());
    ASSERT_THAT(symlink("/", (root_ + "/abs").c_str()), SyscallSucceeds());
    ASSERT_THAT(symlink("..", (root_ + "/up").c_str()), SyscallSucceeds());
    root_fd_ = OpenOrThrow(root_, O_PATH | O_DIRECTORY);
  }

  std::string root_;
  FileDescriptor root_fd_;
};

TEST_F(Openat2Test, PlainOpen) {
  struct open_how how = {};
  how.flags = O_RDONLY;
  FileDescriptor fd(Openat2(root_fd_.get(), "sub/leaf", how));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_EQ(ReadAll(fd.get()), "leaf");
}

TEST_F(Openat2Test, SizeRules) {
  struct {
    struct open_how how;
    char extra[16];
  } big = {};
  big.how.flags = O_RDONLY;
  // Smaller than the first version of the struct.
  EXPECT_THAT(Openat2(root_fd_.get(), "sub/leaf", big.how,
                      kOpenHowSizeVer0 - 1),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Openat2(root_fd_.get(), "sub/leaf", big.how, 0),
              SyscallFailsWithErrno(EINVAL));
  // Larger with zeroed tail: accepted.
  FileDescriptor fd(
      Openat2(root_fd_.get(), "sub/leaf", big.how, sizeof(big)));
  EXPECT_THAT(fd.get(), SyscallSucceeds());
  // Larger with a non-zero byte in the unknown tail.
  big.extra[3] = 1;
  EXPECT_THAT(Openat2(root_fd_.get(), "sub/leaf", big.how, sizeof(big)),
              SyscallFailsWithErrno(E2BIG));
  // Larger than a page.
  std::vector<char> huge(2 * 4096 + 8, 0);
  memcpy(huge.data(), &big.how, sizeof(big.how));
  EXPECT_THAT(syscall(SYS_openat2, root_fd_.get(), "sub/leaf", huge.data(),
                      static_cast<size_t>(4096 * 2)),
              SyscallFailsWithErrno(E2BIG));
}

TEST_F(Openat2Test, InvalidFieldsAreEinval) {
  struct open_how how = {};
  how.flags = O_RDONLY | (1ULL << 40);  // unknown open flag bit
  EXPECT_THAT(Openat2(root_fd_.get(), "sub/leaf", how),
              SyscallFailsWithErrno(EINVAL));
  how = {};
  how.flags = O_RDONLY;
  how.mode = 0644;  // mode without O_CREAT/O_TMPFILE
  EXPECT_THAT(Openat2(root_fd_.get(), "sub/leaf", how),
              SyscallFailsWithErrno(EINVAL));
  how = {};
  how.flags = O_CREAT | O_WRONLY;
  how.mode = 010000;  // beyond S_IALLUGO
  EXPECT_THAT(Openat2(root_fd_.get(), "new", how),
              SyscallFailsWithErrno(EINVAL));
  how = {};
  how.flags = O_RDONLY;
  how.resolve = 0x1000;  // unknown resolve bit
  EXPECT_THAT(Openat2(root_fd_.get(), "sub/leaf", how),
              SyscallFailsWithErrno(EINVAL));
  how.resolve = RESOLVE_BENEATH | RESOLVE_IN_ROOT;
  EXPECT_THAT(Openat2(root_fd_.get(), "sub/leaf", how),
              SyscallFailsWithErrno(EINVAL));
}

TEST_F(Openat2Test, CreatUsesModeExactly) {
  ScopedUmask mask(022);
  struct open_how how = {};
  how.flags = O_CREAT | O_WRONLY;
  how.mode = 0640;
  FileDescriptor fd(Openat2(root_fd_.get(), "made", how));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_EQ(ModeOf(root_ + "/made"), S_IFREG | 0640);
}

TEST_F(Openat2Test, ResolveBeneath) {
  struct open_how how = {};
  how.flags = O_RDONLY;
  how.resolve = RESOLVE_BENEATH;
  FileDescriptor ok(Openat2(root_fd_.get(), "inner/leaf", how));
  EXPECT_THAT(ok.get(), SyscallSucceeds());
  FileDescriptor dotdot_inside(Openat2(root_fd_.get(), "sub/../sub/leaf", how));
  EXPECT_THAT(dotdot_inside.get(), SyscallSucceeds());
  EXPECT_THAT(Openat2(root_fd_.get(), "../file", how),
              SyscallFailsWithErrno(EXDEV));
  EXPECT_THAT(Openat2(root_fd_.get(), "sub/../../file", how),
              SyscallFailsWithErrno(EXDEV));
  EXPECT_THAT(Openat2(root_fd_.get(), file_, how),
              SyscallFailsWithErrno(EXDEV));
  EXPECT_THAT(Openat2(root_fd_.get(), "abs", how),
              SyscallFailsWithErrno(EXDEV));
  EXPECT_THAT(Openat2(root_fd_.get(), "up/file", how),
              SyscallFailsWithErrno(EXDEV));
}

TEST_F(Openat2Test, ResolveNoSymlinks) {
  struct open_how how = {};
  how.flags = O_RDONLY;
  how.resolve = RESOLVE_NO_SYMLINKS;
  FileDescriptor ok(Openat2(root_fd_.get(), "sub/leaf", how));
  EXPECT_THAT(ok.get(), SyscallSucceeds());
  EXPECT_THAT(Openat2(root_fd_.get(), "inner/leaf", how),
              SyscallFailsWithErrno(ELOOP));
  EXPECT_THAT(Openat2(root_fd_.get(), "inner", how),
              SyscallFailsWithErrno(ELOOP));
  // O_PATH|O_NOFOLLOW may still name the final symlink itself.
  how.flags = O_PATH | O_NOFOLLOW;
  FileDescriptor link(Openat2(root_fd_.get(), "inner", how));
  EXPECT_THAT(link.get(), SyscallSucceeds());
}

TEST_F(Openat2Test, ResolveInRoot) {
  struct open_how how = {};
  how.flags = O_RDONLY;
  how.resolve = RESOLVE_IN_ROOT;
  // Absolute paths, absolute symlinks and ".." stop at the dirfd.
  FileDescriptor abs(Openat2(root_fd_.get(), "/sub/leaf", how));
  ASSERT_THAT(abs.get(), SyscallSucceeds());
  EXPECT_EQ(ReadAll(abs.get()), "leaf");
  FileDescriptor up(Openat2(root_fd_.get(), "../../../sub/leaf", how));
  ASSERT_THAT(up.get(), SyscallSucceeds());
  EXPECT_EQ(ReadAll(up.get()), "leaf");
  FileDescriptor via_abs_link(Openat2(root_fd_.get(), "abs/sub/leaf", how));
  ASSERT_THAT(via_abs_link.get(), SyscallSucceeds());
  EXPECT_EQ(ReadAll(via_abs_link.get()), "leaf");
  FileDescriptor via_up_link(Openat2(root_fd_.get(), "up/up/sub/leaf", how));
  ASSERT_THAT(via_up_link.get(), SyscallSucceeds());
  // The real parent's "file" is out of reach.
  EXPECT_THAT(Openat2(root_fd_.get(), "../file", how),
              SyscallFailsWithErrno(ENOENT));
}

// --- umask ----------------------------------------------------------------

TEST(UmaskTest, ReturnsPreviousAndKeepsOnlyPermissionBits) {
  mode_t old = umask(022);
  EXPECT_EQ(umask(07777), 022u);
  EXPECT_EQ(umask(022), 0777u);
  umask(old);
}

TEST(UmaskTest, AppliesToMkdirMknodAndCreat) {
  TempPath dir = TempPath::Dir();
  ScopedUmask mask(077);
  ASSERT_THAT(mkdir(dir.Child("d").c_str(), 0777), SyscallSucceeds());
  EXPECT_EQ(ModeOf(dir.Child("d")), S_IFDIR | 0700);
  ASSERT_THAT(mknod(dir.Child("fifo").c_str(), S_IFIFO | 0666, 0),
              SyscallSucceeds());
  EXPECT_EQ(ModeOf(dir.Child("fifo")), S_IFIFO | 0600);
  FileDescriptor fd(creat(dir.Child("c").c_str(), 0755));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_EQ(ModeOf(dir.Child("c")), S_IFREG | 0700);
  // fchmod afterwards is not filtered.
  ASSERT_THAT(fchmod(fd.get(), 0777), SyscallSucceeds());
  EXPECT_EQ(ModeOf(dir.Child("c")), S_IFREG | 0777);
}

TEST(UmaskTest, InheritedByChildren) {
  ScopedUmask mask(0123);
  EXPECT_THAT(ForkAndWait([] { TEST_CHECK_VALUE(umask(0), 0123u); }),
              ExitedWithCode(0));
}

}  // namespace
}  // namespace systest
