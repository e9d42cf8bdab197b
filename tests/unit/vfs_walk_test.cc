// Path resolution: dots, symlinks, mounts, chroot, openat2 scoping and
// permissions, as path_resolution(7) and openat2(2) describe them.
#include <sys/mount.h>

#include "fs/vfs/vfs.h"
#include "tests/unit/fs_test_util.h"

namespace sentry::testing {
namespace {

using vfs::VirtualDentry;

class VfsWalkTest : public FsTest {};

TEST_F(VfsWalkTest, DotAndDotDot) {
  ASSERT_EQ(Mkdir("/a"), 0);
  ASSERT_EQ(Mkdir("/a/b"), 0);
  EXPECT_EQ(Must("/a/b/../b/./.."), Must("/a"));
  EXPECT_EQ(Must("/.."), Root());
  EXPECT_EQ(Must("/../../a/../.."), Root());
  EXPECT_EQ(Must("//a///b/"), Must("/a/b"));
  EXPECT_EQ(Must("/a/."), Must("/a"));
  ctx_.cwd = Must("/a/b");
  EXPECT_EQ(Must("../../.."), Root());
  EXPECT_EQ(Must("."), Must("/a/b"));
}

TEST_F(VfsWalkTest, EmptyPathAndLongNames) {
  EXPECT_EQ(ResolveErr(""), ENOENT);
  auto r = vfs_->Resolve(ctx_, Root(), "", vfs::kEmptyPathOk);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, Root());
  EXPECT_EQ(ResolveErr("/" + std::string(256, 'x')), ENAMETOOLONG);
  EXPECT_EQ(ResolveErr("/" + std::string(255, 'x')), ENOENT);
  std::string longpath;
  while (longpath.size() < 4096) longpath += "/.";
  EXPECT_EQ(ResolveErr(longpath), ENAMETOOLONG);
  EXPECT_EQ(ResolveErr(longpath.substr(0, 4094)), 0);
}

TEST_F(VfsWalkTest, NotADirectory) {
  ASSERT_EQ(Touch("/f"), 0);
  EXPECT_EQ(ResolveErr("/f/x"), ENOTDIR);
  EXPECT_EQ(ResolveErr("/f/"), ENOTDIR);
  EXPECT_EQ(ResolveErr("/f/."), ENOTDIR);
  EXPECT_EQ(ResolveErr("/f/.."), ENOTDIR);
  EXPECT_EQ(ResolveErr("/missing/x"), ENOENT);
  // A relative path from a non-directory start.
  auto r = vfs_->Resolve(ctx_, Must("/f"), "x", vfs::kFollow);
  EXPECT_EQ(r.error(), ENOTDIR);
}

TEST_F(VfsWalkTest, Symlinks) {
  ASSERT_EQ(Mkdir("/a"), 0);
  ASSERT_EQ(Mkdir("/a/b"), 0);
  ASSERT_EQ(Symlink("b", "/a/rel"), 0);
  ASSERT_EQ(Symlink("/a/b", "/abs"), 0);
  ASSERT_EQ(Symlink("../rel/..", "/a/b/up"), 0);
  EXPECT_EQ(Must("/a/rel"), Must("/a/b"));
  EXPECT_EQ(Must("/abs/.."), Must("/a"));
  EXPECT_EQ(Must("/a/b/up"), Must("/a"));
  // Without kFollow the last component is the link itself.
  auto l = Resolve("/abs", 0);
  ASSERT_TRUE(l.ok());
  EXPECT_TRUE(l->dentry->inode()->GetAttr()->IsSymlink());
  // A trailing slash follows anyway.
  EXPECT_EQ(*Resolve("/abs/", 0), Must("/a/b"));
  ASSERT_EQ(Symlink("nowhere", "/dangling"), 0);
  EXPECT_EQ(ResolveErr("/dangling"), ENOENT);
  EXPECT_EQ(ResolveErr("/dangling", 0), 0);
  ASSERT_EQ(Touch("/file"), 0);
  ASSERT_EQ(Symlink("file", "/flink"), 0);
  EXPECT_EQ(ResolveErr("/flink/"), ENOTDIR);
  EXPECT_EQ(ResolveErr("/flink", vfs::kFollow | vfs::kMustBeDir), ENOTDIR);
}

TEST_F(VfsWalkTest, SymlinkLoopsAndLimit) {
  ASSERT_EQ(Symlink("loop", "/loop"), 0);
  EXPECT_EQ(ResolveErr("/loop"), ELOOP);
  ASSERT_EQ(Symlink("b", "/a"), 0);
  ASSERT_EQ(Symlink("a", "/b"), 0);
  EXPECT_EQ(ResolveErr("/a/x"), ELOOP);
  // A chain of 40 links resolves; 41 is ELOOP (MAXSYMLINKS).
  ASSERT_EQ(Touch("/target"), 0);
  ASSERT_EQ(Symlink("target", "/l0"), 0);
  for (int i = 1; i <= 40; i++) {
    ASSERT_EQ(Symlink("l" + std::to_string(i - 1), "/l" + std::to_string(i)), 0);
  }
  EXPECT_EQ(ResolveErr("/l39"), 0);
  EXPECT_EQ(ResolveErr("/l40"), ELOOP);
}

TEST_F(VfsWalkTest, MountCrossingAndStacking) {
  ASSERT_EQ(Mkdir("/mnt"), 0);
  ASSERT_EQ(Touch("/mnt/under"), 0);
  auto m1 = MountTmpfs("/mnt");
  EXPECT_EQ(ResolveErr("/mnt/under"), ENOENT);
  ASSERT_EQ(Touch("/mnt/f1"), 0);
  VirtualDentry mnt = Must("/mnt");
  EXPECT_EQ(mnt.mount, m1);
  EXPECT_EQ(mnt.dentry, m1->root);
  EXPECT_EQ(Must("/mnt/.."), Root());
  EXPECT_EQ(vfs_->PathOf(Must("/mnt/f1"), Root()), "/mnt/f1");
  // Stacking: the newest mount hides the previous one.
  auto m2 = MountTmpfs("/mnt");
  EXPECT_EQ(Must("/mnt").mount, m2);
  EXPECT_EQ(ResolveErr("/mnt/f1"), ENOENT);
  EXPECT_EQ(Must("/mnt/..").dentry, Root().dentry);
  ASSERT_EQ(Mkdir("/mnt/sub"), 0);
  auto m3 = MountTmpfs("/mnt/sub");
  EXPECT_EQ(vfs_->PathOf(Must("/mnt/sub"), Root()), "/mnt/sub");
  EXPECT_EQ(Must("/mnt/sub/../.."), Root());
  auto all = vfs_->Mounts();
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0], Root().mount);
  EXPECT_EQ(all[1], m1);
  EXPECT_EQ(all[2], m2);
  EXPECT_EQ(all[3], m3);
  // Mountpoints cannot be removed or renamed.
  EXPECT_EQ(vfs_->Rmdir(ctx_, Root(), "/mnt/sub"), EBUSY);
  ASSERT_EQ(Mkdir("/other"), 0);
  EXPECT_EQ(vfs_->Rename(ctx_, Root(), "/mnt/sub", Root(), "/mnt/sub2", 0), EBUSY);
  EXPECT_EQ(vfs_->Rmdir(ctx_, Root(), "/mnt"), EBUSY);
}

TEST_F(VfsWalkTest, ChrootContainment) {
  ASSERT_EQ(Mkdir("/jail"), 0);
  ASSERT_EQ(Mkdir("/jail/d"), 0);
  ASSERT_EQ(Touch("/secret"), 0);
  ASSERT_EQ(Symlink("/d", "/jail/abs"), 0);
  ASSERT_EQ(Symlink("../../../secret", "/jail/esc"), 0);
  ctx_.root = ctx_.cwd = Must("/jail");
  EXPECT_EQ(Must("/.."), Must("/"));
  EXPECT_EQ(Must("/../../d"), Must("/d"));
  EXPECT_EQ(ResolveErr("/secret"), ENOENT);
  EXPECT_EQ(Must("/abs"), Must("/d"));
  EXPECT_EQ(ResolveErr("/esc"), ENOENT);
  EXPECT_EQ(vfs_->PathOf(Must("/d"), ctx_.root), "/d");
  bool reachable = true;
  vfs_->PathOf(vfs_->Root(), ctx_.root, &reachable);
  EXPECT_FALSE(reachable);
}

TEST_F(VfsWalkTest, Openat2Scoping) {
  ASSERT_EQ(Mkdir("/a"), 0);
  ASSERT_EQ(Mkdir("/a/b"), 0);
  ASSERT_EQ(Touch("/a/b/f"), 0);
  ASSERT_EQ(Symlink("/a/b", "/a/abs"), 0);
  ASSERT_EQ(Symlink("b/f", "/a/rel"), 0);
  VirtualDentry a = Must("/a");
  auto res = [&](std::string_view p, uint32_t f) {
    auto r = vfs_->Resolve(ctx_, a, p, vfs::kFollow | f);
    return r.ok() ? 0 : r.error();
  };
  EXPECT_EQ(res("b/f", vfs::kBeneath), 0);
  EXPECT_EQ(res("b/../b/f", vfs::kBeneath), 0);
  EXPECT_EQ(res("..", vfs::kBeneath), EXDEV);
  EXPECT_EQ(res("/a", vfs::kBeneath), EXDEV);
  EXPECT_EQ(res("abs", vfs::kBeneath), EXDEV);
  EXPECT_EQ(res("rel", vfs::kBeneath), 0);
  // IN_ROOT: "/" and ".." are clamped to the start.
  EXPECT_EQ(res("..", vfs::kInRoot), 0);
  auto r = vfs_->Resolve(ctx_, a, "/b/f", vfs::kInRoot);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, Must("/a/b/f"));
  EXPECT_EQ(*vfs_->Resolve(ctx_, a, "../..", vfs::kInRoot), a);
  EXPECT_EQ(res("rel", vfs::kNoSymlinks), ELOOP);
  // NO_SYMLINKS with O_PATH|O_NOFOLLOW opens the link itself.
  auto fd = vfs_->Open(ctx_, a, "rel", O_PATH | O_NOFOLLOW, 0, vfs::kNoSymlinks);
  EXPECT_TRUE(fd.ok());
  EXPECT_EQ(vfs_->Open(ctx_, a, "rel", O_RDONLY, 0, vfs::kNoSymlinks).error(), ELOOP);
  ASSERT_EQ(Mkdir("/a/m"), 0);
  MountTmpfs("/a/m");
  EXPECT_EQ(res("m", vfs::kNoXdev), EXDEV);
  EXPECT_EQ(res("m", 0), 0);
}

class MagicLink : public vfs::Inode {
 public:
  MagicLink(vfs::Filesystem* fs, vfs::VirtualDentry t) : vfs::Inode(fs), t_(std::move(t)) {}
  ErrorOr<vfs::Attr> GetAttr() override {
    vfs::Attr a;
    a.mode = S_IFLNK | 0777;
    return a;
  }
  bool IsMagicLink() const override { return true; }
  ErrorOr<vfs::VirtualDentry> MagicLinkTarget() override { return t_; }
  ErrorOr<std::string> ReadLink() override { return std::string("/whatever"); }

 private:
  vfs::VirtualDentry t_;
};

class MagicDir : public vfs::Inode {
 public:
  MagicDir(vfs::Filesystem* fs, std::shared_ptr<vfs::Inode> link)
      : vfs::Inode(fs), link_(std::move(link)) {}
  ErrorOr<vfs::Attr> GetAttr() override {
    vfs::Attr a;
    a.mode = S_IFDIR | 0555;
    a.nlink = 2;
    return a;
  }
  ErrorOr<std::shared_ptr<vfs::Inode>> Lookup(std::string_view name) override {
    if (name == "magic") return link_;
    return Err(ENOENT);
  }

 private:
  std::shared_ptr<vfs::Inode> link_;
};

class MagicFs : public vfs::Filesystem {
 public:
  std::string_view Name() const override { return "magic"; }
  bool CacheDentries() const override { return false; }
};

TEST_F(VfsWalkTest, MagicLinks) {
  ASSERT_EQ(Mkdir("/proc"), 0);
  ASSERT_EQ(Mkdir("/target"), 0);
  ASSERT_EQ(Touch("/target/f"), 0);
  auto fs = std::make_shared<MagicFs>();
  auto link = std::make_shared<MagicLink>(fs.get(), Must("/target"));
  auto dir = std::make_shared<MagicDir>(fs.get(), link);
  auto m = vfs_->NewMount(fs, dir, 0, "magic");
  ASSERT_EQ(vfs_->Attach(m, Must("/proc")), 0);
  EXPECT_EQ(Must("/proc/magic/f"), Must("/target/f"));
  EXPECT_EQ(ResolveErr("/proc/magic"), 0);
  auto r = vfs_->Resolve(ctx_, Root(), "/proc/magic", vfs::kFollow | vfs::kNoMagicLinks);
  EXPECT_EQ(r.error(), ELOOP);
  r = vfs_->Resolve(ctx_, Must("/proc"), "magic", vfs::kFollow | vfs::kBeneath);
  EXPECT_EQ(r.error(), EXDEV);
  r = vfs_->Resolve(ctx_, Must("/proc"), "magic", vfs::kFollow | vfs::kNoXdev);
  EXPECT_EQ(r.error(), EXDEV);
  // Non-caching file systems still give ".." and paths.
  EXPECT_EQ(vfs_->PathOf(*Resolve("/proc/magic", 0), Root()), "/proc/magic");
}

TEST_F(VfsWalkTest, SearchPermission) {
  ASSERT_EQ(Mkdir("/priv", 0700), 0);
  ASSERT_EQ(Touch("/priv/f", 0644), 0);
  ASSERT_EQ(Mkdir("/pub", 0755), 0);
  ASSERT_EQ(Touch("/pub/mine", 0600), 0);
  ASSERT_EQ(Mkdir("/noexec", 0766), 0);
  ASSERT_EQ(Touch("/noexec/f", 0644), 0);
  vfs::PathContext user = ctx_;
  user.creds = UserCreds(1000);
  auto ures = [&](std::string_view p) {
    auto r = vfs_->Resolve(user, user.cwd, p, vfs::kFollow);
    return r.ok() ? 0 : r.error();
  };
  EXPECT_EQ(ures("/priv/f"), EACCES);
  EXPECT_EQ(ures("/priv/missing"), EACCES);
  EXPECT_EQ(ures("/priv"), 0);  // the last component needs no search right
  EXPECT_EQ(ures("/noexec/f"), EACCES);
  EXPECT_EQ(ures("/pub/mine"), 0);
  EXPECT_EQ(vfs_->Open(user, user.cwd, "/pub/mine", O_RDONLY, 0).error(), EACCES);
  // Root passes through CAP_DAC_READ_SEARCH / CAP_DAC_OVERRIDE...
  EXPECT_EQ(ResolveErr("/priv/f"), 0);
  // ...but only DAC_READ_SEARCH: search fails without it and DAC_OVERRIDE.
  vfs::PathContext weak = ctx_;
  weak.creds.cap_effective = 0;
  weak.creds.fsuid = 5;
  EXPECT_EQ(vfs_->Resolve(weak, weak.cwd, "/priv/f", vfs::kFollow).error(), EACCES);
}

TEST_F(VfsWalkTest, CheckPermissionIsGenericPermission) {
  vfs::Credentials root;
  vfs::Credentials user = UserCreds(1000, 100);
  vfs::Attr f;
  f.mode = S_IFREG | 0640;
  f.uid = 1;
  f.gid = 100;
  EXPECT_EQ(vfs::VFS::CheckPermission(user, f, vfs::kMayRead), 0);  // group
  EXPECT_EQ(vfs::VFS::CheckPermission(user, f, vfs::kMayWrite), EACCES);
  user.groups = {7};
  f.gid = 7;
  user.fsgid = 9;
  EXPECT_EQ(vfs::VFS::CheckPermission(user, f, vfs::kMayRead), 0);  // supplementary
  // Owner bits apply to the owner even when group bits would allow more.
  f.mode = S_IFREG | 0070;
  f.uid = 1000;
  EXPECT_EQ(vfs::VFS::CheckPermission(user, f, vfs::kMayRead), EACCES);
  // Root: read/write always; exec only if some x bit is set.
  f.mode = S_IFREG | 0;
  EXPECT_EQ(vfs::VFS::CheckPermission(root, f, vfs::kMayRead | vfs::kMayWrite), 0);
  EXPECT_EQ(vfs::VFS::CheckPermission(root, f, vfs::kMayExec), EACCES);
  f.mode = S_IFREG | 0001;
  EXPECT_EQ(vfs::VFS::CheckPermission(root, f, vfs::kMayExec), 0);
  vfs::Attr d;
  d.mode = S_IFDIR | 0;
  EXPECT_EQ(vfs::VFS::CheckPermission(root, d, vfs::kMayExec | vfs::kMayWrite), 0);
  vfs::Credentials rs;
  rs.cap_effective = 1ull << vfs::kCapDacReadSearch;
  rs.fsuid = 55;
  EXPECT_EQ(vfs::VFS::CheckPermission(rs, d, vfs::kMayExec | vfs::kMayRead), 0);
  EXPECT_EQ(vfs::VFS::CheckPermission(rs, d, vfs::kMayWrite), EACCES);
  f.mode = S_IFREG | 0;
  EXPECT_EQ(vfs::VFS::CheckPermission(rs, f, vfs::kMayRead), 0);
  EXPECT_EQ(vfs::VFS::CheckPermission(rs, f, vfs::kMayRead | vfs::kMayWrite), EACCES);
}

}  // namespace
}  // namespace sentry::testing
