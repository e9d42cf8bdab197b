// A kernel without a platform for testing /proc, /dev and /sys: a real
// Kernel, VFS and MemoryFile, a fake Platform whose contexts never run,
// and processes built the way Kernel::StartInit and Clone build them
// (ThreadGroup, Task, MemoryManager, FDTable, FSContext) but never started.
#ifndef TESTS_UNIT_PROC_TEST_UTIL_H_
#define TESTS_UNIT_PROC_TEST_UTIL_H_

#include <elf.h>
#include <sys/mount.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "fs/dev/devfs.h"
#include "fs/kernfs/kernfs.h"
#include "fs/proc/proc.h"
#include "fs/sys/sysfs.h"
#include "gtest/gtest.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"

namespace sentry::testing {

class FakeContext : public Context {
 public:
  SwitchResult Switch(AddressSpace*, ArchContext&) override { return {StopReason::kDead}; }
  void Interrupt() override {}
  void PullFpState(ArchContext&) override {}
  Errno PrepareSibling(AddressSpace*, Context&) override { return ENOSYS; }
  void Release() override {}
  uint64_t AppCpuTimeNs() override { return 0; }
};

class FakePlatform : public Platform {
 public:
  std::string_view Name() const override { return "fake"; }
  ErrorOr<std::unique_ptr<AddressSpace>> NewAddressSpace() override { return Err(ENOSYS); }
  std::unique_ptr<Context> NewContext() override { return std::make_unique<FakeContext>(); }
  std::vector<AddrRange> ReservedRanges() const override { return {}; }
  uint64_t VdsoAddress() const override { return 0; }
};

// What a test process starts with.
struct ProcessSpec {
  std::string comm = "testproc";
  std::vector<std::string> argv = {"/bin/testproc", "-x", "arg two"};
  std::vector<std::string> envv = {"HOME=/root", "PATH=/bin"};
  vfs::Credentials creds;
  std::shared_ptr<Task> parent;  // null: a child of nobody, its own session
};

// `auto name = value of expr`, failing the test (with the errno) if expr,
// an ErrorOr, holds an error.
#define ASSERT_OK_ASSIGN(name, expr)                                   \
  auto name##_or = (expr);                                             \
  ASSERT_TRUE(name##_or.ok()) << #expr << ": errno " << name##_or.error(); \
  auto name = std::move(name##_or).value()

// Splits s at `sep` (empty fields kept).
inline std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t i = s.find(sep, start);
    if (i == std::string::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, i - start));
    start = i + 1;
  }
}

class KernelFixture : public ::testing::Test {
 protected:
  static constexpr int kCpus = 2;
  static constexpr uint64_t kStackBase = 0x7ffff0000000ull;
  static constexpr uint64_t kTextBase = 0x555555554000ull;

  void SetUp() override {
    auto mf = MemoryFile::Create(1ull << 30);
    ASSERT_TRUE(mf.ok());
    mf_ = std::move(*mf);
    vfs_ = std::make_unique<vfs::VFS>();
    // The root: a fixed tree with the usual mount points and a program.
    rootfs_ = std::make_shared<kernfs::KernFs>("rootfs", 0x858458f6, true, EPERM);
    auto root = std::make_shared<kernfs::StaticDir>(rootfs_.get(), 0755);
    root->AddDir("proc", 0555);
    root->AddDir("dev", 0755);
    root->AddDir("sys", 0555);
    root->AddDir("bin", 0755)->AddText("testproc", "\x7f" "ELF", 0755);
    root->AddDir("my dir", 0755);
    rootfs_->set_root(root);
    vfs_->SetRoot(vfs_->NewMount(rootfs_, root, 0, "/dev/root"));
    kernel_ = std::make_unique<Kernel>(&platform_, mf_.get(), vfs_.get(), KernelOptions{});

    proc::ProcOptions po;
    po.num_cpus = kCpus;
    po.cpuinfo = "processor\t: 0\n\nprocessor\t: 1\n\n";
    po.meminfo = "MemTotal:       16000000 kB\nMemFree:        8000000 kB\n";
    Mount(proc::NewProcfs(kernel_.get(), po), "/proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "proc");
    Mount(dev::NewDevfs(mf_.get()), "/dev", MS_NOSUID, "udev");
    Mount(sysfs::NewSysfs({kCpus}), "/sys", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
          "sysfs");
  }

  void TearDown() override {
    tasks_.clear();
    kernel_.reset();
    vfs_.reset();
  }

  void Mount(std::shared_ptr<vfs::Filesystem> fs, const std::string& path, uint32_t flags,
             const std::string& source) {
    auto at = vfs_->Resolve(Ctx(nullptr), vfs_->Root(), path, vfs::kFollow | vfs::kMustBeDir);
    ASSERT_TRUE(at.ok()) << path;
    auto root = kernfs::RootInode(fs);
    ASSERT_NE(root, nullptr);
    ASSERT_EQ(vfs_->Attach(vfs_->NewMount(std::move(fs), root, flags, source), *at), 0);
  }

  // A process with one thread, registered in the kernel like a forked one,
  // with an argument area, a "text" mapping and a stack.
  std::shared_ptr<Task> NewProcess(const ProcessSpec& spec = {}) {
    Kernel* k = kernel_.get();
    std::shared_ptr<Task> task;
    {
      absl::MutexLock l(&k->tasks_mu_);
      int32_t pid = *k->AllocPidLocked();
      auto tg = std::make_shared<ThreadGroup>(k, pid, std::make_shared<SignalHandlers>());
      tg->start_ns = k->UptimeNs();
      if (spec.parent) {
        ThreadGroup* p = spec.parent->tg();
        tg->parent = p;
        p->children.push_back(tg.get());
        k->JoinProcessGroupLocked(tg.get(), p->pgrp);
      } else {
        Session* s = k->CreateSessionLocked(pid);
        k->JoinProcessGroupLocked(tg.get(), k->CreateProcessGroupLocked(pid, s));
      }
      task = std::make_shared<Task>(k, tg, pid);
      tg->leader = task.get();
      tg->tasks.push_back(task.get());
      k->RegisterGroupLocked(tg);
      k->RegisterTaskLocked(task);
    }
    task->SetCreds(spec.creds);
    task->SetComm(spec.comm);
    vfs::VirtualDentry root = vfs_->Root();
    task->SetFS(std::make_shared<FSContext>(root, root, 022));
    task->SetFDTable(std::make_shared<FDTable>());
    auto mm = std::make_shared<MemoryManager>(nullptr, mf_.get());
    mm->SetMmapBase(0x7f0000000000);
    MMapOpts text;
    text.length = 2 * kPageSize;
    text.addr = UserAddr(kTextBase);
    text.fixed = true;
    text.prot = PROT_READ | PROT_EXEC;
    text.name = "/bin/testproc";
    EXPECT_TRUE(mm->MMap(text).ok());
    MMapOpts stack;
    stack.length = 16 * kPageSize;
    stack.addr = UserAddr(kStackBase);
    stack.fixed = true;
    stack.prot = PROT_READ | PROT_WRITE;
    stack.growsdown = true;
    stack.name = "[stack]";
    EXPECT_TRUE(mm->MMap(stack).ok());
    std::string args, envs;
    for (const std::string& a : spec.argv) args.append(a).push_back('\0');
    for (const std::string& e : spec.envv) envs.append(e).push_back('\0');
    uint64_t a0 = kStackBase + 8 * kPageSize;
    EXPECT_EQ(mm->CopyOut(UserAddr(a0), args.data(), args.size()), 0);
    EXPECT_EQ(mm->CopyOut(UserAddr(a0 + args.size()), envs.data(), envs.size()), 0);
    mm->SetArgvRange({a0, a0 + args.size()}, {a0 + args.size(), a0 + args.size() + envs.size()});
    mm->SetExecutablePath("/bin/testproc");
    auto exe = vfs_->Resolve(Ctx(nullptr), root, "/bin/testproc", vfs::kFollow);
    EXPECT_TRUE(exe.ok());
    if (exe.ok()) mm->SetExecutable(*exe);
    mm->SetAuxv({AT_PAGESZ, kPageSize, AT_NULL, 0});
    task->SetMM(mm);
    tasks_.push_back(task);
    return task;
  }

  // Another thread of t's process.
  std::shared_ptr<Task> NewThread(const std::shared_ptr<Task>& t) {
    Kernel* k = kernel_.get();
    std::shared_ptr<Task> c;
    {
      absl::MutexLock l(&k->tasks_mu_);
      c = std::make_shared<Task>(k, t->tg_ptr(), *k->AllocPidLocked());
      t->tg()->tasks.push_back(c.get());
      k->RegisterTaskLocked(c);
    }
    c->SetMM(t->mm_ptr());
    c->SetFDTable(t->fds_ptr());
    c->SetFS(t->fs_ptr());
    c->SetCreds(t->creds());
    c->SetComm(t->comm());
    tasks_.push_back(c);
    return c;
  }

  // Takes t's process out of the kernel as if it exited and was reaped.
  void Reap(const std::shared_ptr<Task>& t) {
    Kernel* k = kernel_.get();
    absl::MutexLock l(&k->tasks_mu_);
    ThreadGroup* g = t->tg();
    for (Task* o : g->tasks) {
      if (o != g->leader) k->UnregisterTaskLocked(o->tid());
    }
    g->tasks.clear();
    g->zombie = true;
    k->ReapLocked(g);
  }

  // Path operations as task `t` (null: the Sentry itself, with root's
  // credentials and no caller).
  vfs::PathContext Ctx(Task* t) {
    if (t != nullptr) return t->PathCtx();
    vfs::PathContext c;
    c.root = c.cwd = vfs_->Root();
    return c;
  }

  ErrorOr<std::shared_ptr<vfs::FileDescription>> Open(Task* t, const std::string& path,
                                                      uint32_t flags = O_RDONLY) {
    vfs::PathContext c = Ctx(t);
    return vfs_->Open(c, c.cwd, path, flags, 0);
  }

  // Reads to EOF in small pieces, so one snapshot must serve many reads.
  ErrorOr<std::string> ReadAll(Task* t, vfs::FileDescription* f) {
    std::string out;
    char buf[97];
    for (;;) {
      BufferIOSequence io(buf, sizeof(buf));
      SysRet r = f->Read(t, io);
      if (!r.ok()) return Err(r.error());
      if (r.value() == 0) return out;
      out.append(buf, static_cast<size_t>(r.value()));
    }
  }

  ErrorOr<std::string> ReadFile(Task* t, const std::string& path) {
    auto f = TRY_ASSIGN(Open(t, path));
    return ReadAll(t, f.get());
  }

  SysRet WriteFile(Task* t, const std::string& path, std::string data) {
    auto f = Open(t, path, O_WRONLY | O_TRUNC);
    if (!f.ok()) return SysRet::Err(f.error());
    BufferIOSequence io(data.data(), data.size());
    return (*f)->Write(t, io);
  }

  ErrorOr<std::string> ReadLink(Task* t, const std::string& path) {
    vfs::PathContext c = Ctx(t);
    return vfs_->ReadLink(c, c.cwd, path, 0);
  }

  ErrorOr<vfs::Attr> Stat(Task* t, const std::string& path, bool follow = true) {
    vfs::PathContext c = Ctx(t);
    auto vd = TRY_ASSIGN(vfs_->Resolve(c, c.cwd, path, follow ? vfs::kFollow : 0u));
    return vd.dentry->inode()->GetAttr();
  }

  // Names in a directory, without "." and "..".
  ErrorOr<std::vector<std::string>> List(Task* t, const std::string& path) {
    auto f = TRY_ASSIGN(Open(t, path, O_RDONLY | O_DIRECTORY));
    struct Sink : vfs::DirentSink {
      std::vector<std::string> names;
      bool Add(const vfs::DirEntry& e, int64_t) override {
        if (e.name != "." && e.name != "..") names.push_back(e.name);
        return true;
      }
    } sink;
    for (;;) {
      SysRet r = f->IterDirents(t, sink);
      if (!r.ok()) return Err(r.error());
      if (r.value() == 0) return sink.names;
    }
  }

  // "/proc/<tgid>/<rest>".
  static std::string P(const std::shared_ptr<Task>& t, const std::string& rest) {
    return "/proc/" + std::to_string(t->tgid()) + "/" + rest;
  }
  static bool Has(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  }

  std::unique_ptr<MemoryFile> mf_;
  std::unique_ptr<vfs::VFS> vfs_;
  FakePlatform platform_;
  std::unique_ptr<Kernel> kernel_;
  std::shared_ptr<kernfs::KernFs> rootfs_;
  std::vector<std::shared_ptr<Task>> tasks_;  // keeps every task alive for the test
};

}  // namespace sentry::testing

#endif  // TESTS_UNIT_PROC_TEST_UTIL_H_
