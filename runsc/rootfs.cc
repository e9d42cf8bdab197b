#include "runsc/rootfs.h"

#include <sys/mount.h>

#include "absl/strings/str_format.h"
#include "fs/dev/devfs.h"
#include "fs/gofer/filesystem.h"
#include "fs/kernfs/kernfs.h"
#include "fs/proc/proc.h"
#include "fs/sys/sysfs.h"
#include "sentry/base/host.h"
#include "fs/overlay/overlay.h"
#include "fs/pipe/pipe.h"
#include "fs/tmpfs/tmpfs.h"
#include "runsc/isolation.h"
#include "sentry/base/log.h"

namespace runsc {
namespace {

absl::Status MountAt(sentry::vfs::VFS* vfs, const std::string& path,
                     std::shared_ptr<sentry::vfs::Filesystem> fs,
                     std::shared_ptr<sentry::vfs::Inode> root, uint32_t flags,
                     const std::string& source) {
  sentry::vfs::PathContext ctx;
  ctx.root = ctx.cwd = vfs->Root();
  auto at = vfs->Resolve(ctx, ctx.root, path, sentry::vfs::kFollow | sentry::vfs::kMustBeDir);
  if (!at.ok()) return sentry::ErrnoToStatus(at.error(), absl::StrFormat("mount point %s", path));
  auto m = vfs->NewMount(std::move(fs), std::move(root), flags, source);
  sentry::Errno e = vfs->Attach(m, *at);
  if (e != 0) return sentry::ErrnoToStatus(e, absl::StrFormat("mount %s", path));
  return absl::OkStatus();
}

}  // namespace

HostInfo SnapshotHostInfo() {
  HostInfo h;
  h.cpuinfo = ReadHostFile("/proc/cpuinfo");
  h.meminfo = ReadHostFile("/proc/meminfo");
  h.num_cpus = sentry::HostCpuCount();
  return h;
}

absl::Status SetupRootFs(sentry::vfs::VFS* vfs, sentry::MemoryFile* mf, int gofer_fd, bool overlay) {
  sentry::goferfs::GoferClientOptions gopts;
  gopts.read_only = overlay;
  auto gfs = sentry::goferfs::NewGoferFilesystem(gofer_fd, mf, gopts);
  if (!gfs.ok()) return sentry::ErrnoToStatus(gfs.error(), "connect to the gofer");
  std::shared_ptr<sentry::vfs::Inode> lower = sentry::goferfs::GoferRootInode(**gfs);
  std::shared_ptr<sentry::vfs::Filesystem> rootfs = *gfs;
  std::shared_ptr<sentry::vfs::Inode> root = lower;
  if (overlay) {
    // The writable layer lives in sandbox memory: nothing written inside
    // ever reaches the host.
    auto la = lower->GetAttr();
    sentry::tmpfs::TmpfsOptions topts;
    if (la.ok()) {
      topts.root_mode = la->mode & 07777;
      topts.root_uid = la->uid;
      topts.root_gid = la->gid;
    }
    auto upper = sentry::tmpfs::NewTmpfs(mf, topts);
    rootfs = sentry::overlay::NewOverlay(sentry::tmpfs::TmpfsRoot(upper.get()), lower, upper, *gfs);
    if (!rootfs) return absl::InternalError("cannot build the root overlay");
    root = sentry::overlay::OverlayRoot(rootfs.get());
  }
  vfs->SetRoot(vfs->NewMount(rootfs, root, 0, overlay ? "overlay" : "rootfs"));
  // FIFOs on any file system open as pipes.
  sentry::vfs::RegisterFifoOpener();
  return absl::OkStatus();
}

absl::Status MountSystemFs(sentry::vfs::VFS* vfs, sentry::Kernel* k, sentry::MemoryFile* mf,
                           const HostInfo& info) {
  sentry::proc::ProcOptions popts;
  popts.cpuinfo = info.cpuinfo;
  popts.meminfo = info.meminfo;
  popts.num_cpus = info.num_cpus;
  auto proc = sentry::proc::NewProcfs(k, popts);
  constexpr uint32_t kSpecial = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  if (auto s = MountAt(vfs, "/proc", proc, sentry::kernfs::RootInode(proc), kSpecial, "proc");
      !s.ok()) {
    return s;
  }
  auto dev = sentry::dev::NewDevfs(mf);
  if (auto s = MountAt(vfs, "/dev", dev, sentry::kernfs::RootInode(dev), MS_NOSUID, "devfs");
      !s.ok()) {
    return s;
  }
  auto shm = sentry::tmpfs::NewTmpfs(mf, sentry::tmpfs::TmpfsOptions{});
  if (auto s = MountAt(vfs, "/dev/shm", shm, sentry::tmpfs::TmpfsRoot(shm.get()),
                       MS_NOSUID | MS_NODEV, "shm");
      !s.ok()) {
    return s;
  }
  sentry::sysfs::SysfsOptions sopts;
  sopts.num_cpus = info.num_cpus;
  auto sys = sentry::sysfs::NewSysfs(sopts);
  return MountAt(vfs, "/sys", sys, sentry::kernfs::RootInode(sys), kSpecial | MS_RDONLY, "sysfs");
}

}  // namespace runsc
