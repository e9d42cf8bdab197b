// Memory mapping syscalls: thin adapters over the MemoryManager.
#include <sys/mman.h>
#include <sys/mount.h>

#include "sentry/mm/anon_shared.h"
#include "sentry/mm/mappable.h"
#include "syscalls/handlers.h"
#include "syscalls/util.h"

namespace sentry::sys {
namespace {
constexpr uint64_t kKnownMapFlags =
    MAP_SHARED | MAP_PRIVATE | MAP_SHARED_VALIDATE | MAP_FIXED | MAP_ANONYMOUS | MAP_GROWSDOWN |
    MAP_DENYWRITE | MAP_EXECUTABLE | MAP_LOCKED | MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK |
    MAP_STACK | MAP_HUGETLB | MAP_SYNC | MAP_FIXED_NOREPLACE | MAP_32BIT | (0x3fu << 26);
}  // namespace

SysRet Mmap(Task& t, const SyscallArgs& a) {
  uint64_t addr = a[0], len = a[1];
  int prot = static_cast<int>(a[2]);
  uint64_t flags = a[3];
  int fd = static_cast<int>(a[4]);
  uint64_t off = a[5];
  int type = static_cast<int>(flags & MAP_TYPE);
  if (type != MAP_SHARED && type != MAP_PRIVATE && type != MAP_SHARED_VALIDATE) {
    return SysRet::Err(EINVAL);
  }
  if (type == MAP_SHARED_VALIDATE && (flags & ~kKnownMapFlags)) return SysRet::Err(EOPNOTSUPP);
  // Linux validates only file mappings; anonymous ones know MAP_SHARED alone.
  if (type == MAP_SHARED_VALIDATE && (flags & MAP_ANONYMOUS)) return SysRet::Err(EINVAL);
  if (len == 0) return SysRet::Err(EINVAL);
  if (off % kPageSize != 0) return SysRet::Err(EINVAL);
  if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_GROWSDOWN | PROT_GROWSUP)) {
    return SysRet::Err(EINVAL);
  }
  if (flags & MAP_HUGETLB) return SysRet::Err(EINVAL);  // no hugetlbfs
  if (flags & MAP_32BIT) {
    // Honoured as a hint below 2 GiB (Linux places it there).
    if (addr == 0) addr = 0x40000000;
  }
  MMapOpts o;
  uint64_t rounded;
  if (!PageRoundUp(len, &rounded)) return SysRet::Err(ENOMEM);
  o.length = len;
  o.addr = UserAddr(addr);
  o.fixed = flags & MAP_FIXED;
  o.fixed_noreplace = (flags & MAP_FIXED_NOREPLACE) && !(flags & MAP_FIXED);
  o.prot = prot & (PROT_READ | PROT_WRITE | PROT_EXEC);
  o.shared = type != MAP_PRIVATE;
  o.growsdown = flags & MAP_GROWSDOWN;
  o.populate = (flags & MAP_POPULATE) && !(flags & MAP_NONBLOCK);
  if (o.fixed && (addr % kPageSize) != 0) return SysRet::Err(EINVAL);
  if (!(flags & MAP_ANONYMOUS)) {
    FilePtr f = TRY_ASSIGN(GetFile(t, fd));
    if (f->is_path()) return SysRet::Err(EBADF);
    if (!f->readable()) return SysRet::Err(EACCES);
    if (o.shared && (prot & PROT_WRITE) && !f->writable()) return SysRet::Err(EACCES);
    if (f->vd().ok() && (f->vd().mount->flags & MS_NOEXEC) && (prot & PROT_EXEC)) {
      return SysRet::Err(EPERM);
    }
    if (off + rounded < off) return SysRet::Err(EOVERFLOW);
    o.mappable = TRY_ASSIGN(f->GetMappable());
    o.offset = off;
    // A shared mapping of a read-only file may never become writable.
    if (o.shared && !f->writable()) o.max_prot &= ~PROT_WRITE;
    // A file sealed against writes takes no shared writable mapping, now
    // or by mprotect later (F_SEAL_WRITE, F_SEAL_FUTURE_WRITE).
    if (auto seals = f->GetSeals(); seals.ok() && o.shared &&
                                    (*seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))) {
      if (prot & PROT_WRITE) return SysRet::Err(EPERM);
      o.max_prot &= ~PROT_WRITE;
    }
    if (f->vd().ok()) o.name = t.kernel().vfs()->PathOf(f->vd(), t.fs()->root());
  } else if (o.shared) {
    // Shared anonymous memory must survive fork as shared: back it with an
    // anonymous tmpfs-like object.
    o.mappable = TRY_ASSIGN(NewAnonymousSharedMemory(t.kernel().memory_file(), rounded));
    o.name = "/dev/zero (deleted)";
  }
  return TRY_ASSIGN(t.mm()->MMap(o)).value();
}

SysRet Munmap(Task& t, const SyscallArgs& a) { return t.mm()->MUnmap(UserAddr(a[0]), a[1]); }

SysRet Mprotect(Task& t, const SyscallArgs& a) {
  return t.mm()->MProtect(UserAddr(a[0]), a[1], static_cast<int>(a[2]));
}

SysRet Mremap(Task& t, const SyscallArgs& a) {
  return TRY_ASSIGN(t.mm()->MRemap(UserAddr(a[0]), a[1], a[2], static_cast<int>(a[3]),
                                   UserAddr(a[4])))
      .value();
}

SysRet Brk(Task& t, const SyscallArgs& a) {
  return static_cast<int64_t>(t.mm()->Brk(UserAddr(a[0])).value());
}

SysRet Madvise(Task& t, const SyscallArgs& a) {
  return t.mm()->MAdvise(UserAddr(a[0]), a[1], static_cast<int>(a[2]));
}

SysRet Mincore(Task& t, const SyscallArgs& a) {
  uint64_t addr = a[0], len = a[1];
  if (addr % kPageSize != 0) return SysRet::Err(EINVAL);
  uint64_t pages;
  if (!PageRoundUp(len, &pages)) return SysRet::Err(ENOMEM);
  pages /= kPageSize;
  if (addr + pages * kPageSize < addr || !t.mm()->IsMapped(UserAddr(addr), pages * kPageSize)) {
    return SysRet::Err(ENOMEM);
  }
  // Asked in chunks: no buffer is sized from the caller's length.
  constexpr uint64_t kChunk = 4096;
  for (uint64_t done = 0; done < pages;) {
    uint64_t n = std::min<uint64_t>(pages - done, kChunk);
    std::vector<uint8_t> v = t.mm()->Residency(UserAddr(addr + done * kPageSize), n);
    TRY(t.CopyOutBytes(UserAddr(a[2] + done), v.data(), n));
    done += n;
  }
  return 0;
}

SysRet Msync(Task& t, const SyscallArgs& a) {
  uint64_t addr = a[0];
  int flags = static_cast<int>(a[2]);
  if (addr % kPageSize != 0) return SysRet::Err(EINVAL);
  if (flags & ~(MS_ASYNC | MS_SYNC | MS_INVALIDATE)) return SysRet::Err(EINVAL);
  if ((flags & MS_ASYNC) && (flags & MS_SYNC)) return SysRet::Err(EINVAL);
  uint64_t len;
  if (!PageRoundUp(a[1], &len)) return SysRet::Err(ENOMEM);
  if (!t.mm()->IsMapped(UserAddr(addr), len)) return SysRet::Err(ENOMEM);
  return 0;
}

SysRet Mlock(Task& t, const SyscallArgs& a) {
  uint64_t start = PageRoundDown(a[0]), end;
  if (!PageRoundUp(a[0] + a[1], &end)) return SysRet::Err(ENOMEM);
  if (!t.mm()->IsMapped(UserAddr(start), end - start)) return SysRet::Err(ENOMEM);
  return 0;
}
SysRet Munlock(Task& t, const SyscallArgs& a) { return Mlock(t, a); }
SysRet Mlock2(Task& t, const SyscallArgs& a) {
  if (a[2] & ~uint64_t{MLOCK_ONFAULT}) return SysRet::Err(EINVAL);
  return Mlock(t, a);
}
SysRet Mlockall(Task& t, const SyscallArgs& a) {
  uint64_t f = a[0];
  if (f == 0 || (f & ~uint64_t{MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT})) return SysRet::Err(EINVAL);
  if (f == MCL_ONFAULT) return SysRet::Err(EINVAL);
  return 0;
}
SysRet Munlockall(Task& t, const SyscallArgs& a) { return 0; }

}  // namespace sentry::sys
