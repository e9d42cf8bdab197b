// /dev and /sys: device nodes, the memory devices' semantics, the fd
// links, and the read-only sysfs files.
#include <sys/sysmacros.h>

#include "fs/dev/devices.h"
#include "fs/pipe/pipe.h"
#include "fs/vfs/device.h"
#include "tests/unit/proc_test_util.h"

namespace sentry::testing {
namespace {

class DevfsTest : public KernelFixture {};

TEST_F(DevfsTest, NodesAreCharDevicesWithLinuxNumbersAndModes) {
  struct Want {
    const char* path;
    uint32_t major, minor, gid;
  } want[] = {{"/dev/null", 1, 3, 0},   {"/dev/zero", 1, 5, 0},    {"/dev/full", 1, 7, 0},
              {"/dev/random", 1, 8, 0}, {"/dev/urandom", 1, 9, 0}, {"/dev/tty", 5, 0, 5}};
  for (const Want& w : want) {
    ASSERT_OK_ASSIGN(a, Stat(nullptr, w.path));
    EXPECT_EQ(a.mode, S_IFCHR | 0666u) << w.path;
    EXPECT_EQ(a.rdev, makedev(w.major, w.minor)) << w.path;
    EXPECT_EQ(a.uid, 0u) << w.path;
    EXPECT_EQ(a.gid, w.gid) << w.path;
  }
  ASSERT_OK_ASSIGN(shm, Stat(nullptr, "/dev/shm"));
  EXPECT_EQ(shm.mode, S_IFDIR | 01777u);
  ASSERT_OK_ASSIGN(pts, Stat(nullptr, "/dev/pts"));
  EXPECT_EQ(pts.mode, S_IFDIR | 0755u);
  // /dev/ptmx links to pts/ptmx, which appears once devpts is mounted on
  // /dev/pts (the boot code does that; this fixture does not).
  ASSERT_OK_ASSIGN(ptmx, Stat(nullptr, "/dev/ptmx", /*follow=*/false));
  EXPECT_EQ(ptmx.mode & S_IFMT, static_cast<uint32_t>(S_IFLNK));
  EXPECT_EQ(Stat(nullptr, "/dev/ptmx").error(), ENOENT);
}

TEST_F(DevfsTest, NullReadsEofAndSwallowsWrites) {
  ASSERT_OK_ASSIGN(f, Open(nullptr, "/dev/null", O_RDWR));
  char buf[16] = {1};
  BufferIOSequence in(buf, sizeof(buf));
  EXPECT_EQ(f->Read(nullptr, in).value(), 0);
  BufferIOSequence out(buf, sizeof(buf));
  EXPECT_EQ(f->Write(nullptr, out).value(), 16);
  EXPECT_EQ(*f->Seek(100, SEEK_SET), 0);  // null_lseek
}

TEST_F(DevfsTest, ZeroReadsZeros) {
  ASSERT_OK_ASSIGN(f, Open(nullptr, "/dev/zero", O_RDWR));
  std::string buf(10000, 'x');
  BufferIOSequence in(buf.data(), buf.size());
  EXPECT_EQ(f->Read(nullptr, in).value(), 10000);
  EXPECT_EQ(buf, std::string(10000, '\0'));
  BufferIOSequence out(buf.data(), 5);
  EXPECT_EQ(f->Write(nullptr, out).value(), 5);
}

TEST_F(DevfsTest, FullFailsWritesWithEnospc) {
  ASSERT_OK_ASSIGN(f, Open(nullptr, "/dev/full", O_RDWR));
  char buf[8] = {1, 2, 3};
  BufferIOSequence out(buf, sizeof(buf));
  EXPECT_EQ(f->Write(nullptr, out).error(), ENOSPC);
  BufferIOSequence in(buf, sizeof(buf));
  EXPECT_EQ(f->Read(nullptr, in).value(), 8);
  EXPECT_EQ(std::string(buf, 8), std::string(8, '\0'));
}

TEST_F(DevfsTest, UrandomIsNotConstantAndAcceptsWrites) {
  ASSERT_OK_ASSIGN(f, Open(nullptr, "/dev/urandom", O_RDWR));
  std::string a(64, '\0'), b(64, '\0');
  BufferIOSequence ia(a.data(), a.size()), ib(b.data(), b.size());
  ASSERT_EQ(f->Read(nullptr, ia).value(), 64);
  ASSERT_EQ(f->Read(nullptr, ib).value(), 64);
  EXPECT_NE(a, b);
  EXPECT_NE(a, std::string(64, '\0'));
  BufferIOSequence out(a.data(), 3);
  EXPECT_EQ(f->Write(nullptr, out).value(), 3);
  ASSERT_OK_ASSIGN(r, Open(nullptr, "/dev/random"));
  BufferIOSequence ir(a.data(), 16);
  EXPECT_EQ(r->Read(nullptr, ir).value(), 16);
}

TEST_F(DevfsTest, TtyWithoutControllingTerminalIsEnxio) {
  EXPECT_EQ(Open(nullptr, "/dev/tty", O_RDWR).error(), ENXIO);
}

TEST_F(DevfsTest, TreeIsFixed) {
  vfs::PathContext c = Ctx(nullptr);
  EXPECT_EQ(vfs_->Mknod(c, c.cwd, "/dev/foo", S_IFCHR | 0600, makedev(1, 3)), EPERM);
  EXPECT_EQ(vfs_->Mkdir(c, c.cwd, "/dev/dir", 0755), EPERM);
  EXPECT_EQ(vfs_->Unlink(c, c.cwd, "/dev/null"), EPERM);
}

TEST_F(DevfsTest, StdioLinksGoThroughProcSelfFd) {
  auto t = NewProcess();
  EXPECT_EQ(*ReadLink(t.get(), "/dev/stdin"), "/proc/self/fd/0");
  EXPECT_EQ(*ReadLink(t.get(), "/dev/stdout"), "/proc/self/fd/1");
  EXPECT_EQ(*ReadLink(t.get(), "/dev/stderr"), "/proc/self/fd/2");
  EXPECT_EQ(*ReadLink(t.get(), "/dev/fd"), "/proc/self/fd");
  // With a pipe as stdout, "echo hi > /dev/stdout" writes into the pipe.
  auto [r, w] = vfs::Pipe::NewPair(0, 0, 0);
  ASSERT_TRUE(t->fds()->Set(1, w, false, 1024).ok());
  ASSERT_OK_ASSIGN(out, Open(t.get(), "/dev/stdout", O_WRONLY | O_CREAT | O_TRUNC));
  std::string msg = "hi\n";
  BufferIOSequence src(msg.data(), msg.size());
  ASSERT_EQ(out->Write(t.get(), src).value(), 3);
  char buf[8];
  BufferIOSequence dst(buf, sizeof(buf));
  ASSERT_EQ(r->Read(t.get(), dst).value(), 3);
  EXPECT_EQ(std::string(buf, 3), "hi\n");
}

TEST_F(DevfsTest, ZeroMappingsAreZeroAndSharedOnesShared) {
  ASSERT_OK_ASSIGN(f, Open(nullptr, "/dev/zero", O_RDWR));
  ASSERT_OK_ASSIGN(m, f->GetMappable());
  MemoryManager mm(nullptr, mf_.get());
  mm.SetMmapBase(0x7f0000000000);
  MMapOpts o;
  o.length = 3 * kPageSize;
  o.prot = PROT_READ | PROT_WRITE;
  o.shared = true;
  o.mappable = m;
  ASSERT_OK_ASSIGN(a, mm.MMap(o));
  o.addr = UserAddr();
  ASSERT_OK_ASSIGN(b, mm.MMap(o));  // a second view of the same object
  uint64_t v = 1;
  ASSERT_EQ(mm.CopyIn(a + kPageSize, &v, sizeof(v)), 0);
  EXPECT_EQ(v, 0u);
  v = 0xdeadbeef;
  ASSERT_EQ(mm.CopyOut(a + 2 * kPageSize + 8, &v, sizeof(v)), 0);
  uint64_t w = 0;
  ASSERT_EQ(mm.CopyIn(b + 2 * kPageSize + 8, &w, sizeof(w)), 0);
  EXPECT_EQ(w, v);
  // Each mmap of /dev/zero is a new object.
  ASSERT_OK_ASSIGN(m2, f->GetMappable());
  EXPECT_NE(m2.get(), m.get());
}

TEST_F(DevfsTest, NodesElsewhereOpenTheRegisteredDevice) {
  // The registry serves any node with the numbers, not just devfs's.
  ASSERT_OK_ASSIGN(f, vfs::OpenCharDevice(makedev(1, 7), vfs::VirtualDentry{}, O_WRONLY, nullptr));
  char c = 0;
  BufferIOSequence out(&c, 1);
  EXPECT_EQ(f->Write(nullptr, out).error(), ENOSPC);
}

TEST_F(DevfsTest, SysfsCpuFilesAndReadOnly) {
  EXPECT_EQ(*ReadFile(nullptr, "/sys/devices/system/cpu/online"), "0-1\n");
  EXPECT_EQ(*ReadFile(nullptr, "/sys/devices/system/cpu/possible"), "0-1\n");
  EXPECT_EQ(*ReadFile(nullptr, "/sys/devices/system/cpu/present"), "0-1\n");
  ASSERT_OK_ASSIGN(cpus, List(nullptr, "/sys/devices/system/cpu"));
  EXPECT_NE(std::find(cpus.begin(), cpus.end(), "cpu0"), cpus.end());
  EXPECT_NE(std::find(cpus.begin(), cpus.end(), "cpu1"), cpus.end());
  EXPECT_EQ(std::find(cpus.begin(), cpus.end(), "cpu2"), cpus.end());
  EXPECT_EQ(*ReadFile(nullptr, "/sys/kernel/mm/transparent_hugepage/enabled"),
            "always [madvise] never\n");
  ASSERT_OK_ASSIGN(cg, Stat(nullptr, "/sys/fs/cgroup"));
  EXPECT_TRUE(cg.IsDir());
  ASSERT_OK_ASSIGN(cgl, List(nullptr, "/sys/fs/cgroup"));
  EXPECT_TRUE(cgl.empty());
  // Mounted read-only, as Docker does.
  EXPECT_EQ(Open(nullptr, "/sys/devices/system/cpu/online", O_WRONLY).error(), EROFS);
  ASSERT_OK_ASSIGN(on, Stat(nullptr, "/sys/devices/system/cpu/online"));
  EXPECT_EQ(on.mode, S_IFREG | 0444u);
  EXPECT_EQ(sysfs::CpuList(1), "0");
  EXPECT_EQ(sysfs::CpuList(8), "0-7");
}

}  // namespace
}  // namespace sentry::testing
