// tmpfs: file data in MemoryFile pages, holes, truncate, fallocate,
// Translate's references, concurrency, directories and xattrs.
#include <linux/falloc.h>
#include <sys/xattr.h>

#include <thread>

#include "fs/tmpfs/tmpfs_internal.h"
#include "sentry/mm/mm.h"
#include "tests/unit/fs_test_util.h"

namespace sentry::testing {
namespace {

using tmpfs::TmpfsFile;

class TmpfsTest : public FsTest {
 protected:
  std::shared_ptr<vfs::FileDescription> Create(std::string_view p) {
    auto fd = Open(p, O_CREAT | O_RDWR);
    EXPECT_TRUE(fd.ok());
    return fd.ok() ? *fd : nullptr;
  }
  TmpfsFile* FileOf(vfs::FileDescription& fd) {
    return dynamic_cast<TmpfsFile*>(fd.vd().dentry->inode().get());
  }
};

TEST_F(TmpfsTest, ReadWriteAndHoles) {
  auto fd = Create("/f");
  ASSERT_EQ(PWriteStr(*fd, "hello", 0), 5);
  ASSERT_EQ(PWriteStr(*fd, "world", 3 * kPageSize + 10), 5);
  EXPECT_EQ(fd->Stat()->size, 3 * kPageSize + 15);
  EXPECT_EQ(PReadN(*fd, 5, 0), "hello");
  std::string hole = PReadN(*fd, 100, kPageSize);
  EXPECT_EQ(hole, std::string(100, '\0'));
  EXPECT_EQ(PReadN(*fd, 100, 3 * kPageSize + 10), "world");
  EXPECT_EQ(PReadN(*fd, 10, 3 * kPageSize + 15), "");  // EOF
  // Holes are not allocated: pages 1 and 2 have no memory.
  TmpfsFile* f = FileOf(*fd);
  EXPECT_NE(f->PageForTest(0), 0u);
  EXPECT_EQ(f->PageForTest(1), 0u);
  EXPECT_EQ(f->PageForTest(2), 0u);
  EXPECT_EQ(fd->Stat()->blocks, 2 * kPageSize / 512);
  // A read spanning data, hole and data.
  std::string all = PReadN(*fd, 4 * kPageSize, 0);
  ASSERT_EQ(all.size(), 3 * kPageSize + 15);
  EXPECT_EQ(all.substr(0, 5), "hello");
  EXPECT_EQ(all.substr(3 * kPageSize + 10), "world");
  EXPECT_EQ(PReadN(*fd, 1, -1), "<errno 22>");
}

TEST_F(TmpfsTest, LargeWritesAreContiguous) {
  auto fd = Create("/big");
  std::string data(64 * kPageSize, 'x');
  for (size_t i = 0; i < data.size(); i++) data[i] = static_cast<char>(i * 7);
  ASSERT_EQ(PWriteStr(*fd, data, 0), static_cast<int64_t>(data.size()));
  EXPECT_EQ(PReadN(*fd, data.size(), 0), data);
  auto m = fd->GetMappable();
  ASSERT_TRUE(m.ok());
  auto r = (*m)->Translate(0, data.size(), false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->length(), data.size());
  EXPECT_EQ(memcmp(mf_->Internal(r->start), data.data(), data.size()), 0);
  mf_->DecRef(*r);
}

TEST_F(TmpfsTest, TruncateShrinksFreesAndZeroes) {
  uint64_t before = mf_->AllocatedBytes();
  auto fd = Create("/f");
  ASSERT_EQ(PWriteStr(*fd, std::string(3 * kPageSize, 'a'), 0), 3 * kPageSize);
  EXPECT_EQ(mf_->AllocatedBytes(), before + 3 * kPageSize);
  vfs::SetAttr t;
  t.mask = vfs::SetAttr::kSize;
  t.size = 100;
  ASSERT_EQ(fd->vd().dentry->inode()->SetAttrs(t), 0);
  EXPECT_EQ(mf_->AllocatedBytes(), before + kPageSize);
  EXPECT_EQ(fd->Stat()->size, 100u);
  t.size = 2 * kPageSize;
  ASSERT_EQ(fd->vd().dentry->inode()->SetAttrs(t), 0);
  std::string back = PReadN(*fd, 2 * kPageSize, 0);
  EXPECT_EQ(back.substr(0, 100), std::string(100, 'a'));
  EXPECT_EQ(back.substr(100), std::string(2 * kPageSize - 100, '\0'));
  fd.reset();
  ASSERT_EQ(vfs_->Unlink(ctx_, Root(), "/f"), 0);
  EXPECT_EQ(mf_->AllocatedBytes(), before);
}

TEST_F(TmpfsTest, TruncateTimestamps) {
  auto fd = Create("/f");
  vfs::Attr a0 = *fd->Stat();
  vfs::SetAttr old;
  old.mask = vfs::SetAttr::kMtime | vfs::SetAttr::kAtime;
  old.atime = old.mtime = {1, 0};
  ASSERT_EQ(fd->vd().dentry->inode()->SetAttrs(old), 0);
  vfs::SetAttr t;
  t.mask = vfs::SetAttr::kSize;
  t.size = 0;  // same size: no change (truncate(2) on tmpfs)
  ASSERT_EQ(fd->vd().dentry->inode()->SetAttrs(t), 0);
  EXPECT_EQ(fd->Stat()->mtime.tv_sec, 1);
  t.size = 10;
  ASSERT_EQ(fd->vd().dentry->inode()->SetAttrs(t), 0);
  EXPECT_GE(fd->Stat()->mtime.tv_sec, a0.mtime.tv_sec);
  // Writes update mtime and ctime; reads update atime (relatime).
  ASSERT_EQ(fd->vd().dentry->inode()->SetAttrs(old), 0);
  ASSERT_EQ(PWriteStr(*fd, "x", 0), 1);
  EXPECT_GE(fd->Stat()->mtime.tv_sec, a0.mtime.tv_sec);
  EXPECT_EQ(fd->Stat()->atime.tv_sec, 1);
  PReadN(*fd, 1, 0);
  EXPECT_GE(fd->Stat()->atime.tv_sec, a0.atime.tv_sec);
}

TEST_F(TmpfsTest, TranslateReferencesAndEof) {
  auto fd = Create("/f");
  ASSERT_EQ(PWriteStr(*fd, "abc", 0), 3);
  auto m = *fd->GetMappable();
  EXPECT_EQ(m->Translate(kPageSize, kPageSize, false).error(), EFAULT);
  auto r = m->Translate(0, 16 * kPageSize, true);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->length(), kPageSize);  // clamped to EOF's page
  EXPECT_EQ(mf_->RefCount(r->start), 2u);  // the file's and ours
  EXPECT_EQ(memcmp(mf_->Internal(r->start), "abc", 3), 0);
  // Truncating away the page drops the file's reference only.
  vfs::SetAttr t;
  t.mask = vfs::SetAttr::kSize;
  t.size = 0;
  uint64_t allocated = mf_->AllocatedBytes();
  ASSERT_EQ(fd->vd().dentry->inode()->SetAttrs(t), 0);
  EXPECT_EQ(mf_->RefCount(r->start), 1u);
  EXPECT_EQ(mf_->AllocatedBytes(), allocated);
  mf_->DecRef(*r);
  EXPECT_EQ(mf_->AllocatedBytes(), allocated - kPageSize);
  // Translating a hole allocates it, up to the next allocated page.
  t.size = 8 * kPageSize;
  ASSERT_EQ(fd->vd().dentry->inode()->SetAttrs(t), 0);
  ASSERT_EQ(PWriteStr(*fd, "z", 5 * kPageSize), 1);
  auto h = m->Translate(2 * kPageSize, 100 * kPageSize, false);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->length(), 3 * kPageSize);
  EXPECT_EQ(mf_->RefCount(h->start), 2u);
  mf_->DecRef(*h);
}

TEST_F(TmpfsTest, MmapThroughMemoryManagerSeesFileData) {
  auto fd = Create("/f");
  ASSERT_EQ(PWriteStr(*fd, "mapped!", 0), 7);
  MemoryManager mm(nullptr, mf_.get());
  mm.SetMmapBase(0x7f0000000000);
  MMapOpts o;
  o.length = kPageSize;
  o.prot = PROT_READ | PROT_WRITE;
  o.shared = true;
  o.mappable = *fd->GetMappable();
  auto addr = mm.MMap(o);
  ASSERT_TRUE(addr.ok());
  char buf[8] = {};
  ASSERT_EQ(mm.CopyIn(*addr, buf, 7), 0);
  EXPECT_STREQ(buf, "mapped!");
  ASSERT_EQ(mm.CopyOut(*addr, "MAP", 3), 0);
  EXPECT_EQ(PReadN(*fd, 7, 0), "MAPped!");
  // read(2) into and write(2) from application memory (UserIOSequence),
  // including from a mapping of the very file being written.
  UserIOSequence dst(&mm, *addr + 100, 7);
  ASSERT_EQ(fd->PRead(nullptr, dst, 0).value(), 7);
  ASSERT_EQ(mm.CopyIn(*addr + 100, buf, 7), 0);
  EXPECT_EQ(std::string(buf, 7), "MAPped!");
  UserIOSequence src(&mm, std::vector<IoVec>{{*addr, 3}, {*addr + 100, 0}, {*addr + 3, 4}});
  ASSERT_EQ(fd->PWrite(nullptr, src, 200).value(), 7);
  EXPECT_EQ(PReadN(*fd, 7, 200), "MAPped!");
  UserIOSequence bad(&mm, UserAddr(0x1000), 10);
  EXPECT_EQ(fd->PRead(nullptr, bad, 0).error(), EFAULT);
  ASSERT_EQ(mm.MUnmap(*addr, kPageSize), 0);
}

TEST_F(TmpfsTest, Fallocate) {
  auto fd = Create("/f");
  EXPECT_EQ(fd->Allocate(0, 0, 3 * kPageSize), 0);
  EXPECT_EQ(fd->Stat()->size, 3 * kPageSize);
  EXPECT_EQ(fd->Stat()->blocks, 3 * kPageSize / 512);
  EXPECT_EQ(fd->Allocate(FALLOC_FL_KEEP_SIZE, 0, 5 * kPageSize), 0);
  EXPECT_EQ(fd->Stat()->size, 3 * kPageSize);
  EXPECT_EQ(fd->Stat()->blocks, 5 * kPageSize / 512);
  ASSERT_EQ(PWriteStr(*fd, std::string(3 * kPageSize, 'q'), 0), 3 * kPageSize);
  EXPECT_EQ(fd->Allocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 100, 2 * kPageSize), 0);
  std::string d = PReadN(*fd, 3 * kPageSize, 0);
  EXPECT_EQ(d.substr(0, 100), std::string(100, 'q'));
  EXPECT_EQ(d.substr(100, 2 * kPageSize), std::string(2 * kPageSize, '\0'));
  EXPECT_EQ(d.substr(100 + 2 * kPageSize), std::string(kPageSize - 100, 'q'));
  EXPECT_EQ(FileOf(*fd)->PageForTest(1), 0u);  // the whole page went away
  EXPECT_EQ(fd->Stat()->size, 3 * kPageSize);
  EXPECT_EQ(fd->Allocate(FALLOC_FL_PUNCH_HOLE, 0, 10), EOPNOTSUPP);
  EXPECT_EQ(fd->Allocate(FALLOC_FL_ZERO_RANGE, 0, 10), EOPNOTSUPP);
  EXPECT_EQ(fd->Allocate(FALLOC_FL_COLLAPSE_RANGE, 0, kPageSize), EOPNOTSUPP);
  EXPECT_EQ(fd->Allocate(0, 0, 0), EINVAL);
  auto ro = Open("/f", O_RDONLY);
  EXPECT_EQ((*ro)->Allocate(0, 0, 10), EBADF);
}

TEST_F(TmpfsTest, SizeLimit) {
  tmpfs::TmpfsOptions o;
  o.size_limit = 4 * kPageSize;
  auto fs = tmpfs::NewTmpfs(mf_.get(), o);
  auto root = tmpfs::TmpfsRoot(fs.get());
  auto f = *root->CreateChild("f", S_IFREG | 0644, 0, 0, 0);
  auto fd = *f->Open({O_RDWR});
  fd->Init(vfs::VirtualDentry{}, O_RDWR);
  EXPECT_EQ(PWriteStr(*fd, std::string(3 * kPageSize, 'a'), 0), 3 * kPageSize);
  std::string more(2 * kPageSize, 'b');
  BufferIOSequence io(more.data(), more.size());
  // Partial: the fourth page fits, the fifth does not.
  EXPECT_EQ(fd->PWrite(nullptr, io, 3 * kPageSize).value(), static_cast<int64_t>(kPageSize));
  BufferIOSequence io2(more.data(), more.size());
  EXPECT_EQ(fd->PWrite(nullptr, io2, 4 * kPageSize).error(), ENOSPC);
  EXPECT_EQ(fd->Allocate(0, 8 * kPageSize, kPageSize), ENOSPC);
  struct statfs st;
  ASSERT_EQ(fs->StatFS(&st), 0);
  EXPECT_EQ(st.f_bfree, 0u);
  EXPECT_EQ(st.f_blocks, 4u);
}

TEST_F(TmpfsTest, ConcurrentWriters) {
  auto fd = Create("/f");
  constexpr int kThreads = 4, kChunks = 64;
  constexpr size_t kChunk = 1000;
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; t++) {
    ts.emplace_back([&, t] {
      std::string s(kChunk, static_cast<char>('a' + t));
      for (int i = 0; i < kChunks; i++) {
        PWriteStr(*fd, s, static_cast<int64_t>((i * kThreads + t) * kChunk));
      }
    });
  }
  auto ap = Open("/g", O_CREAT | O_WRONLY | O_APPEND);
  for (int t = 0; t < kThreads; t++) {
    ts.emplace_back([&, t] {
      std::string s(100, static_cast<char>('A' + t));
      for (int i = 0; i < 50; i++) WriteStr(**ap, s);
    });
  }
  for (auto& t : ts) t.join();
  std::string all = PReadN(*fd, kThreads * kChunks * kChunk, 0);
  ASSERT_EQ(all.size(), kThreads * kChunks * kChunk);
  for (size_t i = 0; i < all.size(); i++) {
    ASSERT_EQ(all[i], 'a' + static_cast<int>((i / kChunk) % kThreads)) << i;
  }
  auto g = Open("/g", O_RDONLY);
  std::string app = ReadAll(**g);
  ASSERT_EQ(app.size(), kThreads * 50 * 100u);
  for (size_t i = 0; i < app.size(); i += 100) {
    EXPECT_EQ(app.substr(i, 100), std::string(100, app[i]));  // appends never interleave
  }
}

TEST_F(TmpfsTest, LinkCountsAndDirectories) {
  ASSERT_EQ(Mkdir("/d"), 0);
  EXPECT_EQ(StatOf("/d").nlink, 2u);
  EXPECT_EQ(StatOf("/").nlink, 3u);
  ASSERT_EQ(Mkdir("/d/s1"), 0);
  ASSERT_EQ(Mkdir("/d/s2"), 0);
  ASSERT_EQ(Touch("/d/f"), 0);
  EXPECT_EQ(StatOf("/d").nlink, 4u);
  ASSERT_EQ(vfs_->Rename(ctx_, Root(), "/d/s1", Root(), "/s1", 0), 0);
  EXPECT_EQ(StatOf("/d").nlink, 3u);
  EXPECT_EQ(StatOf("/").nlink, 4u);
  ASSERT_EQ(vfs_->Rmdir(ctx_, Root(), "/d/s2"), 0);
  EXPECT_EQ(StatOf("/d").nlink, 2u);
  ASSERT_EQ(vfs_->Link(ctx_, Root(), "/d/f", Root(), "/f2", false, false), 0);
  EXPECT_EQ(StatOf("/f2").nlink, 2u);
  ASSERT_EQ(vfs_->Unlink(ctx_, Root(), "/d/f"), 0);
  EXPECT_EQ(StatOf("/f2").nlink, 1u);
  // Exchanging a directory and a file across directories moves a link.
  ASSERT_EQ(vfs_->Rename(ctx_, Root(), "/s1", Root(), "/d/x", 0), 0);
  ASSERT_EQ(Touch("/y"), 0);
  EXPECT_EQ(StatOf("/d").nlink, 3u);
  ASSERT_EQ(vfs_->Rename(ctx_, Root(), "/d/x", Root(), "/y", RENAME_EXCHANGE), 0);
  EXPECT_EQ(StatOf("/d").nlink, 2u);
  EXPECT_EQ(StatOf("/").nlink, 4u);
  // Creating in a directory updates its mtime and ctime.
  vfs::SetAttr old;
  old.mask = vfs::SetAttr::kMtime;
  old.mtime = {5, 0};
  ASSERT_EQ(Must("/d").dentry->inode()->SetAttrs(old), 0);
  ASSERT_EQ(Touch("/d/new"), 0);
  EXPECT_GT(StatOf("/d").mtime.tv_sec, 5);
}

TEST_F(TmpfsTest, Xattrs) {
  ASSERT_EQ(Touch("/f"), 0);
  auto in = Must("/f").dentry->inode();
  EXPECT_EQ(in->GetXattr("user.a").error(), ENODATA);
  EXPECT_EQ(in->SetXattr("user.a", "1", 0), 0);
  EXPECT_EQ(*in->GetXattr("user.a"), "1");
  EXPECT_EQ(in->SetXattr("user.a", "2", XATTR_CREATE), EEXIST);
  EXPECT_EQ(in->SetXattr("user.b", "2", XATTR_REPLACE), ENODATA);
  EXPECT_EQ(in->SetXattr("user.a", "3", XATTR_REPLACE), 0);
  EXPECT_EQ(*in->GetXattr("user.a"), "3");
  EXPECT_EQ(in->SetXattr("trusted.overlay.opaque", "y", 0), 0);
  EXPECT_EQ(in->SetXattr("security.selinux", "x", 0), ENOTSUP);
  EXPECT_EQ(in->SetXattr("bogus", "x", 0), ENOTSUP);
  EXPECT_EQ(in->SetXattr("user.", "x", 0), EINVAL);
  EXPECT_EQ(in->SetXattr("user.big", std::string(65537, 'x'), 0), E2BIG);
  EXPECT_EQ(*in->ListXattr(), (std::vector<std::string>{"trusted.overlay.opaque", "user.a"}));
  EXPECT_EQ(in->RemoveXattr("user.a"), 0);
  EXPECT_EQ(in->RemoveXattr("user.a"), ENODATA);
  ASSERT_EQ(Symlink("f", "/l"), 0);
  EXPECT_EQ(Resolve("/l", 0)->dentry->inode()->SetXattr("user.x", "1", 0), EPERM);
}

}  // namespace
}  // namespace sentry::testing
