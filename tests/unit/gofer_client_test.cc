// The Sentry's gofer client file system against an in-process Gofer:
// lookups, cached attributes, listings, symlinks, file data, the page
// cache behind mmap, read-only refusal, mutations on a writable mount,
// and concurrent use.
#include <dirent.h>
#include <fcntl.h>
#include <sys/xattr.h>

#include <atomic>
#include <set>

#include "fs/gofer/filesystem.h"
#include "fs/gofer/inode.h"
#include "gofer_test_util.h"
#include "sentry/mm/memory_file.h"

namespace gofer_test {
namespace {

using sentry::goferfs::GoferClientOptions;
using sentry::goferfs::GoferFilesystem;
using sentry::goferfs::GoferInode;
using sentry::vfs::Inode;

class GoferClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto mf = sentry::MemoryFile::Create(1ull << 30);
    ASSERT_TRUE(mf.ok());
    mf_ = std::move(*mf);
    Start(/*read_only=*/true);
  }
  void TearDown() override { Stop(); }
  void Start(bool read_only) {
    Stop();
    gofer_ = std::make_unique<InProcessGofer>(tree_.path(), read_only);
    GoferClientOptions o;
    o.channels = 4;
    auto fs = sentry::goferfs::NewGoferFilesystem(gofer_->TakeClientFd(), mf_.get(), o);
    ASSERT_TRUE(fs.ok()) << fs.error();
    fs_ = std::move(*fs);
    root_ = sentry::goferfs::GoferRootInode(*fs_);
    ASSERT_NE(root_, nullptr);
  }
  void Stop() {
    root_.reset();
    fs_.reset();  // closes every channel: the server returns
    if (gofer_) {
      gofer_->Stop();
      EXPECT_TRUE(gofer_->status().ok()) << gofer_->status();
    }
    gofer_.reset();
  }
  GoferFilesystem& gfs() { return static_cast<GoferFilesystem&>(*fs_); }
  uint64_t trips() { return gfs().client().round_trips(); }

  std::shared_ptr<Inode> Walk(const std::string& path) {
    std::shared_ptr<Inode> cur = root_;
    size_t pos = 0;
    while (pos < path.size()) {
      size_t slash = path.find('/', pos);
      if (slash == std::string::npos) slash = path.size();
      auto next = cur->Lookup(path.substr(pos, slash - pos));
      if (!next.ok()) {
        ADD_FAILURE() << path << ": errno " << next.error();
        return nullptr;
      }
      cur = *next;
      pos = slash + 1;
    }
    return cur;
  }
  std::shared_ptr<sentry::vfs::FileDescription> OpenFile(const std::shared_ptr<Inode>& ino,
                                                         uint32_t flags) {
    auto fd = ino->Open({flags});
    if (!fd.ok()) {
      ADD_FAILURE() << "open: errno " << fd.error();
      return nullptr;
    }
    (*fd)->Init({}, flags);
    return *fd;
  }
  std::string PRead(sentry::vfs::FileDescription& f, size_t n, int64_t off) {
    TestBuf b(n);
    auto r = f.PRead(nullptr, b, off);
    EXPECT_TRUE(r.ok()) << r.error();
    return b.consumed();
  }

  TempTree tree_;
  std::unique_ptr<sentry::MemoryFile> mf_;
  std::unique_ptr<InProcessGofer> gofer_;
  std::shared_ptr<sentry::vfs::Filesystem> fs_;
  std::shared_ptr<Inode> root_;
};

TEST_F(GoferClientTest, LookupStatAndCachedAttributes) {
  // Held like the VFS's dentries hold them.
  auto dir = Walk("dir");
  auto sub = Walk("dir/sub");
  auto f = Walk("dir/sub/nested.txt");
  ASSERT_NE(f, nullptr);
  uint64_t before = trips();
  auto a = f->GetAttr();
  ASSERT_TRUE(a.ok());
  struct stat st;
  ASSERT_EQ(stat(tree_.P("dir/sub/nested.txt").c_str(), &st), 0);
  EXPECT_EQ(a->ino, st.st_ino);  // host inode numbers are kept
  EXPECT_EQ(a->size, 7u);
  EXPECT_EQ(a->mode, st.st_mode);
  EXPECT_EQ(a->mtime.tv_sec, st.st_mtim.tv_sec);
  EXPECT_EQ(a->mtime.tv_nsec, st.st_mtim.tv_nsec);
  EXPECT_EQ(a->dev, fs_->dev());  // the sandbox's device, not the host's
  // Cached: neither stat nor a repeated lookup costs a round trip.
  EXPECT_EQ(Walk("dir/sub/nested.txt"), f);
  ASSERT_TRUE(f->GetAttr().ok());
  ASSERT_TRUE(sub->GetAttr().ok());
  EXPECT_EQ(trips(), before);
  auto missing = root_->Lookup("does-not-exist");
  EXPECT_EQ(missing.error(), ENOENT);
  EXPECT_EQ(Walk("file.txt")->Lookup("x").error(), ENOTDIR);
}

TEST_F(GoferClientTest, InodeNumbersFromOtherHostDevicesDoNotCollide) {
  struct stat st;
  ASSERT_EQ(stat(tree_.path().c_str(), &st), 0);
  EXPECT_EQ(gfs().MapIno(st.st_dev, 1234), 1234u);  // the served device: host numbers
  uint64_t a = gfs().MapIno(st.st_dev + 1, 1234);
  uint64_t b = gfs().MapIno(st.st_dev + 2, 1234);
  EXPECT_NE(a, 1234u);
  EXPECT_NE(a, b);
  EXPECT_EQ(gfs().MapIno(st.st_dev + 1, 1234), a);  // stable
}

TEST_F(GoferClientTest, WalkPathIsOneRoundTrip) {
  auto* root = static_cast<GoferInode*>(root_.get());
  uint64_t before = trips();
  auto r = root->WalkPath({"dir", "sub", "nested.txt"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->inodes.size(), 3u);
  EXPECT_EQ(r->stop, 0);
  EXPECT_EQ(trips(), before + 1);
  // The walked inodes are now cached children: plain lookups are free.
  ASSERT_TRUE(Walk("dir/sub/nested.txt") != nullptr);
  EXPECT_EQ(trips(), before + 1);
  auto partial = root->WalkPath({"dir", "missing", "x"});
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(partial->inodes.size(), 1u);
  EXPECT_EQ(partial->stop, ENOENT);
}

TEST_F(GoferClientTest, ReadDirListsEverythingOnceAndCaches) {
  for (int i = 0; i < kManyEntries; i++) WriteFile(tree_.P("many/" + ManyName(i)), "");
  auto many = Walk("many");
  auto list = many->ReadDir();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), static_cast<size_t>(kManyEntries));
  std::set<std::string> names;
  for (auto& e : *list) {
    names.insert(e.name);
    EXPECT_EQ(e.type, DT_REG);
    EXPECT_NE(e.ino, 0u);
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(kManyEntries));
  uint64_t before = trips();
  ASSERT_TRUE(many->ReadDir().ok());
  EXPECT_EQ(trips(), before);
  auto top = root_->ReadDir();
  ASSERT_TRUE(top.ok());
  std::set<std::string> top_names;
  for (auto& e : *top) top_names.insert(e.name);
  EXPECT_EQ(top_names, (std::set<std::string>{"file.txt", "dir", "big.bin", "many", "link_rel",
                                               "escape", "abs", "dirlink", "fifo"}));
}

TEST_F(GoferClientTest, ReadLinkIsTextAndCached) {
  EXPECT_EQ(*Walk("escape")->ReadLink(), "../../etc/passwd");
  EXPECT_EQ(*Walk("abs")->ReadLink(), "/etc/passwd");
  auto l = Walk("link_rel");
  EXPECT_EQ(*l->ReadLink(), "file.txt");
  uint64_t before = trips();
  EXPECT_EQ(*l->ReadLink(), "file.txt");
  EXPECT_EQ(trips(), before);
  EXPECT_EQ(l->Open({O_RDONLY}).error(), ELOOP);
  EXPECT_EQ(Walk("file.txt")->ReadLink().error(), EINVAL);
}

TEST_F(GoferClientTest, ReadAndPReadShareOneHostFdPerInode) {
  auto f = Walk("file.txt");
  uint64_t before = trips();
  auto a = OpenFile(f, O_RDONLY);
  auto b = OpenFile(f, O_RDONLY);
  EXPECT_EQ(trips(), before + 1);  // one Open round trip for both
  EXPECT_EQ(PRead(*a, 100, 0), "hello, gofer\n");
  EXPECT_EQ(PRead(*b, 5, 7), "gofer");
  EXPECT_EQ(PRead(*a, 10, 100), "");  // past EOF
  TestBuf buf(6);
  ASSERT_EQ(a->Read(nullptr, buf).value(), 6);
  TestBuf buf2(100);
  ASSERT_EQ(a->Read(nullptr, buf2).value(), 7);
  EXPECT_EQ(buf.consumed() + buf2.consumed(), "hello, gofer\n");
  EXPECT_EQ(a->Seek(-3, SEEK_END).value(), 10);
  EXPECT_EQ(a->Stat()->size, 13u);
  EXPECT_EQ(trips(), before + 1);
}

TEST_F(GoferClientTest, LargeFileReadsAcrossPieces) {
  auto f = OpenFile(Walk("big.bin"), O_RDONLY);
  size_t off = 1234567;
  std::string got = PRead(*f, 300000, static_cast<int64_t>(off));
  ASSERT_EQ(got.size(), 300000u);
  for (size_t i = 0; i < got.size(); i++) {
    ASSERT_EQ(static_cast<uint8_t>(got[i]), BigByte(off + i)) << i;
  }
  EXPECT_EQ(PRead(*f, 1000, kBigSize - 10).size(), 10u);
}

TEST_F(GoferClientTest, TranslateMapsFilePagesContiguously) {
  auto ino = std::static_pointer_cast<GoferInode>(Walk("big.bin"));
  auto file = OpenFile(ino, O_RDONLY);
  auto m = file->GetMappable();
  ASSERT_TRUE(m.ok());
  auto r = (*m)->Translate(0, 1 << 20, false);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->length(), 1u << 20);  // one long run
  const uint8_t* p = mf_->Internal(r->start);
  for (size_t i = 0; i < r->length(); i += 511) ASSERT_EQ(p[i], BigByte(i)) << i;
  EXPECT_EQ(mf_->RefCount(r->start), 2u);  // the cache's and ours
  // The last page: file bytes then zeros; past it, EFAULT (SIGBUS).
  uint64_t last = kBigSize & ~uint64_t{4095};
  auto t = (*m)->Translate(last, 1 << 20, false);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->length(), 4096u);
  const uint8_t* q = mf_->Internal(t->start);
  EXPECT_EQ(q[kBigSize - last - 1], BigByte(kBigSize - 1));
  EXPECT_EQ(q[kBigSize - last], 0);
  EXPECT_EQ((*m)->Translate(last + 4096, 4096, false).error(), EFAULT);
  // The same pages again: the cache does not reread.
  auto again = (*m)->Translate(0, 4096, false);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->start, r->start);
  mf_->DecRef(*r);
  mf_->DecRef(*t);
  mf_->DecRef(*again);
  EXPECT_EQ((*m)->MapsIno(), ino->GetAttr()->ino);
}

TEST_F(GoferClientTest, ReadOnlyMountRefusesMutationsWithErofs) {
  auto f = Walk("file.txt");
  EXPECT_EQ(f->Open({O_RDWR}).error(), EROFS);
  EXPECT_EQ(f->Open({O_WRONLY | O_TRUNC}).error(), EROFS);
  EXPECT_EQ(root_->CreateChild("new", S_IFREG | 0644, 0, 0, 0).error(), EROFS);
  EXPECT_EQ(root_->CreateChild("d", S_IFDIR | 0755, 0, 0, 0).error(), EROFS);
  EXPECT_EQ(root_->CreateSymlink("s", "x", 0, 0).error(), EROFS);
  EXPECT_EQ(root_->Link("l", f), EROFS);
  EXPECT_EQ(root_->Unlink("file.txt"), EROFS);
  EXPECT_EQ(root_->Rmdir("dir"), EROFS);
  EXPECT_EQ(root_->Rename("file.txt", root_.get(), "y", 0), EROFS);
  sentry::vfs::SetAttr sa;
  sa.mask = sentry::vfs::SetAttr::kMode;
  EXPECT_EQ(f->SetAttrs(sa), EROFS);
  EXPECT_EQ(f->SetXattr("user.a", "b", 0), EROFS);
  EXPECT_EQ(ReadHostFile(tree_.P("file.txt")), "hello, gofer\n");
  // Writes through a read-only open are EBADF, as on Linux.
  auto r = OpenFile(f, O_RDONLY);
  TestBuf src(std::string("x"));
  EXPECT_EQ(r->PWrite(nullptr, src, 0).error(), EBADF);
}

TEST_F(GoferClientTest, OtherFileTypes) {
  EXPECT_EQ(Walk("fifo")->Open({O_RDONLY}).error(), ENXIO);
  EXPECT_EQ(Walk("dir")->Open({O_RDWR}).error(), EISDIR);
  EXPECT_EQ(Walk("file.txt")->ReadDir().error(), ENOTDIR);
  EXPECT_EQ(Walk("dir")->GetXattr("security.capability").error(), ENODATA);
  struct statfs sfs;
  ASSERT_EQ(fs_->StatFS(&sfs), 0);
  EXPECT_GT(sfs.f_blocks, 0u);
  EXPECT_EQ(std::string(fs_->Name()), "9p");
}

TEST_F(GoferClientTest, WritableMountCreateWriteRenameUnlink) {
  Start(/*read_only=*/false);
  auto created = root_->CreateChild("new.txt", S_IFREG | 0640, 0, 1234, 5678);
  ASSERT_TRUE(created.ok()) << created.error();
  auto ino = *created;
  uint64_t before = trips();
  auto f = OpenFile(ino, O_RDWR);
  EXPECT_EQ(trips(), before);  // Create donated the fd already
  TestBuf src(std::string("written by the sandbox"));
  ASSERT_EQ(f->Write(nullptr, src).value(), 22);
  EXPECT_EQ(ReadHostFile(tree_.P("new.txt")), "written by the sandbox");
  EXPECT_EQ(PRead(*f, 100, 8), "by the sandbox");
  auto a = ino->GetAttr();
  EXPECT_EQ(a->size, 22u);
  EXPECT_EQ(a->mode & 07777, 0640u);
  struct stat st;
  ASSERT_EQ(stat(tree_.P("new.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);  // exact, whatever the host umask
  if (geteuid() == 0) {
    EXPECT_EQ(st.st_uid, 1234u);
    EXPECT_EQ(st.st_gid, 5678u);
  }
  // O_APPEND.
  auto app = OpenFile(ino, O_WRONLY | O_APPEND);
  TestBuf more(std::string("!"));
  ASSERT_EQ(app->PWrite(nullptr, more, 0).value(), 1);
  EXPECT_EQ(ReadHostFile(tree_.P("new.txt")), "written by the sandbox!");
  // Rename, then the old name is gone and the inode lives on. (`dir` is
  // held like the VFS's dentry would hold it.)
  auto dir = Walk("dir");
  ASSERT_EQ(root_->Rename("new.txt", dir.get(), "renamed.txt", 0), 0);
  EXPECT_EQ(ReadHostFile(tree_.P("dir/renamed.txt")), "written by the sandbox!");
  EXPECT_EQ(root_->Lookup("new.txt").error(), ENOENT);
  EXPECT_EQ(Walk("dir/renamed.txt").get(), ino.get());
  // Truncate (local ftruncate through our writable fd).
  sentry::vfs::SetAttr sa;
  sa.mask = sentry::vfs::SetAttr::kSize;
  sa.size = 7;
  ASSERT_EQ(ino->SetAttrs(sa), 0);
  EXPECT_EQ(ReadHostFile(tree_.P("dir/renamed.txt")), "written");
  EXPECT_EQ(ino->GetAttr()->size, 7u);
  // Unlink.
  ASSERT_EQ(dir->Unlink("renamed.txt"), 0);
  EXPECT_EQ(access(tree_.P("dir/renamed.txt").c_str(), F_OK), -1);
  EXPECT_EQ(ino->GetAttr()->nlink, 0u);  // refreshed: the name is gone
  EXPECT_EQ(PRead(*f, 100, 0), "written");  // open files still read
}

TEST_F(GoferClientTest, WritableMountDirectoriesLinksSymlinksAttrs) {
  Start(/*read_only=*/false);
  auto d = root_->CreateChild("newdir", S_IFDIR | 0711, 0, 0, 0);
  ASSERT_TRUE(d.ok());
  struct stat st;
  ASSERT_EQ(stat(tree_.P("newdir").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0711u);
  uint32_t nlink_before = root_->GetAttr()->nlink;
  auto s = (*d)->CreateSymlink("sym", "../../etc/shadow", 0, 0);
  ASSERT_TRUE(s.ok());
  char buf[64] = {};
  ASSERT_GT(readlink(tree_.P("newdir/sym").c_str(), buf, sizeof(buf)), 0);
  EXPECT_STREQ(buf, "../../etc/shadow");
  EXPECT_EQ(*(*s)->ReadLink(), "../../etc/shadow");
  auto f = Walk("file.txt");
  ASSERT_EQ((*d)->Link("hard", f), 0);
  EXPECT_EQ(f->GetAttr()->nlink, 2u);
  EXPECT_EQ(ReadHostFile(tree_.P("newdir/hard")), "hello, gofer\n");
  auto listing = (*d)->ReadDir();
  ASSERT_TRUE(listing.ok());
  EXPECT_EQ(listing->size(), 2u);  // sym, hard: the cache saw both
  EXPECT_EQ((*d)->CreateChild("dev", S_IFCHR | 0600, 0x0103, 0, 0).error(), EPERM);
  ASSERT_TRUE((*d)->CreateChild("fifo", S_IFIFO | 0600, 0, 0, 0).ok());
  EXPECT_EQ(root_->Rmdir("newdir"), ENOTEMPTY);
  ASSERT_EQ((*d)->Unlink("sym"), 0);
  ASSERT_EQ((*d)->Unlink("hard"), 0);
  ASSERT_EQ((*d)->Unlink("fifo"), 0);
  EXPECT_EQ(f->GetAttr()->nlink, 1u);
  ASSERT_EQ(root_->Rmdir("newdir"), 0);
  EXPECT_EQ(root_->GetAttr()->nlink, nlink_before - 1);
  // chmod and utimens.
  sentry::vfs::SetAttr sa;
  sa.mask = sentry::vfs::SetAttr::kMode | sentry::vfs::SetAttr::kMtime;
  sa.mode = 0600;
  sa.mtime = {1000000000, 5};
  ASSERT_EQ(f->SetAttrs(sa), 0);
  ASSERT_EQ(stat(tree_.P("file.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1000000000);
  EXPECT_EQ(f->GetAttr()->mtime.tv_sec, 1000000000);
  // Rename with RENAME_NOREPLACE onto an existing name.
  EXPECT_EQ(root_->Rename("file.txt", root_.get(), "big.bin", RENAME_NOREPLACE), EEXIST);
  // xattrs (user.* only).
  if (f->SetXattr("user.k", "v", 0) == 0) {
    EXPECT_EQ(*f->GetXattr("user.k"), "v");
    EXPECT_EQ(f->ListXattr()->size(), 1u);
    EXPECT_EQ(f->RemoveXattr("user.k"), 0);
    EXPECT_EQ(f->GetXattr("user.k").error(), ENODATA);
  }
  EXPECT_EQ(f->SetXattr("trusted.k", "v", 0), EOPNOTSUPP);
}

TEST_F(GoferClientTest, SharedWritableMappingWritesBackAndReadsSeeIt) {
  Start(/*read_only=*/false);
  auto ino = std::static_pointer_cast<GoferInode>(Walk("dir/sub/nested.txt"));
  auto f = OpenFile(ino, O_RDWR);
  auto r = ino->Translate(0, 4096, /*write=*/true);
  ASSERT_TRUE(r.ok());
  uint8_t* p = mf_->Internal(r->start);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(p), 7), "nested\n");
  memcpy(p, "NESTED", 6);  // the application writes through its mapping
  EXPECT_EQ(PRead(*f, 7, 0), "NESTED\n");  // read() sees the mapping
  EXPECT_EQ(ReadHostFile(tree_.P("dir/sub/nested.txt")), "nested\n");
  ASSERT_EQ(f->Sync(), 0);
  EXPECT_EQ(ReadHostFile(tree_.P("dir/sub/nested.txt")), "NESTED\n");
  // write() lands in the mapping too.
  TestBuf src(std::string("ne"));
  ASSERT_EQ(f->PWrite(nullptr, src, 0).value(), 2);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(p), 7), "neSTED\n");
  mf_->DecRef(*r);
}

TEST_F(GoferClientTest, ConcurrentLookupsAndReads) {
  for (int i = 0; i < kManyEntries; i++) WriteFile(tree_.P("many/" + ManyName(i)), "");
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; t++) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; i++) {
        std::string name = ManyName(t * 50 + i);
        auto many = root_->Lookup("many");
        if (!many.ok() || !(*many)->Lookup(name).ok()) failures++;
        auto big = root_->Lookup("big.bin");
        if (!big.ok()) {
          failures++;
          continue;
        }
        auto f = (*big)->Open({O_RDONLY});
        if (!f.ok()) {
          failures++;
          continue;
        }
        (*f)->Init({}, O_RDONLY);
        TestBuf b(4096);
        uint64_t off = static_cast<uint64_t>(t * 50 + i) * 4096;
        if (!(*f)->PRead(nullptr, b, static_cast<int64_t>(off)).ok()) failures++;
        std::string got = b.consumed();
        for (size_t k = 0; k < got.size(); k += 97) {
          if (static_cast<uint8_t>(got[k]) != BigByte(off + k)) failures++;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(gfs().client().channel_count(), 1);
}

TEST(GoferClientConnect, FailsCleanlyWhenTheGoferIsGone) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  close(sv[1]);
  auto mf = sentry::MemoryFile::Create(1 << 24);
  ASSERT_TRUE(mf.ok());
  auto fs = sentry::goferfs::NewGoferFilesystem(sv[0], mf->get(), {});
  EXPECT_EQ(fs.error(), EIO);
}

}  // namespace
}  // namespace gofer_test
