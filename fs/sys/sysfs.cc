// sysfs (see sysfs.h).
#include "fs/sys/sysfs.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_format.h"
#include "fs/kernfs/kernfs.h"

namespace sentry::sysfs {
namespace {
constexpr uint64_t kSysfsMagic = 0x62656572;
}  // namespace

std::string CpuList(int num_cpus) {
  if (num_cpus <= 1) return "0";
  return absl::StrFormat("0-%d", num_cpus - 1);
}

std::shared_ptr<vfs::Filesystem> NewSysfs(const SysfsOptions& opts) {
  const int ncpu = std::max(1, opts.num_cpus);
  auto fs = std::make_shared<kernfs::KernFs>("sysfs", kSysfsMagic, /*cache_dentries=*/true,
                                             /*create_errno=*/EPERM);
  kernfs::KernFs* f = fs.get();
  auto root = std::make_shared<kernfs::StaticDir>(f, 0555);

  auto devices = root->AddDir("devices");
  auto cpu = devices->AddDir("system")->AddDir("cpu");
  std::string list = CpuList(ncpu) + "\n";
  cpu->AddText("online", list);
  cpu->AddText("possible", list);
  cpu->AddText("present", list);
  cpu->AddText("offline", "\n");
  // NR_CPUS - 1 of a distribution kernel.
  cpu->AddText("kernel_max", "8191\n");
  for (int i = 0; i < ncpu; i++) {
    auto c = cpu->AddDir(absl::StrFormat("cpu%d", i));
    // cpu0 usually cannot be taken offline and has no "online" file.
    if (i > 0) c->AddText("online", "1\n");
  }

  auto thp = root->AddDir("kernel")->AddDir("mm")->AddDir("transparent_hugepage");
  thp->AddText("enabled", "always [madvise] never\n");
  thp->AddText("defrag", "always defer defer+madvise [madvise] never\n");
  thp->AddText("hpage_pmd_size", "2097152\n");

  root->AddDir("fs")->AddDir("cgroup");
  for (const char* d : {"block", "bus", "class", "dev"}) root->AddDir(d);
  fs->set_root(root);
  return fs;
}

}  // namespace sentry::sysfs
