// The ELF loader: static and dynamic executables, #! scripts, the initial
// stack and auxv, and execve's errors.
#include "sentry/loader/loader.h"

#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "fs/tmpfs/tmpfs.h"
#include "fs/vfs/iosequence.h"
#include "gtest/gtest.h"

namespace sentry {
namespace {

class LoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto mf = MemoryFile::Create(1ull << 32);
    ASSERT_TRUE(mf.ok());
    mf_ = std::move(*mf);
    fs_ = tmpfs::NewTmpfs(mf_.get(), tmpfs::TmpfsOptions{});
    vfs_.SetRoot(vfs_.NewMount(fs_, tmpfs::TmpfsRoot(fs_.get()), 0, "tmpfs"));
    ctx_.root = ctx_.cwd = vfs_.Root();
    ASSERT_EQ(vfs_.Mkdir(ctx_, ctx_.root, "/bin", 0755), 0);
  }

  void Put(const std::string& path, const std::string& data, uint32_t mode) {
    auto f = vfs_.Open(ctx_, ctx_.root, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
    ASSERT_TRUE(f.ok()) << f.error();
    std::string copy = data;
    BufferIOSequence io(copy.data(), copy.size());
    while (io.remaining() > 0) ASSERT_TRUE((*f)->Write(nullptr, io).ok());
  }
  void PutHost(const std::string& host, const std::string& path) {
    std::ifstream in(host, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    Put(path, ss.str(), 0755);
  }

  ErrorOr<LoadResult> Load(const std::string& path, std::vector<std::string> argv) {
    LoadRequest r;
    r.ctx = ctx_;
    r.start = ctx_.root;
    r.path = path;
    r.argv = std::move(argv);
    r.envv = {"A=1", "B=two"};
    r.resolve_flags = vfs::kFollow;
    r.vdso = 0;
    return LoadProgram(nullptr, mf_.get(), &vfs_, r);
  }

  uint64_t Word(MemoryManager* mm, uint64_t addr) {
    uint64_t v = 0;
    EXPECT_EQ(mm->CopyIn(UserAddr(addr), &v, 8), 0);
    return v;
  }
  std::string Str(MemoryManager* mm, uint64_t addr) {
    auto s = mm->CopyInString(UserAddr(addr), 4096);
    return s.ok() ? *s : "<fault>";
  }
  uint64_t Aux(const LoadResult& r, uint64_t type) {
    auto v = r.mm->auxv();
    for (size_t i = 0; i + 1 < v.size(); i += 2)
      if (v[i] == type) return v[i + 1];
    return ~0ull;
  }

  std::unique_ptr<MemoryFile> mf_;
  std::shared_ptr<vfs::Filesystem> fs_;
  vfs::VFS vfs_;
  vfs::PathContext ctx_;
};

TEST_F(LoaderTest, StaticExecutableStack) {
  if (access("/bin/busybox", R_OK) != 0) GTEST_SKIP() << "needs busybox-static";
  PutHost("/bin/busybox", "/bin/busybox");
  auto r = Load("/bin/busybox", {"busybox", "echo", "hi"});
  ASSERT_TRUE(r.ok()) << r.error();
  MemoryManager* mm = r->mm.get();
  EXPECT_EQ(r->sp % 16, 0u);
  EXPECT_EQ(Word(mm, r->sp), 3u);  // argc
  EXPECT_EQ(Str(mm, Word(mm, r->sp + 8)), "busybox");
  EXPECT_EQ(Str(mm, Word(mm, r->sp + 24)), "hi");
  EXPECT_EQ(Word(mm, r->sp + 32), 0u);  // argv terminator
  EXPECT_EQ(Str(mm, Word(mm, r->sp + 40)), "A=1");
  EXPECT_EQ(Str(mm, Word(mm, r->sp + 48)), "B=two");
  EXPECT_EQ(Word(mm, r->sp + 56), 0u);  // envp terminator
  EXPECT_EQ(Aux(*r, AT_BASE), 0u);      // no interpreter
  EXPECT_EQ(Aux(*r, AT_ENTRY), r->entry);
  EXPECT_EQ(Aux(*r, AT_PAGESZ), 4096u);
  EXPECT_EQ(Str(mm, Aux(*r, AT_EXECFN)), "/bin/busybox");
  EXPECT_EQ(Str(mm, Aux(*r, AT_PLATFORM)), "x86_64");
  // AT_PHDR points at the program headers in memory.
  Elf64_Phdr ph;
  ASSERT_EQ(mm->CopyIn(UserAddr(Aux(*r, AT_PHDR)), &ph, sizeof(ph)), 0);
  EXPECT_GT(Aux(*r, AT_PHNUM), 0u);
  EXPECT_EQ(Aux(*r, AT_PHENT), sizeof(Elf64_Phdr));
  // The entry point holds code.
  uint8_t b;
  EXPECT_EQ(mm->CopyIn(UserAddr(r->entry), &b, 1), 0);
  EXPECT_EQ(r->comm, "busybox");
}

TEST_F(LoaderTest, DynamicExecutableLoadsInterpreter) {
  if (access("/usr/bin/true", R_OK) != 0) GTEST_SKIP();
  PutHost("/usr/bin/true", "/bin/true");
  ASSERT_EQ(vfs_.Mkdir(ctx_, ctx_.root, "/lib64", 0755), 0);
  PutHost("/lib64/ld-linux-x86-64.so.2", "/lib64/ld-linux-x86-64.so.2");
  auto r = Load("/bin/true", {"true"});
  ASSERT_TRUE(r.ok()) << r.error();
  uint64_t base = Aux(*r, AT_BASE);
  EXPECT_NE(base, 0u);
  EXPECT_NE(Aux(*r, AT_ENTRY), r->entry);  // we start in the interpreter
  EXPECT_GE(r->entry, base);
  // A PIE main program is placed high, not at 0.
  EXPECT_GT(Aux(*r, AT_ENTRY), 0x100000u);
}

TEST_F(LoaderTest, MissingInterpreterIsEnoent) {
  if (access("/usr/bin/true", R_OK) != 0) GTEST_SKIP();
  PutHost("/usr/bin/true", "/bin/true");
  auto r = Load("/bin/true", {"true"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), ENOENT);
}

TEST_F(LoaderTest, ShebangPassesOneArgumentAndScriptPath) {
  if (access("/bin/busybox", R_OK) != 0) GTEST_SKIP() << "needs busybox-static";
  PutHost("/bin/busybox", "/bin/busybox");
  Put("/bin/script", "#!/bin/busybox  sh -e  \necho hi\n", 0755);
  auto r = Load("/bin/script", {"script", "x"});
  ASSERT_TRUE(r.ok()) << r.error();
  MemoryManager* mm = r->mm.get();
  EXPECT_EQ(Word(mm, r->sp), 4u);
  EXPECT_EQ(Str(mm, Word(mm, r->sp + 8)), "/bin/busybox");
  EXPECT_EQ(Str(mm, Word(mm, r->sp + 16)), "sh -e");  // the rest of the line, one argument
  EXPECT_EQ(Str(mm, Word(mm, r->sp + 24)), "/bin/script");
  EXPECT_EQ(Str(mm, Word(mm, r->sp + 32)), "x");
  EXPECT_EQ(r->comm, "script");
}

TEST_F(LoaderTest, Errors) {
  Put("/bin/garbage", std::string(512, 'z'), 0755);
  auto r = Load("/bin/garbage", {"g"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), ENOEXEC);

  Put("/bin/noexec", "#!/bin/sh\n", 0644);
  ctx_.creds.cap_effective = 0;  // root with DAC override could still not exec it
  r = Load("/bin/noexec", {"n"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), EACCES);

  r = Load("/bin/nonexistent", {"n"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), ENOENT);

  r = Load("/bin", {"d"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), EACCES);

  Put("/bin/loop", "#!/bin/loop\n", 0755);
  r = Load("/bin/loop", {"l"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), ELOOP);

  // A truncated ELF header.
  Put("/bin/short", std::string("\x7f" "ELF\x02\x01\x01", 7), 0755);
  r = Load("/bin/short", {"s"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), ENOEXEC);
}

TEST_F(LoaderTest, BssIsZeroed) {
  if (access("/bin/busybox", R_OK) != 0) GTEST_SKIP() << "needs busybox-static";
  PutHost("/bin/busybox", "/bin/busybox");
  auto r = Load("/bin/busybox", {"busybox"});
  ASSERT_TRUE(r.ok());
  // The break starts right after the bss and reads as zero up to it.
  uint64_t brk = r->mm->brk_start().value();
  uint8_t buf[64];
  ASSERT_EQ(r->mm->CopyIn(UserAddr(brk - sizeof(buf)), buf, sizeof(buf)), 0);
  for (uint8_t c : buf) EXPECT_EQ(c, 0);
}

}  // namespace
}  // namespace sentry
