// System V shared memory: shmget(2), shmat(2), shmdt(2), shmctl(2). The
// segments live in the kernel's ShmRegistry (sentry/kernel/ipc_shm.h).
#include <sys/ipc.h>
#include <sys/shm.h>

#include "absl/strings/str_format.h"
#include "syscalls/handlers.h"
#include "syscalls/util.h"

namespace sentry::sys {
namespace {

constexpr uint64_t kShmlba = kPageSize;

ShmRegistry::Caller CallerOf(Task& t) { return {t.creds(), t.tgid()}; }

}  // namespace

SysRet Shmget(Task& t, const SyscallArgs& a) {
  return TRY_ASSIGN(t.kernel().shm().Get(CallerOf(t), static_cast<key_t>(a[0]), a[1],
                                         static_cast<int>(a[2])));
}

SysRet Shmat(Task& t, const SyscallArgs& a) {
  int id = static_cast<int>(a[0]);
  uint64_t addr = a[1];
  int flags = static_cast<int>(a[2]);
  if (addr & (kShmlba - 1)) {
    if (!(flags & SHM_RND)) return SysRet::Err(EINVAL);
    addr &= ~(kShmlba - 1);
  }
  // SHM_REMAP needs an address to replace.
  if ((flags & SHM_REMAP) && addr == 0) return SysRet::Err(EINVAL);
  const bool write = !(flags & SHM_RDONLY);
  const bool exec = flags & SHM_EXEC;
  auto at = TRY_ASSIGN(t.kernel().shm().ForAttach(CallerOf(t), id, write, exec));
  MMapOpts o;
  if (!PageRoundUp(at.size, &o.length)) return SysRet::Err(EINVAL);
  o.addr = UserAddr(addr);
  o.fixed = addr != 0 && (flags & SHM_REMAP);
  o.fixed_noreplace = addr != 0 && !(flags & SHM_REMAP);
  o.prot = PROT_READ | (write ? PROT_WRITE : 0) | (exec ? PROT_EXEC : 0);
  o.max_prot = PROT_READ | PROT_EXEC | (write ? PROT_WRITE : 0);
  o.shared = true;
  o.mappable = std::move(at.mappable);
  o.name = absl::StrFormat("/SYSV%08x", static_cast<uint32_t>(id));
  auto r = t.mm()->MMap(o);
  // do_shmat: an attach over an existing mapping without SHM_REMAP.
  if (!r.ok() && r.error() == EEXIST) return SysRet::Err(EINVAL);
  if (!r.ok()) return SysRet::Err(r.error());
  return static_cast<int64_t>(r->value());
}

SysRet Shmdt(Task& t, const SyscallArgs& a) {
  uint64_t addr = a[0];
  if (addr & (kPageSize - 1)) return SysRet::Err(EINVAL);
  // The segment attached at exactly `addr`.
  for (const VmaStat& v : t.mm()->VmaStats()) {
    if (v.start != addr || v.dev != kShmDev || v.offset != 0) continue;
    int id = static_cast<int>(v.ino);
    uint64_t size = 0;
    auto sz = t.kernel().shm().SizeOf(id);
    if (!sz.ok() || !PageRoundUp(*sz, &size)) size = v.end - v.start;
    TRY(t.mm()->MUnmap(UserAddr(addr), size));
    t.kernel().shm().Detached(id, t.tgid());
    return 0;
  }
  return SysRet::Err(EINVAL);
}

SysRet Shmctl(Task& t, const SyscallArgs& a) {
  int id = static_cast<int>(a[0]);
  constexpr int kIpc64 = 0x100;  // IPC_64: the only layout on x86-64
  int cmd = static_cast<int>(a[1]) & ~kIpc64;
  ShmRegistry& r = t.kernel().shm();
  switch (cmd) {
    case IPC_STAT:
    case SHM_STAT:
    case SHM_STAT_ANY: {
      struct shmid_ds ds;
      int ret = TRY_ASSIGN(r.Stat(CallerOf(t), id, cmd, &ds));
      TRY(t.CopyOutBytes(UserAddr(a[2]), &ds, sizeof(ds)));
      return ret;
    }
    case IPC_SET: {
      struct shmid_ds ds;
      TRY(t.CopyInBytes(UserAddr(a[2]), &ds, sizeof(ds)));
      return r.Set(CallerOf(t), id, ds);
    }
    case IPC_RMID:
      return r.Remove(CallerOf(t), id);
    case SHM_LOCK:
    case SHM_UNLOCK:
      return r.Lock(CallerOf(t), id, cmd == SHM_LOCK);
    case IPC_INFO: {
      struct shminfo info;
      int ret = r.Info(&info);
      TRY(t.CopyOutBytes(UserAddr(a[2]), &info, sizeof(info)));
      return ret;
    }
    case SHM_INFO: {
      struct shm_info info;
      int ret = r.Usage(&info);
      TRY(t.CopyOutBytes(UserAddr(a[2]), &info, sizeof(info)));
      return ret;
    }
    default:
      return SysRet::Err(EINVAL);
  }
}

}  // namespace sentry::sys
