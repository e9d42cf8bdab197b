// devfs (see devfs.h).
#include "fs/dev/devfs.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <string>
#include <vector>

#include "fs/dev/devices.h"
#include "fs/kernfs/kernfs.h"

namespace sentry::dev {
namespace {

constexpr uint64_t kTmpfsMagic = 0x01021994;  // devtmpfs is a tmpfs
constexpr uint32_t kTtyGid = 5;               // the "tty" group of Debian and Fedora

struct Node {
  const char* name;
  uint32_t major, minor;
  uint32_t gid;
};
const Node kNodes[] = {
    {"null", kMemMajor, kNullMinor, 0},       {"zero", kMemMajor, kZeroMinor, 0},
    {"full", kMemMajor, kFullMinor, 0},       {"random", kMemMajor, kRandomMinor, 0},
    {"urandom", kMemMajor, kUrandomMinor, 0}, {"tty", kTtyMajor, kTtyMinor, kTtyGid},
};

struct Link {
  const char* name;
  const char* target;
};
const Link kLinks[] = {
    {"fd", "/proc/self/fd"},
    {"stdin", "/proc/self/fd/0"},
    {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"},
    {"ptmx", "pts/ptmx"},
};

// A character device node: attributes only; opening it is the registry's
// business.
class DeviceNode : public kernfs::KernInode {
 public:
  DeviceNode(kernfs::KernFs* fs, uint32_t perm, uint64_t rdev, uint32_t gid)
      : KernInode(fs, S_IFCHR | perm), rdev_(rdev), gid_(gid) {}

 protected:
  Errno FillAttr(vfs::Attr& a) override {
    a.rdev = rdev_;
    a.gid = gid_;
    return 0;
  }

 private:
  const uint64_t rdev_;
  const uint32_t gid_;
};

}  // namespace

std::shared_ptr<vfs::Filesystem> NewDevfs(MemoryFile* mf) {
  RegisterCharDevices(mf);
  auto fs = std::make_shared<kernfs::KernFs>("devtmpfs", kTmpfsMagic, /*cache_dentries=*/true,
                                             /*create_errno=*/EPERM);
  fs->set_mount_options("mode=755");
  auto root = std::make_shared<kernfs::StaticDir>(fs.get(), 0755);
  for (const Node& n : kNodes) {
    root->Add(n.name, std::make_shared<DeviceNode>(fs.get(), 0666, makedev(n.major, n.minor), n.gid));
  }
  for (const Link& l : kLinks) root->AddSymlink(l.name, l.target);
  root->AddDir("shm", 01777);
  root->AddDir("pts", 0755);
  fs->set_root(root);
  return fs;
}

Errno PopulateDevTree(vfs::VFS* vfs, const vfs::PathContext& ctx, const vfs::VirtualDentry& dir) {
  auto ok = [](Errno e) { return e == 0 || e == EEXIST; };
  vfs::PathContext c = ctx;
  c.umask = 0;  // the modes below are meant exactly
  for (const Node& n : kNodes) {
    Errno e = vfs->Mknod(c, dir, n.name, S_IFCHR | 0666, makedev(n.major, n.minor));
    if (!ok(e)) return e;
    if (e == 0 && n.gid != 0) {
      auto vd = vfs->Resolve(c, dir, n.name, 0);
      if (!vd.ok()) return vd.error();
      vfs::SetAttr s;
      s.mask = vfs::SetAttr::kGid;
      s.gid = n.gid;
      if (Errno e2 = vfs->SetAttrs(c, *vd, s); e2 != 0) return e2;
    }
  }
  for (const Link& l : kLinks) {
    if (Errno e = vfs->Symlink(c, l.target, dir, l.name); !ok(e)) return e;
  }
  if (Errno e = vfs->Mkdir(c, dir, "shm", 01777); !ok(e)) return e;
  if (Errno e = vfs->Mkdir(c, dir, "pts", 0755); !ok(e)) return e;
  return 0;
}

}  // namespace sentry::dev
