// Helpers shared by the file system unit tests: a VFS rooted on a tmpfs,
// credentials, and small I/O wrappers.
#ifndef TESTS_UNIT_FS_TEST_UTIL_H_
#define TESTS_UNIT_FS_TEST_UTIL_H_

#include <sys/mount.h>

#include <memory>
#include <string>
#include <vector>

#include "fs/tmpfs/tmpfs.h"
#include "fs/vfs/vfs.h"
#include "gtest/gtest.h"
#include "sentry/mm/memory_file.h"

namespace sentry::testing {

inline vfs::Credentials UserCreds(uint32_t uid, uint32_t gid = 0) {
  vfs::Credentials c;
  c.uid = c.euid = c.suid = c.fsuid = uid;
  c.gid = c.egid = c.sgid = c.fsgid = gid ? gid : uid;
  c.cap_effective = 0;
  return c;
}

inline std::string ReadAll(vfs::FileDescription& fd, size_t max = 1 << 20) {
  std::string buf(max, '\0');
  BufferIOSequence io(buf.data(), buf.size());
  SysRet r = fd.Read(nullptr, io);
  if (!r.ok()) return "<errno " + std::to_string(r.error()) + ">";
  buf.resize(r.value());
  return buf;
}

inline int64_t WriteStr(vfs::FileDescription& fd, std::string_view s) {
  std::string copy(s);
  BufferIOSequence io(copy.data(), copy.size());
  SysRet r = fd.Write(nullptr, io);
  return r.value();
}

inline int64_t PWriteStr(vfs::FileDescription& fd, std::string_view s, int64_t off) {
  std::string copy(s);
  BufferIOSequence io(copy.data(), copy.size());
  return fd.PWrite(nullptr, io, off).value();
}

inline std::string PReadN(vfs::FileDescription& fd, size_t n, int64_t off) {
  std::string buf(n, '\0');
  BufferIOSequence io(buf.data(), buf.size());
  SysRet r = fd.PRead(nullptr, io, off);
  if (!r.ok()) return "<errno " + std::to_string(r.error()) + ">";
  buf.resize(r.value());
  return buf;
}

// Collects getdents records.
class VectorSink : public vfs::DirentSink {
 public:
  explicit VectorSink(size_t cap = 1 << 30) : cap_(cap) {}
  bool Add(const vfs::DirEntry& e, int64_t next_off) override {
    if (names.size() >= cap_) return false;
    names.push_back(e.name);
    offs.push_back(next_off);
    types.push_back(e.type);
    return true;
  }
  std::vector<std::string> names;
  std::vector<int64_t> offs;
  std::vector<uint8_t> types;

 private:
  size_t cap_;
};

class FsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto mf = MemoryFile::Create(1ull << 30);
    ASSERT_TRUE(mf.ok());
    mf_ = std::move(*mf);
    vfs_ = std::make_unique<vfs::VFS>();
    tmpfs::TmpfsOptions o;
    o.root_mode = 0755;
    root_fs_ = tmpfs::NewTmpfs(mf_.get(), o);
    auto m = vfs_->NewMount(root_fs_, tmpfs::TmpfsRoot(root_fs_.get()), 0, "none");
    vfs_->SetRoot(m);
    ctx_.root = ctx_.cwd = vfs_->Root();
    ctx_.umask = 0;  // tests spell out the modes they want
  }
  void TearDown() override { vfs_.reset(); }

  vfs::VirtualDentry Root() { return vfs_->Root(); }
  ErrorOr<vfs::VirtualDentry> Resolve(std::string_view p, uint32_t flags = vfs::kFollow) {
    return vfs_->Resolve(ctx_, ctx_.cwd, p, flags);
  }
  vfs::VirtualDentry Must(std::string_view p) {
    auto r = Resolve(p);
    EXPECT_TRUE(r.ok()) << p << ": " << r.error();
    return r.ok() ? *r : vfs::VirtualDentry{};
  }
  int ResolveErr(std::string_view p, uint32_t flags = vfs::kFollow) {
    auto r = Resolve(p, flags);
    return r.ok() ? 0 : r.error();
  }
  ErrorOr<std::shared_ptr<vfs::FileDescription>> Open(std::string_view p, uint32_t flags,
                                                      uint32_t mode = 0644, uint32_t resolve = 0) {
    return vfs_->Open(ctx_, ctx_.cwd, p, flags, mode, resolve);
  }
  int OpenErr(std::string_view p, uint32_t flags, uint32_t mode = 0644, uint32_t resolve = 0) {
    auto r = Open(p, flags, mode, resolve);
    return r.ok() ? 0 : r.error();
  }
  Errno Mkdir(std::string_view p, uint32_t mode = 0755) {
    return vfs_->Mkdir(ctx_, ctx_.cwd, p, mode);
  }
  Errno Touch(std::string_view p, uint32_t mode = 0644) {
    auto r = Open(p, O_CREAT | O_WRONLY, mode);
    return r.ok() ? 0 : r.error();
  }
  Errno Symlink(std::string_view target, std::string_view p) {
    return vfs_->Symlink(ctx_, target, ctx_.cwd, p);
  }
  vfs::Attr StatOf(std::string_view p, uint32_t flags = vfs::kFollow) {
    auto r = Resolve(p, flags);
    EXPECT_TRUE(r.ok()) << p;
    if (!r.ok()) return {};
    return *r->dentry->inode()->GetAttr();
  }
  // Mounts a fresh tmpfs at `p`.
  std::shared_ptr<vfs::Mount> MountTmpfs(std::string_view p, uint32_t flags = 0) {
    tmpfs::TmpfsOptions o;
    o.root_mode = 0777;
    auto fs = tmpfs::NewTmpfs(mf_.get(), o);
    auto m = vfs_->NewMount(fs, tmpfs::TmpfsRoot(fs.get()), flags, "tmpfs");
    EXPECT_EQ(vfs_->Attach(m, Must(p)), 0);
    return m;
  }
  std::vector<std::string> List(std::string_view p) {
    auto fd = Open(p, O_RDONLY | O_DIRECTORY);
    EXPECT_TRUE(fd.ok());
    if (!fd.ok()) return {};
    VectorSink s;
    SysRet r = (*fd)->IterDirents(nullptr, s);
    EXPECT_TRUE(r.ok());
    return s.names;
  }

  std::unique_ptr<MemoryFile> mf_;
  std::shared_ptr<vfs::Filesystem> root_fs_;
  std::unique_ptr<vfs::VFS> vfs_;
  vfs::PathContext ctx_;
};

}  // namespace sentry::testing

#endif  // TESTS_UNIT_FS_TEST_UTIL_H_
