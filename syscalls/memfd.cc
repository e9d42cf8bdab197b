// memfd_create(2): an unnamed tmpfs file on an internal tmpfs instance
// that no path reaches.
#include <linux/memfd.h>
#include <sys/mman.h>
#include <sys/mount.h>

#include "fs/tmpfs/tmpfs.h"
#include "syscalls/handlers.h"
#include "syscalls/util.h"

namespace sentry::sys {
namespace {

// NAME_MAX minus the "memfd:" prefix (MFD_NAME_MAX_LEN).
constexpr size_t kMaxNameLen = 249;

// The sandbox's internal tmpfs for memfds (Linux's shm_mnt), made on
// first use. One kernel per Sentry process.
std::shared_ptr<vfs::Mount> MemfdMount(Task& t) {
  static absl::Mutex mu(absl::kConstInit);
  static std::shared_ptr<vfs::Mount>* mount = nullptr;
  absl::MutexLock l(&mu);
  if (mount == nullptr) {
    auto fs = tmpfs::NewTmpfs(t.kernel().memory_file(), tmpfs::TmpfsOptions{});
    auto root = tmpfs::TmpfsRoot(fs.get());
    mount = new std::shared_ptr<vfs::Mount>(
        t.kernel().vfs()->NewMount(std::move(fs), std::move(root), MS_NOSUID | MS_NODEV, "memfd"));
  }
  return *mount;
}

}  // namespace

SysRet MemfdCreate(Task& t, const SyscallArgs& a) {
  uint64_t flags = a[1];
  constexpr uint64_t kKnown = MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB |
                              (MFD_HUGE_MASK << MFD_HUGE_SHIFT) | 0x0008u /* MFD_NOEXEC_SEAL */ |
                              0x0010u /* MFD_EXEC */;
  if (flags & ~kKnown) return SysRet::Err(EINVAL);
  // Huge pages need hugetlbfs, which the sandbox does not have.
  if (flags & MFD_HUGETLB) return SysRet::Err(EINVAL);
  if (!(flags & MFD_HUGETLB) && (flags & (MFD_HUGE_MASK << MFD_HUGE_SHIFT))) {
    return SysRet::Err(EINVAL);
  }
  if ((flags & 0x0008u) && (flags & 0x0010u)) return SysRet::Err(EINVAL);
  ErrorOr<std::string> name = t.CopyInString(UserAddr(a[0]), kMaxNameLen + 1);
  if (!name.ok()) return SysRet::Err(name.error() == ENAMETOOLONG ? EINVAL : name.error());
  if (name->size() > kMaxNameLen) return SysRet::Err(EINVAL);
  std::shared_ptr<vfs::Mount> m = MemfdMount(t);
  vfs::PathContext ctx = t.PathCtx();
  ctx.umask = 0;  // memfds are 0777 whatever the umask (shmem_file_setup)
  vfs::VirtualDentry dir{m, m->root};
  constexpr uint64_t kNoexecSeal = 0x0008u;  // MFD_NOEXEC_SEAL
  // Linux names the file "memfd:<name>"; /proc/<pid>/fd shows
  // "/memfd:<name> (deleted)".
  auto f = TRY_ASSIGN(t.kernel().vfs()->OpenNamedTmpfile(
      ctx, dir, "memfd:" + *name, O_RDWR | O_LARGEFILE, (flags & kNoexecSeal) ? 0666 : 0777));
  // Without MFD_ALLOW_SEALING the file is sealed against new seals;
  // MFD_NOEXEC_SEAL allows sealing and seals the exec bits at once.
  uint32_t seals = F_SEAL_SEAL;
  if (flags & MFD_ALLOW_SEALING) seals = 0;
  if (flags & kNoexecSeal) seals = 0x20;  // F_SEAL_EXEC
  tmpfs::SetSeals(f.get(), seals);
  return InstallFile(t, std::move(f), flags & MFD_CLOEXEC);
}

}  // namespace sentry::sys
