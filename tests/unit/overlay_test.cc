// overlay: copy-up, whiteouts, opaque directories, merged readdir, and
// the lower layer left untouched by everything.
#include <dirent.h>
#include <stdio.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "absl/strings/str_format.h"
#include "fs/overlay/overlay.h"
#include "sentry/mm/mappable.h"
#include "tests/unit/fs_test_util.h"

namespace sentry::testing {
namespace {

// Everything observable about an inode tree, as text.
std::string Snapshot(const std::shared_ptr<vfs::Inode>& in, const std::string& path) {
  vfs::Attr a = *in->GetAttr();
  std::string out = absl::StrFormat("%s mode=%o uid=%u size=%u mtime=%d.%d ctime=%d.%d ino=%u\n",
                                    path, a.mode, a.uid, a.size, a.mtime.tv_sec, a.mtime.tv_nsec,
                                    a.ctime.tv_sec, a.ctime.tv_nsec, a.ino);
  if (a.IsRegular()) out += absl::StrFormat("atime=%d.%d\n", a.atime.tv_sec, a.atime.tv_nsec);
  std::vector<std::string> xattrs = *in->ListXattr();
  for (const std::string& x : xattrs) out += x + "=" + *in->GetXattr(x) + "\n";
  if (a.IsSymlink()) out += "-> " + *in->ReadLink() + "\n";
  if (a.IsRegular()) {
    auto fd = *in->Open({O_RDONLY | O_NOATIME});
    fd->Init(vfs::VirtualDentry{nullptr, std::make_shared<vfs::Dentry>(in, "", nullptr)},
             O_RDONLY | O_NOATIME);
    out += PReadN(*fd, 1 << 20, 0) + "\n";
  }
  if (a.IsDir()) {
    std::vector<vfs::DirEntry> ents = *in->ReadDir();
    for (const vfs::DirEntry& e : ents) {
      out += Snapshot(*in->Lookup(e.name), path + "/" + e.name);
    }
  }
  return out;
}

class OverlayTest : public FsTest {
 protected:
  void SetUp() override {
    FsTest::SetUp();
    // Build the lower through the VFS, then take the overlay over it.
    ASSERT_EQ(Mkdir("/lower"), 0);
    ASSERT_EQ(Mkdir("/ov"), 0);
    MountTmpfs("/lower");
    lower_fs_ = Must("/lower").mount->fs;
    ASSERT_EQ(Mkdir("/lower/dir", 0750), 0);
    ASSERT_EQ(Touch("/lower/dir/a"), 0);
    ASSERT_EQ(Touch("/lower/dir/b"), 0);
    ASSERT_EQ(Mkdir("/lower/dir/sub", 0700), 0);
    ASSERT_EQ(Touch("/lower/dir/sub/c"), 0);
    ASSERT_EQ(Mkdir("/lower/empty"), 0);
    auto f = Open("/lower/file", O_CREAT | O_WRONLY, 0640);
    ASSERT_EQ(WriteStr(**f, "lower"), 5);
    ASSERT_EQ(PWriteStr(**f, "tail", 3 * 65536 + 7), 4);  // a sparse stretch
    ASSERT_EQ(Symlink("file", "/lower/link"), 0);
    ASSERT_EQ(vfs_->Mknod(ctx_, ctx_.cwd, "/lower/fifo", S_IFIFO | 0600, 0), 0);
    ASSERT_EQ(Must("/lower/file").dentry->inode()->SetXattr("user.tag", "v", 0), 0);
    vfs::SetAttr own;
    own.mask = vfs::SetAttr::kUid | vfs::SetAttr::kGid | vfs::SetAttr::kMtime;
    own.uid = 1234;
    own.gid = 99;
    own.mtime = {1000, 5};
    ASSERT_EQ(vfs_->SetAttrs(ctx_, Must("/lower/dir/sub"), own), 0);
    ASSERT_EQ(vfs_->SetAttrs(ctx_, Must("/lower/file"), own), 0);
    lower_root_ = tmpfs::TmpfsRoot(lower_fs_.get());
    upper_fs_ = tmpfs::NewTmpfs(mf_.get(), tmpfs::TmpfsOptions{});
    upper_root_ = tmpfs::TmpfsRoot(upper_fs_.get());
    ov_fs_ = overlay::NewOverlay(upper_root_, lower_root_, upper_fs_, lower_fs_);
    ASSERT_NE(ov_fs_, nullptr);
    auto m = vfs_->NewMount(ov_fs_, overlay::OverlayRoot(ov_fs_.get()), 0, "overlay");
    ASSERT_EQ(vfs_->Attach(m, Must("/ov")), 0);
    lower_before_ = Snapshot(lower_root_, "");
  }
  void TearDown() override {
    EXPECT_EQ(Snapshot(lower_root_, ""), lower_before_) << "the lower layer changed";
    FsTest::TearDown();
  }
  // The upper layer's object at `path` (relative, no leading slash).
  ErrorOr<std::shared_ptr<vfs::Inode>> Upper(std::string_view path) {
    std::shared_ptr<vfs::Inode> cur = upper_root_;
    while (!path.empty()) {
      size_t s = path.find('/');
      std::string_view name = path.substr(0, s);
      cur = TRY_ASSIGN(cur->Lookup(name));
      path = s == std::string_view::npos ? "" : path.substr(s + 1);
    }
    return cur;
  }
  vfs::Attr UAttr(std::string_view p) {
    auto u = Upper(p);
    EXPECT_TRUE(u.ok()) << p;
    return u.ok() ? *(*u)->GetAttr() : vfs::Attr{};
  }
  bool IsWhiteoutPath(std::string_view p) {
    auto u = Upper(p);
    if (!u.ok()) return false;
    vfs::Attr a = *(*u)->GetAttr();
    return a.type() == S_IFCHR && a.rdev == makedev(0, 0);
  }
  std::string Cat(std::string_view p) {
    auto fd = Open(p, O_RDONLY);
    if (!fd.ok()) return "<errno " + std::to_string(fd.error()) + ">";
    return ReadAll(**fd);
  }

  std::shared_ptr<vfs::Filesystem> lower_fs_, upper_fs_, ov_fs_;
  std::shared_ptr<vfs::Inode> lower_root_, upper_root_;
  std::string lower_before_;
};

TEST_F(OverlayTest, ReadsLowerThroughTheUnion) {
  std::string want = "lower" + std::string(3 * 65536 + 2, '\0') + "tail";
  EXPECT_EQ(Cat("/ov/file"), want);
  EXPECT_EQ(Cat("/ov/link"), want);
  vfs::Attr a = StatOf("/ov/file");
  EXPECT_EQ(a.ino, StatOf("/lower/file").ino);
  EXPECT_EQ(a.dev, ov_fs_->dev());
  EXPECT_EQ(a.uid, 1234u);
  EXPECT_EQ(List("/ov"), (std::vector<std::string>{".", "..", "dir", "empty", "fifo", "file",
                                                    "link"}));
  EXPECT_EQ(*Must("/ov/file").dentry->inode()->GetXattr("user.tag"), "v");
  EXPECT_EQ(Upper("dir").error(), ENOENT);  // reading copies nothing up
}

TEST_F(OverlayTest, WriteCopiesUpWithParents) {
  uint64_t ino = StatOf("/ov/dir/sub/c").ino;
  auto fd = Open("/ov/dir/sub/c", O_WRONLY);
  ASSERT_TRUE(fd.ok());
  ASSERT_EQ(WriteStr(**fd, "new"), 3);
  EXPECT_EQ(Cat("/ov/dir/sub/c"), "new");
  EXPECT_EQ(StatOf("/ov/dir/sub/c").ino, ino);  // stable across copy-up
  // The parents were copied with their mode, owner and times.
  auto sub = Upper("dir/sub");
  ASSERT_TRUE(sub.ok());
  vfs::Attr sa = *(*sub)->GetAttr();
  EXPECT_EQ(sa.mode, S_IFDIR | 0700u);
  EXPECT_EQ(sa.uid, 1234u);
  EXPECT_EQ(sa.gid, 99u);
  EXPECT_EQ(sa.mtime.tv_sec, 1000);
  EXPECT_EQ(UAttr("dir").mode, S_IFDIR | 0750u);
  EXPECT_TRUE(Upper("dir/sub/c").ok());
  EXPECT_EQ(Upper("dir/a").error(), ENOENT);  // siblings stay below
}

TEST_F(OverlayTest, CopyUpKeepsDataHolesOwnerAndXattrs) {
  std::string before = Cat("/ov/file");
  auto fd = Open("/ov/file", O_RDWR | O_APPEND);
  ASSERT_TRUE(fd.ok());
  ASSERT_EQ(WriteStr(**fd, "+up"), 3);
  EXPECT_EQ(Cat("/ov/file"), before + "+up");
  auto u = Upper("file");
  ASSERT_TRUE(u.ok());
  vfs::Attr ua = *(*u)->GetAttr();
  EXPECT_EQ(ua.mode, S_IFREG | 0640u);
  EXPECT_EQ(ua.uid, 1234u);
  EXPECT_LT(ua.blocks, ua.size / 512);  // the zero stretch stayed a hole
  EXPECT_EQ(*Must("/ov/file").dentry->inode()->GetXattr("user.tag"), "v");
  EXPECT_EQ(Must("/ov/file").dentry->inode()->GetXattr("trusted.overlay.origin").error(), ENODATA);
  EXPECT_EQ(Must("/ov/file").dentry->inode()->SetXattr("trusted.overlay.opaque", "y", 0), EPERM);
  std::vector<std::string> xattrs = *Must("/ov/file").dentry->inode()->ListXattr();
  for (const std::string& x : xattrs) {
    EXPECT_EQ(x.find("trusted.overlay."), std::string::npos);
  }
}

TEST_F(OverlayTest, ReadOnlyFdFollowsCopyUp) {
  auto ro = Open("/ov/dir/a", O_RDONLY);
  ASSERT_TRUE(ro.ok());
  auto m_before = (*ro)->GetMappable();
  ASSERT_TRUE(m_before.ok());
  auto rw = Open("/ov/dir/a", O_WRONLY);
  ASSERT_EQ(WriteStr(**rw, "fresh"), 5);
  EXPECT_EQ(PReadN(**ro, 10, 0), "fresh");
  // mmap now uses the upper file's pages.
  auto m_after = (*ro)->GetMappable();
  ASSERT_TRUE(m_after.ok());
  EXPECT_NE(m_before->get(), m_after->get());
  auto r = (*m_after)->Translate(0, kPageSize, false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(memcmp(mf_->Internal(r->start), "fresh", 5), 0);
  mf_->DecRef(*r);
}

TEST_F(OverlayTest, UnlinkLeavesWhiteout) {
  ASSERT_EQ(vfs_->Unlink(ctx_, ctx_.cwd, "/ov/dir/a"), 0);
  EXPECT_EQ(ResolveErr("/ov/dir/a"), ENOENT);
  auto w = Upper("dir/a");
  ASSERT_TRUE(w.ok());
  vfs::Attr wa = *(*w)->GetAttr();
  EXPECT_EQ(wa.type(), static_cast<uint32_t>(S_IFCHR));
  EXPECT_EQ(wa.rdev, makedev(0, 0));
  EXPECT_EQ(List("/ov/dir"), (std::vector<std::string>{".", "..", "b", "sub"}));
  // Creating the name again replaces the whiteout.
  ASSERT_EQ(Touch("/ov/dir/a"), 0);
  EXPECT_EQ(Cat("/ov/dir/a"), "");
  EXPECT_TRUE(UAttr("dir/a").IsRegular());
  EXPECT_EQ(List("/ov/dir"), (std::vector<std::string>{".", "..", "a", "b", "sub"}));
  // Unlinking an upper-only file leaves no whiteout.
  ASSERT_EQ(Touch("/ov/only"), 0);
  ASSERT_EQ(vfs_->Unlink(ctx_, ctx_.cwd, "/ov/only"), 0);
  EXPECT_EQ(Upper("only").error(), ENOENT);
}

TEST_F(OverlayTest, MergedReaddirHasNoDuplicates) {
  ASSERT_EQ(Touch("/ov/dir/new"), 0);
  ASSERT_TRUE(Open("/ov/dir/b", O_WRONLY).ok());  // copies b up
  ASSERT_EQ(Mkdir("/ov/dir/sub/d2"), 0);
  EXPECT_EQ(List("/ov/dir"), (std::vector<std::string>{".", "..", "a", "b", "new", "sub"}));
  EXPECT_EQ(List("/ov/dir/sub"), (std::vector<std::string>{".", "..", "c", "d2"}));
  EXPECT_EQ(StatOf("/ov/dir").nlink, 1u);  // merged directories report 1
  // d_ino matches stat's inode number.
  auto fd = Open("/ov/dir", O_RDONLY);
  VectorSink s;
  ASSERT_TRUE((*fd)->IterDirents(nullptr, s).ok());
  (void)s;
  auto dir = Must("/ov/dir").dentry->inode();
  std::vector<vfs::DirEntry> ents = *dir->ReadDir();
  for (const vfs::DirEntry& e : ents) {
    EXPECT_EQ(e.ino, StatOf("/ov/dir/" + e.name, 0).ino) << e.name;
  }
}

TEST_F(OverlayTest, RmdirAndOpaqueDirectories) {
  EXPECT_EQ(vfs_->Rmdir(ctx_, ctx_.cwd, "/ov/dir"), ENOTEMPTY);
  EXPECT_EQ(vfs_->Rmdir(ctx_, ctx_.cwd, "/ov/empty"), 0);
  EXPECT_EQ(ResolveErr("/ov/empty"), ENOENT);
  for (const char* p : {"/ov/dir/a", "/ov/dir/b", "/ov/dir/sub/c"}) {
    ASSERT_EQ(vfs_->Unlink(ctx_, ctx_.cwd, p), 0) << p;
  }
  EXPECT_EQ(vfs_->Rmdir(ctx_, ctx_.cwd, "/ov/dir"), ENOTEMPTY);
  // Empty in the union view, though its upper holds whiteouts.
  ASSERT_EQ(vfs_->Rmdir(ctx_, ctx_.cwd, "/ov/dir/sub"), 0);
  ASSERT_EQ(vfs_->Rmdir(ctx_, ctx_.cwd, "/ov/dir"), 0);
  EXPECT_EQ(List("/ov"), (std::vector<std::string>{".", "..", "fifo", "file", "link"}));
  // A new directory over the whiteout is opaque: nothing from below.
  ASSERT_EQ(Mkdir("/ov/dir"), 0);
  EXPECT_EQ(List("/ov/dir"), (std::vector<std::string>{".", ".."}));
  EXPECT_EQ(*(*Upper("dir"))->GetXattr("trusted.overlay.opaque"), "y");
  EXPECT_EQ(ResolveErr("/ov/dir/a"), ENOENT);
  EXPECT_EQ(Must("/ov/dir").dentry->inode()->GetXattr("trusted.overlay.opaque").error(), ENODATA);
}

TEST_F(OverlayTest, Rename) {
  EXPECT_EQ(vfs_->Rename(ctx_, ctx_.cwd, "/ov/dir", ctx_.cwd, "/ov/dir2", 0), EXDEV);
  uint64_t ino = StatOf("/ov/file").ino;
  std::string data = Cat("/ov/file");
  ASSERT_EQ(vfs_->Rename(ctx_, ctx_.cwd, "/ov/file", ctx_.cwd, "/ov/dir/moved", 0), 0);
  EXPECT_EQ(ResolveErr("/ov/file"), ENOENT);
  EXPECT_EQ(Cat("/ov/dir/moved"), data);
  EXPECT_EQ(StatOf("/ov/dir/moved").ino, ino);
  EXPECT_TRUE(IsWhiteoutPath("file"));
  // Over a lower file: the lower one is hidden.
  ASSERT_EQ(vfs_->Rename(ctx_, ctx_.cwd, "/ov/dir/moved", ctx_.cwd, "/ov/dir/a", 0), 0);
  EXPECT_EQ(Cat("/ov/dir/a"), data);
  EXPECT_EQ(List("/ov/dir"), (std::vector<std::string>{".", "..", "a", "b", "sub"}));
  // An upper-only directory moves freely, also onto a whiteout.
  ASSERT_EQ(Mkdir("/ov/newdir"), 0);
  ASSERT_EQ(Touch("/ov/newdir/x"), 0);
  ASSERT_EQ(vfs_->Rename(ctx_, ctx_.cwd, "/ov/newdir", ctx_.cwd, "/ov/file", 0), 0);
  EXPECT_EQ(List("/ov/file"), (std::vector<std::string>{".", "..", "x"}));
  // An upper-only directory over an empty lower directory becomes opaque.
  ASSERT_EQ(vfs_->Rename(ctx_, ctx_.cwd, "/ov/file", ctx_.cwd, "/ov/empty", 0), 0);
  EXPECT_EQ(List("/ov/empty"), (std::vector<std::string>{".", "..", "x"}));
  EXPECT_EQ(vfs_->Rename(ctx_, ctx_.cwd, "/ov/dir/b", ctx_.cwd, "/ov/dir/sub/c",
                         RENAME_EXCHANGE), 0);
  EXPECT_EQ(StatOf("/ov/dir/sub/c").ino, StatOf("/lower/dir/b").ino);
}

TEST_F(OverlayTest, MetadataChangesCopyUp) {
  vfs::SetAttr ch;
  ch.mask = vfs::SetAttr::kMode;
  ch.mode = 0600;
  ASSERT_EQ(vfs_->SetAttrs(ctx_, Must("/ov/dir/sub/c"), ch), 0);
  EXPECT_EQ(StatOf("/ov/dir/sub/c").mode, S_IFREG | 0600u);
  ASSERT_EQ(vfs_->SetAttrs(ctx_, *Resolve("/ov/link", 0), [] {
              vfs::SetAttr t;
              t.mask = vfs::SetAttr::kMtime;
              t.mtime = {42, 0};
              return t;
            }()),
            0);
  EXPECT_EQ(StatOf("/ov/link", 0).mtime.tv_sec, 42);
  EXPECT_EQ(*vfs_->ReadLink(ctx_, ctx_.cwd, "/ov/link", 0), "file");
  EXPECT_TRUE(UAttr("link").IsSymlink());
  vfs::SetAttr tr;
  tr.mask = vfs::SetAttr::kSize;
  tr.size = 3;
  ASSERT_EQ(vfs_->SetAttrs(ctx_, Must("/ov/file"), tr), 0);
  EXPECT_EQ(Cat("/ov/file"), "low");
  ASSERT_EQ(Must("/ov/fifo").dentry->inode()->SetXattr("trusted.t", "1", 0), 0);
  EXPECT_EQ(UAttr("fifo").type(), static_cast<uint32_t>(S_IFIFO));
  // Hard links copy the target up; both names are one file.
  ASSERT_EQ(vfs_->Link(ctx_, ctx_.cwd, "/ov/dir/a", ctx_.cwd, "/ov/a2", false, false), 0);
  EXPECT_EQ(StatOf("/ov/a2").ino, StatOf("/ov/dir/a").ino);
  EXPECT_EQ(StatOf("/ov/a2").nlink, 2u);
  ASSERT_EQ(PWriteStr(**Open("/ov/a2", O_WRONLY), "shared", 0), 6);
  EXPECT_EQ(Cat("/ov/dir/a"), "shared");
}

TEST_F(OverlayTest, TruncateOnOpenCopiesUp) {
  ASSERT_TRUE(Open("/ov/file", O_WRONLY | O_TRUNC).ok());
  EXPECT_EQ(Cat("/ov/file"), "");
  EXPECT_EQ(UAttr("file").size, 0u);
}

}  // namespace
}  // namespace sentry::testing
