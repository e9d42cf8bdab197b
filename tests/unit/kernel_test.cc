// The kernel end to end, without the Gofer: a tmpfs root holding a static
// busybox copied from the host, run on the ptrace platform.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "fs/host/host_file.h"
#include "fs/tmpfs/tmpfs.h"
#include "fs/vfs/iosequence.h"
#include "fs/vfs/vfs.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "sentry/base/log.h"
#include "sentry/kernel/kernel.h"

namespace sentry {
namespace {

constexpr char kBusybox[] = "/bin/busybox";

class KernelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kBusybox, X_OK) != 0) GTEST_SKIP() << "needs busybox-static at " << kBusybox;
    auto mf = MemoryFile::Create(1ull << 34);
    ASSERT_TRUE(mf.ok());
    mf_ = std::move(*mf);
    auto p = CreatePlatform("ptrace", mf_.get());
    ASSERT_TRUE(p.ok()) << p.status();
    platform_ = std::move(*p);
    vfs_ = std::make_unique<vfs::VFS>();
    auto fs = tmpfs::NewTmpfs(mf_.get(), tmpfs::TmpfsOptions{});
    vfs_->SetRoot(vfs_->NewMount(fs, tmpfs::TmpfsRoot(fs.get()), 0, "tmpfs"));
    ctx_.root = ctx_.cwd = vfs_->Root();
    ASSERT_EQ(vfs_->Mkdir(ctx_, ctx_.root, "/bin", 0755), 0);
    ASSERT_EQ(vfs_->Mkdir(ctx_, ctx_.root, "/tmp", 01777), 0);
    CopyIn(kBusybox, "/bin/busybox", 0755);
    for (const char* applet : {"cat", "wc", "sh", "echo"}) {
      ASSERT_EQ(vfs_->Symlink(ctx_, "busybox", ctx_.root, std::string("/bin/") + applet), 0);
    }
  }

  void CopyIn(const std::string& host, const std::string& path, uint32_t mode) {
    std::ifstream in(host, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string data = ss.str();
    auto f = vfs_->Open(ctx_, ctx_.root, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
    ASSERT_TRUE(f.ok()) << f.error();
    BufferIOSequence io(data.data(), data.size());
    while (io.remaining() > 0) {
      SysRet r = (*f)->Write(nullptr, io);
      ASSERT_TRUE(r.ok()) << r.error();
    }
  }

  // Runs argv with stdout captured; returns the wait status.
  int Run(std::vector<std::string> argv, std::string* out, const std::string& stdin_data = "") {
    KernelOptions ko;
    ko.strace = getenv("KTEST_STRACE") != nullptr;
    if (ko.strace) SetLogLevel(LogLevel::kDebug);
    Kernel k(platform_.get(), mf_.get(), vfs_.get(), ko);
    int opipe[2], ipipe[2];
    EXPECT_EQ(pipe2(opipe, O_CLOEXEC), 0);
    EXPECT_EQ(pipe2(ipipe, O_CLOEXEC), 0);
    EXPECT_EQ(write(ipipe[1], stdin_data.data(), stdin_data.size()),
              static_cast<ssize_t>(stdin_data.size()));
    close(ipipe[1]);
    InitSpec spec;
    spec.path = argv[0];
    spec.argv = argv;
    spec.envv = {"PATH=/bin", "HOME=/"};
    spec.stdio = {*vfs::NewHostFile(ipipe[0], O_RDONLY), *vfs::NewHostFile(opipe[1], O_WRONLY),
                  *vfs::NewHostFile(dup(2), O_WRONLY)};
    auto s = k.StartInit(spec);
    EXPECT_TRUE(s.ok()) << s;
    spec.stdio.clear();
    int status = s.ok() ? k.WaitForInit() : -1;
    out->clear();
    char buf[4096];
    ssize_t n;
    while ((n = read(opipe[0], buf, sizeof(buf))) > 0) out->append(buf, static_cast<size_t>(n));
    close(opipe[0]);
    return status;
  }

  std::unique_ptr<MemoryFile> mf_;
  std::unique_ptr<Platform> platform_;
  std::unique_ptr<vfs::VFS> vfs_;
  vfs::PathContext ctx_;
};

TEST_F(KernelTest, EchoHello) {
  std::string out;
  int st = Run({"/bin/busybox", "echo", "hello"}, &out);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
  EXPECT_EQ(out, "hello\n");
}

TEST_F(KernelTest, ExitStatusPassesThrough) {
  std::string out;
  int st = Run({"/bin/busybox", "sh", "-c", "exit 42"}, &out);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 42) << st;
}

TEST_F(KernelTest, ShellPipelineForksAndExecs) {
  std::string out;
  int st = Run({"/bin/busybox", "sh", "-c",
                "for i in 1 2 3; do echo line$i; done | /bin/busybox wc -l; echo $((6*7))"},
               &out);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
  EXPECT_EQ(out, "3\n42\n");
}

TEST_F(KernelTest, KilledBySignal) {
  std::string out;
  int st = Run({"/bin/busybox", "sh", "-c", "kill -SEGV $$"}, &out);
  EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV) << st;
}

TEST_F(KernelTest, ReadsStdinAndWritesFiles) {
  std::string out;
  int st = Run({"/bin/busybox", "sh", "-c", "cat > /tmp/x; cat /tmp/x /tmp/x"}, &out, "abc\n");
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
  EXPECT_EQ(out, "abc\nabc\n");
}

}  // namespace
}  // namespace sentry
