// System information, host name, resource limits, randomness.
#include <sched.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstring>

#include "sentry/base/random.h"
#include "syscalls/handlers.h"
#include "syscalls/util.h"

namespace sentry::sys {
namespace {
constexpr int kCapSysAdmin = 21;
constexpr int kCapSysResource = 24;

// The kernel version the sandbox reports: the Linux API level it
// implements, not the host's.
constexpr char kRelease[] = "6.1.0";
constexpr char kVersion[] = "#1 SMP PREEMPT_DYNAMIC sandbox";
}  // namespace

SysRet Uname(Task& t, const SyscallArgs& a) {
  struct utsname u;
  memset(&u, 0, sizeof(u));
  strncpy(u.sysname, "Linux", sizeof(u.sysname) - 1);
  strncpy(u.nodename, t.kernel().hostname().c_str(), sizeof(u.nodename) - 1);
  strncpy(u.release, kRelease, sizeof(u.release) - 1);
  strncpy(u.version, kVersion, sizeof(u.version) - 1);
  strncpy(u.machine, "x86_64", sizeof(u.machine) - 1);
  strncpy(u.domainname, t.kernel().domainname().c_str(), sizeof(u.domainname) - 1);
  TRY(t.CopyOutBytes(UserAddr(a[0]), &u, sizeof(u)));
  return 0;
}

namespace {
SysRet SetName(Task& t, const SyscallArgs& a, bool host) {
  if (!t.creds().HasCap(kCapSysAdmin)) return SysRet::Err(EPERM);
  if (a[1] > 64) return SysRet::Err(EINVAL);
  std::string name(a[1], '\0');
  TRY(t.CopyInBytes(UserAddr(a[0]), name.data(), name.size()));
  if (host) {
    t.kernel().SetHostname(name);
  } else {
    t.kernel().SetDomainname(name);
  }
  return 0;
}

SysRet DoPrlimit(Task& t, ThreadGroup* g, int resource, uint64_t new_addr, uint64_t old_addr) {
  if (resource < 0 || resource >= RLIM_NLIMITS) return SysRet::Err(EINVAL);
  struct rlimit nl;
  if (new_addr != 0) {
    TRY(t.CopyInBytes(UserAddr(new_addr), &nl, sizeof(nl)));
    if (nl.rlim_cur > nl.rlim_max) return SysRet::Err(EINVAL);
    if (resource == RLIMIT_NOFILE && nl.rlim_max > 1048576) return SysRet::Err(EPERM);  // nr_open
  }
  struct rlimit old = g->limits.Get(resource);
  if (new_addr != 0) {
    if (nl.rlim_max > old.rlim_max && !t.creds().HasCap(kCapSysResource)) return SysRet::Err(EPERM);
    g->limits.Set(resource, nl);
  }
  if (old_addr != 0) TRY(t.CopyOutBytes(UserAddr(old_addr), &old, sizeof(old)));
  return 0;
}

// check_prlimit_permission(): another process's limits are open to a
// caller whose real uid and gid match all of the target's, or who has
// CAP_SYS_RESOURCE.
bool MayPrlimit(Task& t, Task& target) {
  if (&target == &t || target.tg() == t.tg()) return true;
  vfs::Credentials c = t.creds(), tc = target.creds();
  if (c.uid == tc.uid && c.uid == tc.euid && c.uid == tc.suid && c.gid == tc.gid &&
      c.gid == tc.egid && c.gid == tc.sgid) {
    return true;
  }
  return c.HasCap(kCapSysResource);
}
}  // namespace

SysRet Sethostname(Task& t, const SyscallArgs& a) { return SetName(t, a, true); }
SysRet Setdomainname(Task& t, const SyscallArgs& a) { return SetName(t, a, false); }

// getrlimit/setrlimit take no null pointer (unlike prlimit64): a null
// address is EFAULT.
SysRet Getrlimit(Task& t, const SyscallArgs& a) {
  if (a[1] == 0 && static_cast<uint32_t>(a[0]) < RLIM_NLIMITS) return SysRet::Err(EFAULT);
  return DoPrlimit(t, t.tg(), static_cast<int>(a[0]), 0, a[1]);
}
SysRet Setrlimit(Task& t, const SyscallArgs& a) {
  if (static_cast<uint32_t>(a[0]) >= RLIM_NLIMITS) return SysRet::Err(EINVAL);
  if (a[1] == 0) return SysRet::Err(EFAULT);
  return DoPrlimit(t, t.tg(), static_cast<int>(a[0]), a[1], 0);
}
SysRet Prlimit64(Task& t, const SyscallArgs& a) {
  int32_t pid = static_cast<int32_t>(a[0]);
  if (static_cast<uint32_t>(a[1]) >= RLIM_NLIMITS) return SysRet::Err(EINVAL);
  std::shared_ptr<ThreadGroup> g = t.tg_ptr();
  if (pid != 0) {
    auto task = t.kernel().TaskByTid(pid);
    if (!task) return SysRet::Err(ESRCH);
    if (!MayPrlimit(t, *task)) return SysRet::Err(EPERM);
    g = task->tg_ptr();
  }
  return DoPrlimit(t, g.get(), static_cast<int>(a[1]), a[2], a[3]);
}

SysRet Sysinfo(Task& t, const SyscallArgs& a) {
  struct sysinfo host;
  ::sysinfo(&host);
  struct sysinfo s;
  memset(&s, 0, sizeof(s));
  s.uptime = static_cast<long>(t.kernel().UptimeNs() / 1000000000);
  s.totalram = host.totalram;
  s.freeram = host.freeram;
  s.sharedram = 0;
  s.bufferram = 0;
  s.totalswap = 0;
  s.freeswap = 0;
  s.procs = static_cast<unsigned short>(std::min<size_t>(t.kernel().AllGroups().size(), 65535));
  s.mem_unit = host.mem_unit;
  TRY(t.CopyOutBytes(UserAddr(a[0]), &s, sizeof(s)));
  return 0;
}

SysRet Getrandom(Task& t, const SyscallArgs& a) {
  uint64_t flags = a[2];
  if (flags & ~uint64_t{GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE}) return SysRet::Err(EINVAL);
  if ((flags & GRND_INSECURE) && (flags & GRND_RANDOM)) return SysRet::Err(EINVAL);
  uint64_t len = std::min<uint64_t>(a[1], 33554431);  // Linux caps one call at 32 MiB - 1
  uint8_t buf[4096];
  uint64_t done = 0;
  while (done < len) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(sizeof(buf), len - done));
    RandomBytes(buf, n);
    size_t c = t.mm()->CopyOutPartial(UserAddr(a[0] + done), buf, n);
    done += c;
    if (c < n) {
      if (done == 0) return SysRet::Err(EFAULT);
      break;
    }
  }
  return static_cast<int64_t>(done);
}

}  // namespace sentry::sys
