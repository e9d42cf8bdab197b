// The /proc directory itself: the fixed entries, one directory per
// process, /proc/self and the system-wide files (fs/proc/root.c, base.c,
// stat.c, uptime.c, loadavg.c, version.c).
#include <dirent.h>

#include <algorithm>

#include "absl/strings/str_format.h"
#include "fs/proc/proc_internal.h"
#include "fs/sys/sysfs.h"

namespace sentry::proc {
namespace {

// /proc/self and /proc/thread-self: their text names the caller.
class SelfLink : public kernfs::KernInode {
 public:
  SelfLink(ProcFs* fs, bool thread) : KernInode(fs, S_IFLNK | 0777), thread_(thread) {}
  ErrorOr<std::string> ReadLink() override { return Err(ENOENT); }  // no caller: no self
  ErrorOr<std::string> ReadLinkFor(const vfs::PathContext& ctx) override {
    if (ctx.task == nullptr) return Err(ENOENT);
    if (thread_) return absl::StrFormat("%d/task/%d", ctx.task->tgid(), ctx.task->tid());
    return absl::StrFormat("%d", ctx.task->tgid());
  }

 private:
  const bool thread_;
};

class RootDir : public kernfs::DirBase {
 public:
  RootDir(ProcFs* fs, std::shared_ptr<kernfs::StaticDir> fixed)
      : DirBase(fs, 0555), fs_(fs), fixed_(std::move(fixed)) {}

  ErrorOr<std::shared_ptr<vfs::Inode>> Lookup(std::string_view name) override {
    auto f = fixed_->Lookup(name);
    if (f.ok()) return f;
    // Any thread's id works, though only processes are listed (Linux
    // lets /proc/<tid> be looked up for threads too).
    int64_t pid = ParseDecimalName(name);
    if (pid <= 0) return Err(ENOENT);
    TaskRef r = TRY_ASSIGN(RefFor(fs_, static_cast<int32_t>(pid), /*thread=*/false));
    return NewPidDir(r);
  }

  ErrorOr<std::vector<vfs::DirEntry>> ReadDir() override {
    std::vector<vfs::DirEntry> out = TRY_ASSIGN(fixed_->ReadDir());
    for (const auto& g : fs_->kernel()->AllGroups()) {
      TaskRef r{fs_, g->tgid(), false, {}};
      out.push_back(vfs::DirEntry{absl::StrFormat("%d", g->tgid()), TaskIno(r, ""), DT_DIR});
    }
    return out;
  }

 protected:
  Errno FillAttr(vfs::Attr& a) override {
    a.nlink = 2 + static_cast<uint32_t>(fs_->kernel()->AllGroups().size());
    for (const auto& [n, c] : fixed_->children()) {
      auto* k = dynamic_cast<kernfs::KernInode*>(c.get());
      if (k != nullptr && (k->mode() & S_IFMT) == S_IFDIR) a.nlink++;
    }
    return 0;
  }

 private:
  ProcFs* const fs_;
  const std::shared_ptr<kernfs::StaticDir> fixed_;
};

// Counts over every task, taken under one hold of tasks_mu_.
struct Census {
  int threads = 0;
  int32_t last_pid = 0;
  uint64_t busy_ns = 0;  // CPU time accounted so far (exited threads)
};

Census TakeCensus(Kernel* k) {
  std::vector<std::shared_ptr<ThreadGroup>> groups = k->AllGroups();
  Census c;
  absl::MutexLock l(&k->tasks_mu_);
  for (const auto& g : groups) {
    c.busy_ns += g->user_ns + g->sys_ns;
    for (Task* t : g->tasks) {
      c.threads++;
      c.last_pid = std::max(c.last_pid, t->tid());
    }
    c.last_pid = std::max(c.last_pid, g->tgid());
  }
  return c;
}

uint64_t Ticks(uint64_t ns) { return ns / kNsPerTick; }

std::string Stat(ProcFs* fs) {
  Kernel* k = fs->kernel();
  const int ncpu = std::max(1, fs->opts().num_cpus);
  Census c = TakeCensus(k);
  uint64_t up = Ticks(k->UptimeNs());
  uint64_t busy = Ticks(c.busy_ns);
  uint64_t idle = up * static_cast<uint64_t>(ncpu) > busy ? up * ncpu - busy : 0;
  // user nice system idle iowait irq softirq steal guest guest_nice; the
  // Sentry only knows CPU time in total, so it is all "user".
  std::string s = absl::StrFormat("cpu  %u 0 0 %u 0 0 0 0 0 0\n", busy, idle);
  for (int i = 0; i < ncpu; i++) {
    absl::StrAppendFormat(&s, "cpu%d %u 0 0 %u 0 0 0 0 0 0\n", i, busy / ncpu, idle / ncpu);
  }
  absl::StrAppendFormat(&s, "intr 0\nctxt 0\nbtime %d\nprocesses %u\nprocs_running 1\n",
                        fs->boot_time(), k->forks.load() + 1);
  s += "procs_blocked 0\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n";
  return s;
}

std::string Uptime(ProcFs* fs) {
  Kernel* k = fs->kernel();
  const uint64_t ncpu = static_cast<uint64_t>(std::max(1, fs->opts().num_cpus));
  uint64_t up_cs = k->UptimeNs() / 10000000;  // centiseconds
  uint64_t busy_cs = TakeCensus(k).busy_ns / 10000000;
  uint64_t idle_cs = up_cs * ncpu > busy_cs ? up_cs * ncpu - busy_cs : 0;
  return absl::StrFormat("%u.%02u %u.%02u\n", up_cs / 100, up_cs % 100, idle_cs / 100,
                         idle_cs % 100);
}

std::string LoadAvg(ProcFs* fs) {
  // No run-queue sampling: the averages stay at zero.
  Census c = TakeCensus(fs->kernel());
  return absl::StrFormat("0.00 0.00 0.00 1/%d %d\n", std::max(c.threads, 1), c.last_pid);
}

// Used when the boot code could not snapshot the host's files.
std::string FallbackCpuinfo(int ncpu) {
  std::string s;
  for (int i = 0; i < ncpu; i++) {
    absl::StrAppendFormat(&s,
                          "processor\t: %d\nvendor_id\t: unknown\nmodel name\t: unknown\n"
                          "cpu cores\t: %d\nflags\t\t: fpu sse sse2\n\n",
                          i, ncpu);
  }
  return s;
}

std::string FallbackMeminfo(Kernel* k) {
  uint64_t total_kb = k->memory_file()->capacity() / 1024;
  uint64_t used_kb = k->memory_file()->AllocatedBytes() / 1024;
  uint64_t free_kb = total_kb > used_kb ? total_kb - used_kb : 0;
  return absl::StrFormat(
      "%-16s%8u kB\n%-16s%8u kB\n%-16s%8u kB\n%-16s%8u kB\n%-16s%8u kB\n%-16s%8u kB\n"
      "%-16s%8u kB\n",
      "MemTotal:", total_kb, "MemFree:", free_kb, "MemAvailable:", free_kb, "Buffers:", 0,
      "Cached:", 0, "SwapTotal:", 0, "SwapFree:", 0);
}

// The file systems the sandbox can show, "nodev" marking those without a
// block device (fs/filesystems.c).
constexpr char kFilesystems[] =
    "nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\nnodev\tdevtmpfs\nnodev\tpipefs\n"
    "nodev\tanon_inodefs\nnodev\toverlay\nnodev\t9p\n";

}  // namespace

std::shared_ptr<vfs::Filesystem> NewProcfs(Kernel* k, const ProcOptions& opts) {
  auto fs = std::make_shared<ProcFs>(k, opts);
  ProcFs* f = fs.get();
  auto fixed = std::make_shared<kernfs::StaticDir>(f, 0555);
  fixed->Add("self", std::make_shared<SelfLink>(f, false));
  fixed->Add("thread-self", std::make_shared<SelfLink>(f, true));
  fixed->AddSymlink("mounts", "self/mounts");
  fixed->AddFile("cpuinfo", 0444, [f](Task*) -> ErrorOr<std::string> {
    return f->opts().cpuinfo.empty() ? FallbackCpuinfo(std::max(1, f->opts().num_cpus))
                                     : f->opts().cpuinfo;
  });
  fixed->AddFile("meminfo", 0444, [f](Task*) -> ErrorOr<std::string> {
    return f->opts().meminfo.empty() ? FallbackMeminfo(f->kernel()) : f->opts().meminfo;
  });
  fixed->AddFile("stat", 0444, [f](Task*) -> ErrorOr<std::string> { return Stat(f); });
  fixed->AddFile("uptime", 0444, [f](Task*) -> ErrorOr<std::string> { return Uptime(f); });
  fixed->AddFile("loadavg", 0444, [f](Task*) -> ErrorOr<std::string> { return LoadAvg(f); });
  fixed->AddText("version",
                 absl::StrFormat("Linux version %s (root@sandbox) (gcc (GCC) 12.2.0, GNU ld 2.40) %s\n",
                                 opts.release, opts.version));
  fixed->AddText("filesystems", kFilesystems);
  fixed->AddText("swaps", "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
  BuildSysctl(f, fixed->AddDir("sys").get());
  fs->set_root(std::make_shared<RootDir>(f, fixed));
  return fs;
}

}  // namespace sentry::proc
