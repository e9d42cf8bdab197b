#include "runsc/rootfs.h"

#include <fcntl.h>
#include <sys/mount.h>

#include "absl/strings/str_format.h"
#include "fs/dev/devfs.h"
#include "fs/devpts/devpts.h"
#include "fs/gofer/filesystem.h"
#include "fs/kernfs/kernfs.h"
#include "fs/proc/proc.h"
#include "fs/sys/sysfs.h"
#include "sentry/base/host.h"
#include "fs/overlay/overlay.h"
#include "fs/pipe/pipe.h"
#include "fs/tmpfs/tmpfs.h"
#include "fs/vfs/iosequence.h"
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

sentry::vfs::PathContext RootContext(sentry::vfs::VFS* vfs) {
  sentry::vfs::PathContext ctx;
  ctx.root = ctx.cwd = vfs->Root();
  ctx.umask = 0;
  return ctx;
}

// mkdir -p inside the sandbox's root (as its root user).
absl::Status MakeDirs(sentry::vfs::VFS* vfs, const std::string& path) {
  sentry::vfs::PathContext ctx = RootContext(vfs);
  std::string at;
  for (size_t i = 0; i < path.size();) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) {
      at += "/" + path.substr(i, j - i);
      sentry::Errno e = vfs->Mkdir(ctx, ctx.root, at, 0755);
      if (e != 0 && e != EEXIST) {
        return sentry::ErrnoToStatus(e, absl::StrFormat("mkdir %s", at));
      }
    }
    i = j + 1;
  }
  return absl::OkStatus();
}

absl::Status WriteFileInRoot(sentry::vfs::VFS* vfs, const InjectedFile& f) {
  size_t slash = f.path().rfind('/');
  if (slash != std::string::npos && slash > 0) {
    if (auto s = MakeDirs(vfs, f.path().substr(0, slash)); !s.ok()) return s;
  }
  sentry::vfs::PathContext ctx = RootContext(vfs);
  auto fd = vfs->Open(ctx, ctx.root, f.path(), O_WRONLY | O_CREAT | O_TRUNC,
                      f.mode() ? f.mode() & 07777 : 0644);
  if (!fd.ok()) return sentry::ErrnoToStatus(fd.error(), absl::StrFormat("create %s", f.path()));
  std::string data = f.content();
  sentry::BufferIOSequence io(data.data(), data.size());
  while (io.remaining() > 0) {
    sentry::SysRet r = (*fd)->Write(nullptr, io);
    if (!r.ok() || r.value() == 0) {
      return sentry::ErrnoToStatus(r.ok() ? EIO : r.error(), absl::StrFormat("write %s", f.path()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status PrepareRoot(sentry::vfs::VFS* vfs, sentry::MemoryFile* mf, const BootSpec& spec,
                         const std::vector<int>& bind_fds) {
  if (spec.overlay()) {
    // A minimal image may lack the system mount points; the in-memory
    // layer can hold them.
    for (const char* dir : {"/proc", "/dev", "/sys"}) {
      if (auto s = MakeDirs(vfs, dir); !s.ok()) return s;
    }
  }
  for (const InjectedFile& f : spec.files()) {
    if (auto s = WriteFileInRoot(vfs, f); !s.ok()) return s;
  }
  for (int i = 0; i < spec.binds_size(); i++) {
    const BindMount& b = spec.binds(i);
    sentry::goferfs::GoferClientOptions gopts;
    gopts.mount = static_cast<uint32_t>(i + 1);
    gopts.read_only = b.read_only();
    auto gfs = sentry::goferfs::NewGoferFilesystem(bind_fds[static_cast<size_t>(i)], mf, gopts);
    if (!gfs.ok()) {
      return sentry::ErrnoToStatus(gfs.error(), absl::StrFormat("bind mount %s", b.destination()));
    }
    if (auto s = MakeDirs(vfs, b.destination()); !s.ok()) return s;
    uint32_t flags = b.read_only() ? MS_RDONLY : 0;
    if (auto s = MountAt(vfs, b.destination(), *gfs, sentry::goferfs::GoferRootInode(**gfs), flags,
                         "bind");
        !s.ok()) {
      return s;
    }
  }
  // Mount points first: the root may become read-only below.
  for (const std::string& dst : spec.tmpfs_mounts()) {
    if (auto s = MakeDirs(vfs, dst); !s.ok()) return s;
  }
  if (spec.root_readonly()) {
    // Nothing else runs yet: the flag can change without the tree lock.
    vfs->Root().mount->flags |= MS_RDONLY;
  }
  for (const std::string& dst : spec.tmpfs_mounts()) {
    auto fs = sentry::tmpfs::NewTmpfs(mf, sentry::tmpfs::TmpfsOptions{});
    if (auto s = MountAt(vfs, dst, fs, sentry::tmpfs::TmpfsRoot(fs.get()), MS_NOSUID | MS_NODEV,
                         "tmpfs");
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

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
  auto pts = sentry::devpts::NewDevpts();
  if (auto s = MountAt(vfs, "/dev/pts", pts, sentry::kernfs::RootInode(pts),
                       MS_NOSUID | MS_NOEXEC, "devpts");
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
