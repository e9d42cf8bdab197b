// The path-based operations: errno for every case open(2), mkdir(2),
// unlink(2), rmdir(2), rename(2), link(2), symlink(2), mknod(2) list.
#include <dirent.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>

#include "fs/vfs/device.h"
#include "fs/vfs/vfs.h"
#include "tests/unit/fs_test_util.h"

namespace sentry::testing {
namespace {

class VfsOpsTest : public FsTest {
 protected:
  Errno Unlink(std::string_view p) { return vfs_->Unlink(ctx_, ctx_.cwd, p); }
  Errno Rmdir(std::string_view p) { return vfs_->Rmdir(ctx_, ctx_.cwd, p); }
  Errno Rename(std::string_view a, std::string_view b, uint32_t flags = 0) {
    return vfs_->Rename(ctx_, ctx_.cwd, a, ctx_.cwd, b, flags);
  }
  Errno Link(std::string_view a, std::string_view b) {
    return vfs_->Link(ctx_, ctx_.cwd, a, ctx_.cwd, b, false, false);
  }
  Errno Mknod(std::string_view p, uint32_t mode, uint64_t dev = 0) {
    return vfs_->Mknod(ctx_, ctx_.cwd, p, mode, dev);
  }
};

TEST_F(VfsOpsTest, OpenCreateExclAndUmask) {
  ctx_.umask = 027;
  auto fd = Open("/f", O_CREAT | O_RDWR, 0777);
  ASSERT_TRUE(fd.ok());
  EXPECT_EQ(StatOf("/f").mode, S_IFREG | 0750u);
  EXPECT_EQ(OpenErr("/f", O_CREAT | O_EXCL | O_RDWR), EEXIST);
  EXPECT_EQ(OpenErr("/f", O_CREAT | O_RDWR), 0);
  EXPECT_EQ(OpenErr("/missing", O_RDONLY), ENOENT);
  EXPECT_EQ(OpenErr("/nodir/f", O_CREAT | O_RDWR), ENOENT);
  EXPECT_EQ(OpenErr("/", O_CREAT | O_RDWR), EISDIR);
  EXPECT_EQ(OpenErr("/.", O_CREAT | O_EXCL | O_RDWR), EEXIST);
  EXPECT_EQ(OpenErr("/newfile/", O_CREAT | O_RDWR), EISDIR);
  EXPECT_EQ(OpenErr("/f/", O_RDONLY), ENOTDIR);
  EXPECT_EQ(OpenErr("/x", O_CREAT | O_DIRECTORY | O_RDWR), EINVAL);
  // tmpfs makes unnamed files; O_TMPFILE needs write access and a directory.
  EXPECT_EQ(OpenErr("/", O_TMPFILE | O_RDWR), 0);
  EXPECT_EQ(OpenErr("/", O_TMPFILE | O_RDONLY), EINVAL);
  EXPECT_EQ(OpenErr("/f", O_TMPFILE | O_RDWR), ENOTDIR);
  ASSERT_EQ(Mkdir("/d"), 0);
  EXPECT_EQ(OpenErr("/d", O_CREAT | O_RDONLY), EISDIR);
}

TEST_F(VfsOpsTest, OpenSymlinkRules) {
  ASSERT_EQ(Touch("/target"), 0);
  ASSERT_EQ(Symlink("target", "/link"), 0);
  ASSERT_EQ(Symlink("created", "/dangling"), 0);
  EXPECT_EQ(OpenErr("/link", O_RDONLY | O_NOFOLLOW), ELOOP);
  EXPECT_EQ(OpenErr("/link", O_RDONLY), 0);
  auto p = Open("/link", O_PATH | O_NOFOLLOW);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE((*p)->Stat()->IsSymlink());
  EXPECT_TRUE((*p)->is_path());
  EXPECT_FALSE((*p)->readable());
  // O_EXCL never follows: EEXIST even for a dangling link.
  EXPECT_EQ(OpenErr("/dangling", O_CREAT | O_EXCL | O_WRONLY), EEXIST);
  EXPECT_EQ(OpenErr("/dangling", O_CREAT | O_WRONLY | O_NOFOLLOW), ELOOP);
  // O_CREAT through a dangling link creates its target.
  EXPECT_EQ(OpenErr("/dangling", O_CREAT | O_WRONLY), 0);
  EXPECT_TRUE(StatOf("/created").IsRegular());
  EXPECT_EQ(OpenErr("/link", O_RDONLY | O_DIRECTORY), ENOTDIR);
  EXPECT_EQ(OpenErr("/link", O_PATH | O_NOFOLLOW | O_DIRECTORY), ENOTDIR);
}

TEST_F(VfsOpsTest, OpenAccessModes) {
  ASSERT_EQ(Mkdir("/d"), 0);
  EXPECT_EQ(OpenErr("/d", O_WRONLY), EISDIR);
  EXPECT_EQ(OpenErr("/d", O_RDWR), EISDIR);
  EXPECT_EQ(OpenErr("/d", O_RDONLY | O_TRUNC), EISDIR);
  EXPECT_EQ(OpenErr("/d", O_RDONLY), 0);
  ASSERT_EQ(Touch("/ro", 0444), 0);
  vfs::PathContext user = ctx_;
  user.creds = UserCreds(1000);
  ASSERT_EQ(Touch("/pub", 0666), 0);
  EXPECT_EQ(vfs_->Open(user, user.cwd, "/ro", O_WRONLY, 0).error(), EACCES);
  EXPECT_EQ(vfs_->Open(user, user.cwd, "/ro", O_RDONLY | O_TRUNC, 0).error(), EACCES);
  EXPECT_TRUE(vfs_->Open(user, user.cwd, "/ro", O_RDONLY, 0).ok());
  EXPECT_EQ(vfs_->Open(user, user.cwd, "/ro", O_RDONLY | O_NOATIME, 0).error(), EPERM);
  // Creating in a directory without write permission.
  EXPECT_EQ(vfs_->Open(user, user.cwd, "/new", O_CREAT | O_WRONLY, 0644).error(), EACCES);
  // O_PATH needs no permission on the file itself.
  ASSERT_EQ(Touch("/secret", 0), 0);
  EXPECT_TRUE(vfs_->Open(user, user.cwd, "/secret", O_PATH, 0).ok());
  // A newly created file opens even if its mode forbids the access.
  ASSERT_EQ(Mkdir("/tmp", 0777), 0);
  EXPECT_TRUE(vfs_->Open(user, user.cwd, "/tmp/x", O_CREAT | O_RDWR, 0).ok());
}

TEST_F(VfsOpsTest, OpenTruncate) {
  auto fd = Open("/f", O_CREAT | O_RDWR);
  ASSERT_TRUE(fd.ok());
  ASSERT_EQ(WriteStr(**fd, "hello"), 5);
  EXPECT_EQ(StatOf("/f").size, 5u);
  ASSERT_TRUE(Open("/f", O_RDONLY).ok());
  EXPECT_EQ(StatOf("/f").size, 5u);
  ASSERT_TRUE(Open("/f", O_WRONLY | O_TRUNC).ok());
  EXPECT_EQ(StatOf("/f").size, 0u);
}

TEST_F(VfsOpsTest, ReadOnlyMount) {
  ASSERT_EQ(Mkdir("/ro"), 0);
  auto m = MountTmpfs("/ro", 0);
  ASSERT_EQ(Touch("/ro/f"), 0);
  ASSERT_EQ(Mkdir("/ro/d"), 0);
  m->flags |= MS_RDONLY;
  EXPECT_EQ(OpenErr("/ro/f", O_RDONLY), 0);
  EXPECT_EQ(OpenErr("/ro/f", O_WRONLY), EROFS);
  EXPECT_EQ(OpenErr("/ro/f", O_RDONLY | O_TRUNC), EROFS);
  EXPECT_EQ(OpenErr("/ro/new", O_CREAT | O_WRONLY), EROFS);
  EXPECT_EQ(OpenErr("/ro/f", O_CREAT | O_RDONLY), 0);
  EXPECT_EQ(OpenErr("/ro/f", O_CREAT | O_EXCL | O_RDONLY), EEXIST);
  EXPECT_EQ(Mkdir("/ro/x"), EROFS);
  EXPECT_EQ(Mkdir("/ro/d"), EEXIST);  // filename_create: EEXIST beats EROFS
  EXPECT_EQ(Unlink("/ro/f"), EROFS);
  EXPECT_EQ(Unlink("/ro/missing"), EROFS);
  EXPECT_EQ(Rmdir("/ro/d"), EROFS);
  EXPECT_EQ(Rename("/ro/f", "/ro/g"), EROFS);
  EXPECT_EQ(Symlink("x", "/ro/l"), EROFS);
  EXPECT_EQ(Link("/ro/f", "/ro/g"), EROFS);
  vfs::SetAttr sa;
  sa.mask = vfs::SetAttr::kMode;
  sa.mode = 0600;
  EXPECT_EQ(vfs_->SetAttrs(ctx_, Must("/ro/f"), sa), EROFS);
  EXPECT_EQ(vfs_->Access(ctx_, ctx_.cwd, "/ro/f", W_OK, vfs::kFollow, true), EROFS);
  EXPECT_EQ(vfs_->Access(ctx_, ctx_.cwd, "/ro/f", R_OK, vfs::kFollow, true), 0);
}

TEST_F(VfsOpsTest, DotsAsLastComponent) {
  ASSERT_EQ(Mkdir("/d"), 0);
  ASSERT_EQ(Mkdir("/d/e"), 0);
  EXPECT_EQ(Mkdir("/d/."), EEXIST);
  EXPECT_EQ(Mkdir("/d/.."), EEXIST);
  EXPECT_EQ(Mkdir("/"), EEXIST);
  EXPECT_EQ(Rmdir("/d/."), EINVAL);
  EXPECT_EQ(Rmdir("/d/e/.."), ENOTEMPTY);
  EXPECT_EQ(Rmdir("/"), EBUSY);
  EXPECT_EQ(Unlink("/d/."), EISDIR);
  EXPECT_EQ(Unlink("/"), EISDIR);
  EXPECT_EQ(Rename("/d/.", "/x"), EBUSY);
  EXPECT_EQ(Rename("/d/e", "/d/.."), EBUSY);
  EXPECT_EQ(Rename("/d/e", "/d/..", RENAME_NOREPLACE), EEXIST);
  EXPECT_EQ(Symlink("x", "/d/.."), EEXIST);
  EXPECT_EQ(Mknod("/.", S_IFIFO | 0644), EEXIST);
}

TEST_F(VfsOpsTest, MkdirUnlinkRmdirErrors) {
  ASSERT_EQ(Mkdir("/d"), 0);
  EXPECT_EQ(Mkdir("/d"), EEXIST);
  EXPECT_EQ(Mkdir("/e/"), 0);
  ASSERT_EQ(Touch("/d/f"), 0);
  EXPECT_EQ(Rmdir("/d"), ENOTEMPTY);
  EXPECT_EQ(Rmdir("/d/f"), ENOTDIR);
  EXPECT_EQ(Rmdir("/nope"), ENOENT);
  EXPECT_EQ(Unlink("/d"), EISDIR);
  EXPECT_EQ(Unlink("/d/f/"), ENOTDIR);
  EXPECT_EQ(Unlink("/e/"), EISDIR);
  EXPECT_EQ(Unlink("/nope"), ENOENT);
  EXPECT_EQ(Mknod("/fifo/", S_IFIFO | 0644), ENOENT);
  EXPECT_EQ(Symlink("x", "/d/f/"), EEXIST);
  EXPECT_EQ(Unlink("/d/f"), 0);
  EXPECT_EQ(Rmdir("/d/"), 0);
  EXPECT_EQ(ResolveErr("/d"), ENOENT);
  EXPECT_EQ(Symlink("", "/empty"), ENOENT);
  EXPECT_EQ(Mkdir("/" + std::string(256, 'n')), ENAMETOOLONG);
}

TEST_F(VfsOpsTest, MknodRules) {
  EXPECT_EQ(Mknod("/dir", S_IFDIR | 0755), EPERM);
  EXPECT_EQ(Mknod("/bad", 0170000), EINVAL);
  EXPECT_EQ(Mknod("/reg", 0644), 0);
  EXPECT_TRUE(StatOf("/reg").IsRegular());
  EXPECT_EQ(Mknod("/null", S_IFCHR | 0666, makedev(1, 3)), 0);
  EXPECT_EQ(StatOf("/null").rdev, makedev(1, 3));
  ASSERT_EQ(Mkdir("/tmp", 0777), 0);
  vfs::PathContext user = ctx_;
  user.creds = UserCreds(1000);
  EXPECT_EQ(vfs_->Mknod(user, user.cwd, "/tmp/c", S_IFCHR | 0666, makedev(1, 3)), EPERM);
  EXPECT_EQ(vfs_->Mknod(user, user.cwd, "/tmp/p", S_IFIFO | 0666, 0), 0);
}

TEST_F(VfsOpsTest, RenameErrors) {
  ASSERT_EQ(Mkdir("/a"), 0);
  ASSERT_EQ(Mkdir("/a/b"), 0);
  ASSERT_EQ(Mkdir("/full"), 0);
  ASSERT_EQ(Touch("/full/x"), 0);
  ASSERT_EQ(Mkdir("/empty"), 0);
  ASSERT_EQ(Touch("/f"), 0);
  ASSERT_EQ(Touch("/g"), 0);
  EXPECT_EQ(Rename("/a", "/a/b/c"), EINVAL);
  EXPECT_EQ(Rename("/a", "/a/c"), EINVAL);
  EXPECT_EQ(Rename("/a/b", "/a"), ENOTEMPTY);  // target is an ancestor
  EXPECT_EQ(Rename("/a", "/f"), ENOTDIR);
  EXPECT_EQ(Rename("/f", "/a"), EISDIR);
  EXPECT_EQ(Rename("/a", "/full"), ENOTEMPTY);
  EXPECT_EQ(Rename("/f/", "/h"), ENOTDIR);
  EXPECT_EQ(Rename("/f", "/h/"), ENOTDIR);
  EXPECT_EQ(Rename("/missing", "/h"), ENOENT);
  EXPECT_EQ(Rename("/f", "/g", RENAME_NOREPLACE), EEXIST);
  EXPECT_EQ(Rename("/f", "/h", RENAME_NOREPLACE | RENAME_EXCHANGE), EINVAL);
  EXPECT_EQ(Rename("/f", "/h", RENAME_WHITEOUT), EINVAL);
  EXPECT_EQ(Rename("/f", "/h", RENAME_EXCHANGE), ENOENT);
  ASSERT_EQ(Mkdir("/mnt"), 0);
  MountTmpfs("/mnt");
  EXPECT_EQ(Rename("/f", "/mnt/f"), EXDEV);
  EXPECT_EQ(Link("/f", "/mnt/f"), EXDEV);
  // Directory over an empty directory works; the old one is gone.
  EXPECT_EQ(Rename("/a", "/empty"), 0);
  EXPECT_EQ(ResolveErr("/a"), ENOENT);
  EXPECT_EQ(ResolveErr("/empty/b"), 0);
  // A file over a file.
  uint64_t ino = StatOf("/f").ino;
  EXPECT_EQ(Rename("/f", "/g"), 0);
  EXPECT_EQ(StatOf("/g").ino, ino);
  EXPECT_EQ(ResolveErr("/f"), ENOENT);
}

TEST_F(VfsOpsTest, RenameExchangeAndHardLinks) {
  ASSERT_EQ(Mkdir("/d"), 0);
  ASSERT_EQ(Touch("/f"), 0);
  uint64_t dino = StatOf("/d").ino, fino = StatOf("/f").ino;
  EXPECT_EQ(Rename("/d", "/f", RENAME_EXCHANGE), 0);
  EXPECT_EQ(StatOf("/f").ino, dino);
  EXPECT_EQ(StatOf("/d").ino, fino);
  EXPECT_TRUE(StatOf("/f").IsDir());
  // Two names of one inode: rename is a successful no-op.
  ASSERT_EQ(Link("/d", "/d2"), 0);
  EXPECT_EQ(StatOf("/d").nlink, 2u);
  EXPECT_EQ(Rename("/d", "/d2"), 0);
  EXPECT_EQ(ResolveErr("/d"), 0);
  EXPECT_EQ(ResolveErr("/d2"), 0);
}

TEST_F(VfsOpsTest, StickyDirectories) {
  ASSERT_EQ(Mkdir("/tmp", 01777), 0);
  vfs::PathContext alice = ctx_, bob = ctx_;
  alice.creds = UserCreds(1000);
  bob.creds = UserCreds(1001);
  ASSERT_TRUE(vfs_->Open(alice, alice.cwd, "/tmp/a", O_CREAT | O_WRONLY, 0666).ok());
  ASSERT_EQ(vfs_->Mkdir(alice, alice.cwd, "/tmp/ad", 0777), 0);
  EXPECT_EQ(vfs_->Unlink(bob, bob.cwd, "/tmp/a"), EPERM);
  EXPECT_EQ(vfs_->Rmdir(bob, bob.cwd, "/tmp/ad"), EPERM);
  EXPECT_EQ(vfs_->Rename(bob, bob.cwd, "/tmp/a", bob.cwd, "/tmp/b", 0), EPERM);
  ASSERT_TRUE(vfs_->Open(bob, bob.cwd, "/tmp/b", O_CREAT | O_WRONLY, 0666).ok());
  EXPECT_EQ(vfs_->Rename(alice, alice.cwd, "/tmp/a", alice.cwd, "/tmp/b", 0), EPERM);
  EXPECT_EQ(vfs_->Unlink(alice, alice.cwd, "/tmp/a"), 0);
  EXPECT_EQ(vfs_->Rmdir(ctx_, ctx_.cwd, "/tmp/ad"), 0);  // CAP_FOWNER
}

TEST_F(VfsOpsTest, LinkRules) {
  ASSERT_EQ(Mkdir("/d"), 0);
  ASSERT_EQ(Touch("/f"), 0);
  EXPECT_EQ(Link("/d", "/d2"), EPERM);
  EXPECT_EQ(Link("/f", "/f"), EEXIST);
  EXPECT_EQ(Link("/missing", "/x"), ENOENT);
  EXPECT_EQ(Link("/f", "/d/f2"), 0);
  EXPECT_EQ(StatOf("/f").nlink, 2u);
  EXPECT_EQ(StatOf("/f").ino, StatOf("/d/f2").ino);
  ASSERT_EQ(Symlink("f", "/sl"), 0);
  EXPECT_EQ(Link("/sl", "/sl2"), 0);  // links the symlink itself
  EXPECT_TRUE(StatOf("/sl2", 0).IsSymlink());
  EXPECT_EQ(vfs_->Link(ctx_, ctx_.cwd, "/sl", ctx_.cwd, "/sl3", true, false), 0);
  EXPECT_TRUE(StatOf("/sl3", 0).IsRegular());
  // protected_hardlinks: a user may not link a file it cannot read+write.
  ASSERT_EQ(Mkdir("/tmp", 0777), 0);
  ASSERT_EQ(Touch("/tmp/rootfile", 0644), 0);
  vfs::PathContext user = ctx_;
  user.creds = UserCreds(1000);
  EXPECT_EQ(vfs_->Link(user, user.cwd, "/tmp/rootfile", user.cwd, "/tmp/l", false, false), EPERM);
  // AT_EMPTY_PATH without CAP_DAC_READ_SEARCH.
  EXPECT_EQ(vfs_->Link(user, Must("/tmp/rootfile"), "", user.cwd, "/tmp/l", false, true), ENOENT);
  EXPECT_EQ(vfs_->Link(ctx_, Must("/f"), "", ctx_.cwd, "/viafd", false, true), 0);
}

TEST_F(VfsOpsTest, DentryCacheFollowsChanges) {
  ASSERT_EQ(Mkdir("/d"), 0);
  EXPECT_EQ(ResolveErr("/d/x"), ENOENT);  // caches a negative entry
  ASSERT_EQ(Touch("/d/x"), 0);
  EXPECT_EQ(ResolveErr("/d/x"), 0);
  auto fd = Open("/d/x", O_RDONLY);
  ASSERT_TRUE(fd.ok());
  ASSERT_EQ(Rename("/d/x", "/d/y"), 0);
  EXPECT_EQ(ResolveErr("/d/x"), ENOENT);
  EXPECT_EQ(vfs_->PathOf((*fd)->vd(), Root()), "/d/y");
  ASSERT_EQ(Rename("/d", "/e"), 0);
  EXPECT_EQ(vfs_->PathOf((*fd)->vd(), Root()), "/e/y");
  ASSERT_EQ(Unlink("/e/y"), 0);
  EXPECT_EQ(ResolveErr("/e/y"), ENOENT);
  EXPECT_EQ(vfs_->PathOf((*fd)->vd(), Root()), "/e/y (deleted)");
  EXPECT_EQ((*fd)->Stat()->nlink, 0u);
  // The directory of a removed cwd: lookups fail, creation fails.
  ASSERT_EQ(Mkdir("/gone"), 0);
  ctx_.cwd = Must("/gone");
  ASSERT_EQ(vfs_->Rmdir(ctx_, Root(), "/gone"), 0);
  EXPECT_EQ(ResolveErr("x"), ENOENT);
  EXPECT_EQ(Touch("x"), ENOENT);
  EXPECT_EQ(Mkdir("x"), ENOENT);
  EXPECT_EQ(Must("..").dentry, Root().dentry);
  auto gone = Open(".", O_RDONLY | O_DIRECTORY);
  ASSERT_TRUE(gone.ok());
  VectorSink s;
  EXPECT_EQ((*gone)->IterDirents(nullptr, s).error(), ENOENT);
}

TEST_F(VfsOpsTest, ReadDirents) {
  ASSERT_EQ(Mkdir("/d"), 0);
  for (const char* n : {"/d/a", "/d/b", "/d/c"}) ASSERT_EQ(Touch(n), 0);
  EXPECT_EQ(List("/d"), (std::vector<std::string>{".", "..", "a", "b", "c"}));
  auto fd = Open("/d", O_RDONLY | O_DIRECTORY);
  ASSERT_TRUE(fd.ok());
  VectorSink two(2);
  ASSERT_EQ((*fd)->IterDirents(nullptr, two).value(), 2);
  EXPECT_EQ(two.types[0], DT_DIR);
  // Entries added after the snapshot do not show until a rewind...
  ASSERT_EQ(Touch("/d/0"), 0);
  VectorSink rest;
  ASSERT_TRUE((*fd)->IterDirents(nullptr, rest).ok());
  EXPECT_EQ(rest.names, (std::vector<std::string>{"a", "b", "c"}));
  // ...seeking to a d_off continues after that record...
  ASSERT_EQ(*(*fd)->Seek(rest.offs[0], SEEK_SET), rest.offs[0]);
  VectorSink after;
  ASSERT_TRUE((*fd)->IterDirents(nullptr, after).ok());
  EXPECT_EQ(after.names, (std::vector<std::string>{"b", "c"}));
  // ...and rewinding takes a new snapshot.
  ASSERT_EQ(*(*fd)->Seek(0, SEEK_SET), 0);
  VectorSink all;
  ASSERT_TRUE((*fd)->IterDirents(nullptr, all).ok());
  EXPECT_EQ(all.names, (std::vector<std::string>{".", "..", "0", "a", "b", "c"}));
  VectorSink none(0);
  ASSERT_EQ(*(*fd)->Seek(0, SEEK_SET), 0);
  EXPECT_EQ((*fd)->IterDirents(nullptr, none).error(), EINVAL);
  EXPECT_EQ((*fd)->Seek(0, SEEK_END).error(), EINVAL);
  EXPECT_EQ((*fd)->Seek(-1, SEEK_SET).error(), EINVAL);
  char buf[4];
  BufferIOSequence io(buf, 4);
  EXPECT_EQ((*fd)->Read(nullptr, io).error(), EISDIR);
  auto f = Open("/d/a", O_RDONLY);
  VectorSink s;
  EXPECT_EQ((*f)->IterDirents(nullptr, s).error(), ENOTDIR);
}

TEST_F(VfsOpsTest, ChmodChownRules) {
  ASSERT_EQ(Mkdir("/tmp", 0777), 0);
  vfs::PathContext user = ctx_;
  user.creds = UserCreds(1000, 1000);
  user.creds.groups = {50};
  ASSERT_TRUE(vfs_->Open(user, user.cwd, "/tmp/f", O_CREAT | O_WRONLY, 0644).ok());
  ASSERT_EQ(Touch("/tmp/rootf", 0666), 0);
  auto set = [&](vfs::PathContext& c, std::string_view p, vfs::SetAttr a) {
    return vfs_->SetAttrs(c, Must(p), a);
  };
  vfs::SetAttr chmod;
  chmod.mask = vfs::SetAttr::kMode;
  chmod.mode = 02755;
  EXPECT_EQ(set(user, "/tmp/rootf", chmod), EPERM);
  EXPECT_EQ(set(user, "/tmp/f", chmod), 0);
  EXPECT_EQ(StatOf("/tmp/f").mode, S_IFREG | 02755u);
  // Group of the file not among the caller's: S_ISGID is dropped.
  vfs::SetAttr chgrp;
  chgrp.mask = vfs::SetAttr::kGid;
  chgrp.gid = 7;
  EXPECT_EQ(set(user, "/tmp/f", chgrp), EPERM);
  chgrp.gid = 50;
  EXPECT_EQ(set(user, "/tmp/f", chgrp), 0);
  EXPECT_EQ(StatOf("/tmp/f").gid, 50u);
  EXPECT_EQ(StatOf("/tmp/f").mode & S_ISGID, 0u);  // chown kills sgid of g+x files
  ASSERT_EQ(set(ctx_, "/tmp/f", [] {
              vfs::SetAttr a;
              a.mask = vfs::SetAttr::kGid;
              a.gid = 9;
              return a;
            }()),
            0);
  EXPECT_EQ(set(user, "/tmp/f", chmod), 0);
  EXPECT_EQ(StatOf("/tmp/f").mode, S_IFREG | 0755u);
  vfs::SetAttr chown;
  chown.mask = vfs::SetAttr::kUid;
  chown.uid = 0;
  EXPECT_EQ(set(user, "/tmp/f", chown), EPERM);
  chown.uid = 1000;
  EXPECT_EQ(set(user, "/tmp/f", chown), 0);  // no-op chown by the owner
  // Root's chown clears set-user-ID.
  chmod.mode = 04755;
  ASSERT_EQ(set(ctx_, "/tmp/f", chmod), 0);
  chown.uid = 5;
  ASSERT_EQ(set(ctx_, "/tmp/f", chown), 0);
  EXPECT_EQ(StatOf("/tmp/f").mode, S_IFREG | 0755u);
  EXPECT_EQ(StatOf("/tmp/f").uid, 5u);
}

TEST_F(VfsOpsTest, TruncateAndTimesRules) {
  ASSERT_EQ(Touch("/ro", 0644), 0);
  ASSERT_EQ(Touch("/rw", 0666), 0);
  ASSERT_EQ(Mkdir("/d"), 0);
  ASSERT_EQ(Mknod("/p", S_IFIFO | 0666), 0);
  vfs::PathContext user = ctx_;
  user.creds = UserCreds(1000);
  vfs::SetAttr tr;
  tr.mask = vfs::SetAttr::kSize;
  tr.size = 10;
  EXPECT_EQ(vfs_->SetAttrs(user, Must("/ro"), tr), EACCES);
  EXPECT_EQ(vfs_->SetAttrs(user, Must("/ro"), tr, /*opened_for_write=*/true), 0);
  EXPECT_EQ(vfs_->SetAttrs(user, Must("/rw"), tr), 0);
  EXPECT_EQ(StatOf("/rw").size, 10u);
  EXPECT_EQ(vfs_->SetAttrs(ctx_, Must("/d"), tr), EISDIR);
  EXPECT_EQ(vfs_->SetAttrs(ctx_, Must("/p"), tr), EINVAL);
  vfs::SetAttr now;
  now.mask = vfs::SetAttr::kAtime | vfs::SetAttr::kMtime;
  now.atime.tv_nsec = now.mtime.tv_nsec = UTIME_NOW;
  EXPECT_EQ(vfs_->SetAttrs(user, Must("/rw"), now), 0);
  EXPECT_EQ(vfs_->SetAttrs(user, Must("/ro"), now), EACCES);
  vfs::SetAttr explicit_times = now;
  explicit_times.atime = {100, 0};
  explicit_times.mtime = {200, 0};
  EXPECT_EQ(vfs_->SetAttrs(user, Must("/rw"), explicit_times), EPERM);
  EXPECT_EQ(vfs_->SetAttrs(ctx_, Must("/rw"), explicit_times), 0);
  EXPECT_EQ(StatOf("/rw").mtime.tv_sec, 200);
  EXPECT_EQ(StatOf("/rw").atime.tv_sec, 100);
  EXPECT_GT(StatOf("/rw").ctime.tv_sec, 200);
}

TEST_F(VfsOpsTest, AccessUsesRealIds) {
  ASSERT_EQ(Touch("/f", 0600), 0);
  vfs::PathContext c = ctx_;
  c.creds = UserCreds(1000);
  c.creds.fsuid = c.creds.euid = 0;  // set-user-ID root program
  EXPECT_EQ(vfs_->Access(c, c.cwd, "/f", R_OK, vfs::kFollow, false), EACCES);
  c.creds.cap_effective = ~0ull;
  EXPECT_EQ(vfs_->Access(c, c.cwd, "/f", R_OK, vfs::kFollow, true), 0);
  EXPECT_EQ(vfs_->Access(c, c.cwd, "/f", F_OK, vfs::kFollow, false), 0);
  EXPECT_EQ(vfs_->Access(c, c.cwd, "/f", 8, vfs::kFollow, false), EINVAL);
  EXPECT_EQ(vfs_->Access(ctx_, ctx_.cwd, "/f", X_OK, vfs::kFollow, false), EACCES);
}

TEST_F(VfsOpsTest, DevicesAndFifos) {
  class NullFD : public vfs::FileDescription {};
  vfs::RegisterCharDevice(1, 3, [](const vfs::VirtualDentry&, uint32_t, Task*) {
    return ErrorOr<std::shared_ptr<vfs::FileDescription>>(std::make_shared<NullFD>());
  });
  ASSERT_EQ(Mknod("/null", S_IFCHR | 0666, makedev(1, 3)), 0);
  ASSERT_EQ(Mknod("/unknown", S_IFCHR | 0666, makedev(99, 1)), 0);
  ASSERT_EQ(Mknod("/blk", S_IFBLK | 0666, makedev(8, 0)), 0);
  ASSERT_EQ(Mknod("/fifo", S_IFIFO | 0666), 0);
  ASSERT_EQ(Mknod("/sock", S_IFSOCK | 0666), 0);
  auto fd = Open("/null", O_RDWR | O_TRUNC);
  ASSERT_TRUE(fd.ok());
  EXPECT_NE(dynamic_cast<NullFD*>(fd->get()), nullptr);
  EXPECT_EQ((*fd)->vd(), Must("/null"));
  EXPECT_EQ(OpenErr("/unknown", O_RDONLY), ENXIO);
  EXPECT_EQ(OpenErr("/blk", O_RDONLY), ENXIO);
  EXPECT_EQ(OpenErr("/sock", O_RDONLY), ENXIO);
  EXPECT_EQ(OpenErr("/fifo", O_RDONLY), ENXIO);
  ASSERT_EQ(Mkdir("/dev"), 0);
  auto m = MountTmpfs("/dev");
  ASSERT_EQ(Mknod("/dev/null", S_IFCHR | 0666, makedev(1, 3)), 0);
  m->flags |= MS_NODEV | MS_RDONLY;
  EXPECT_EQ(OpenErr("/dev/null", O_RDONLY), EACCES);
  m->flags &= ~MS_NODEV;
  EXPECT_EQ(OpenErr("/dev/null", O_RDWR), 0);  // devices stay writable on ro mounts
  vfs::UnregisterCharDevice(1, 3);
}

TEST_F(VfsOpsTest, SetgidDirectoryInheritance) {
  ASSERT_EQ(Mkdir("/g", 0777), 0);
  vfs::SetAttr a;
  a.mask = vfs::SetAttr::kMode | vfs::SetAttr::kGid;
  a.mode = 02777;
  a.gid = 60;
  ASSERT_EQ(vfs_->SetAttrs(ctx_, Must("/g"), a), 0);
  vfs::PathContext user = ctx_;
  user.creds = UserCreds(1000);
  ASSERT_EQ(vfs_->Mkdir(user, user.cwd, "/g/sub", 0755), 0);
  EXPECT_EQ(StatOf("/g/sub").gid, 60u);
  EXPECT_EQ(StatOf("/g/sub").mode, S_IFDIR | 02755u);
  ASSERT_TRUE(vfs_->Open(user, user.cwd, "/g/f", O_CREAT | O_WRONLY, 02755).ok());
  EXPECT_EQ(StatOf("/g/f").gid, 60u);
  EXPECT_EQ(StatOf("/g/f").mode & S_ISGID, 0u);  // not in group 60
}

TEST_F(VfsOpsTest, SeekAndAppend) {
  auto fd = Open("/f", O_CREAT | O_RDWR);
  ASSERT_TRUE(fd.ok());
  ASSERT_EQ(WriteStr(**fd, "0123456789"), 10);
  EXPECT_EQ(*(*fd)->Seek(-3, SEEK_END), 7);
  EXPECT_EQ(ReadAll(**fd), "789");
  EXPECT_EQ(*(*fd)->Seek(2, SEEK_SET), 2);
  EXPECT_EQ(*(*fd)->Seek(3, SEEK_CUR), 5);
  EXPECT_EQ((*fd)->Seek(-6, SEEK_CUR).error(), EINVAL);
  EXPECT_EQ(*(*fd)->Seek(4, SEEK_DATA), 4);
  EXPECT_EQ(*(*fd)->Seek(4, SEEK_HOLE), 10);
  EXPECT_EQ((*fd)->Seek(10, SEEK_DATA).error(), ENXIO);
  EXPECT_EQ((*fd)->Seek(0, 42).error(), EINVAL);
  EXPECT_EQ(*(*fd)->Seek(100, SEEK_SET), 100);  // past EOF is fine
  auto ap = Open("/f", O_WRONLY | O_APPEND);
  ASSERT_TRUE(ap.ok());
  ASSERT_EQ(WriteStr(**ap, "ab"), 2);
  EXPECT_EQ((*ap)->pos(), 12);
  EXPECT_EQ(PReadN(**fd, 20, 0), "0123456789ab");
  ASSERT_EQ((*ap)->SetStatusFlags(0), 0);
  ASSERT_EQ(*(*ap)->Seek(0, SEEK_SET), 0);
  ASSERT_EQ(WriteStr(**ap, "X"), 1);
  EXPECT_EQ(PReadN(**fd, 20, 0), "X123456789ab");
  EXPECT_EQ((*ap)->flags() & O_ACCMODE, static_cast<uint32_t>(O_WRONLY));
}

}  // namespace
}  // namespace sentry::testing

namespace sentry::testing {
namespace {

class VfsXattrTest : public FsTest {};
class VfsCacheTest : public FsTest {};

TEST_F(VfsCacheTest, TrimKeepsWhatIsInUse) {
  ASSERT_EQ(Mkdir("/d"), 0);
  ASSERT_EQ(Mkdir("/d/e"), 0);
  ASSERT_EQ(Touch("/d/e/f"), 0);
  EXPECT_EQ(ResolveErr("/d/e/missing"), ENOENT);
  ASSERT_EQ(Mkdir("/m"), 0);
  MountTmpfs("/m");
  auto fd = Open("/d/e/f", O_RDONLY);
  ASSERT_TRUE(fd.ok());
  // Only the negative entry can go: f is open, e and d are its ancestors,
  // m is a mountpoint.
  EXPECT_EQ(vfs_->TrimDentryCache(), 1u);
  fd->reset();
  EXPECT_EQ(vfs_->TrimDentryCache(), 3u);  // f, then e, then d
  EXPECT_EQ(ResolveErr("/d/e/f"), 0);  // refilled from the file system
  EXPECT_EQ(ResolveErr("/m/.."), 0);
  EXPECT_EQ(vfs_->PathOf(Must("/d/e/f"), Root()), "/d/e/f");
}

TEST_F(VfsXattrTest, PermissionRules) {
  ASSERT_EQ(Mkdir("/tmp", 01777), 0);
  ASSERT_EQ(Touch("/tmp/rootf", 0644), 0);
  ASSERT_EQ(Touch("/tmp/pub", 0666), 0);
  ASSERT_EQ(vfs_->Mknod(ctx_, ctx_.cwd, "/tmp/fifo", S_IFIFO | 0666, 0), 0);
  vfs::PathContext user = ctx_;
  user.creds = UserCreds(1000);
  EXPECT_EQ(vfs_->SetXattr(user, Must("/tmp/rootf"), "user.a", "1", 0), EACCES);
  EXPECT_EQ(vfs_->SetXattr(user, Must("/tmp/pub"), "user.a", "1", 0), 0);
  EXPECT_EQ(*vfs_->GetXattr(user, Must("/tmp/pub"), "user.a"), "1");
  EXPECT_EQ(vfs_->SetXattr(user, Must("/tmp/pub"), "trusted.a", "1", 0), EPERM);
  EXPECT_EQ(vfs_->SetXattr(ctx_, Must("/tmp/pub"), "trusted.a", "1", 0), 0);
  EXPECT_EQ(vfs_->GetXattr(user, Must("/tmp/pub"), "trusted.a").error(), ENODATA);
  EXPECT_EQ(vfs_->ListXattr(user, Must("/tmp/pub"))->size(), 1u);
  EXPECT_EQ(vfs_->ListXattr(ctx_, Must("/tmp/pub"))->size(), 2u);
  EXPECT_EQ(vfs_->SetXattr(ctx_, Must("/tmp/fifo"), "user.a", "1", 0), EPERM);
  EXPECT_EQ(vfs_->GetXattr(ctx_, Must("/tmp/fifo"), "user.a").error(), ENODATA);
  EXPECT_EQ(vfs_->SetXattr(user, Must("/tmp"), "user.a", "1", 0), EPERM);  // sticky, not owner
  EXPECT_EQ(vfs_->SetXattr(ctx_, Must("/tmp/pub"), "", "1", 0), ERANGE);
  EXPECT_EQ(vfs_->SetXattr(ctx_, Must("/tmp/pub"), "user.b", std::string(65537, 'v'), 0), E2BIG);
  EXPECT_EQ(vfs_->RemoveXattr(user, Must("/tmp/pub"), "user.a"), 0);
  EXPECT_EQ(vfs_->RemoveXattr(user, Must("/tmp/pub"), "user.a"), ENODATA);
}

}  // namespace
}  // namespace sentry::testing
