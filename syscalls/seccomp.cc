// seccomp(2), and prctl(PR_SET_SECCOMP) which is seccomp(2) without flags
// (kernel/seccomp.c: do_seccomp()). The filters themselves live in
// sentry/kernel/seccomp/ and run in Task::SeccompPermits.
//
// Not supported: SECCOMP_FILTER_FLAG_NEW_LISTENER (user notification
// listeners) is refused with EINVAL, and SECCOMP_GET_ACTION_AVAIL reports
// SECCOMP_RET_USER_NOTIF unavailable so that libraries do not rely on it.
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <vector>

#include "sentry/kernel/seccomp/bpf.h"
#include "syscalls/handlers.h"
#include "syscalls/util.h"

namespace sentry::sys {
namespace {

constexpr unsigned kFilterFlagMask =
    SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW |
    SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_TSYNC_ESRCH |
    SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
constexpr int kCapSysAdmin = 21;

// struct sock_fprog as the application lays it out.
struct FProg {
  uint16_t len;
  uint16_t pad[3];
  uint64_t filter;
};
static_assert(sizeof(FProg) == 16);

SysRet SetModeFilter(Task& t, unsigned flags, UserAddr uargs) {
  if (flags & ~kFilterFlagMask) return SysRet::Err(EINVAL);
  // User notification needs a listener fd the Sentry does not provide.
  if (flags & (SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)) {
    return SysRet::Err(EINVAL);
  }
  // seccomp_prepare_user_filter() / seccomp_prepare_filter(), in order.
  FProg fprog;
  TRY(t.CopyIn(UserPtr<FProg>(uargs), &fprog));
  if (fprog.len == 0 || fprog.len > seccomp::kMaxProgramLength) return SysRet::Err(EINVAL);
  // Without no_new_privs a filter could make a setuid program misbehave
  // with privileges it gained after the filter went in.
  if (!t.no_new_privs.load() && !t.creds().HasCap(kCapSysAdmin)) return SysRet::Err(EACCES);
  if (fprog.filter == 0) return SysRet::Err(EINVAL);
  std::vector<sock_filter> prog(fprog.len);
  TRY(t.CopyInBytes(UserAddr(fprog.filter), prog.data(), prog.size() * sizeof(sock_filter)));
  TRY(seccomp::CheckProgram(prog));
  return t.InstallSeccompFilter(std::move(prog), flags);
}

SysRet GetActionAvail(Task& t, UserAddr uargs) {
  uint32_t action;
  TRY(t.CopyIn(UserPtr<uint32_t>(uargs), &action));
  switch (action) {
    case SECCOMP_RET_KILL_PROCESS:
    case SECCOMP_RET_KILL_THREAD:
    case SECCOMP_RET_TRAP:
    case SECCOMP_RET_ERRNO:
    case SECCOMP_RET_TRACE:
    case SECCOMP_RET_LOG:
    case SECCOMP_RET_ALLOW:
      return 0;
    default:  // including SECCOMP_RET_USER_NOTIF (see above)
      return SysRet::Err(EOPNOTSUPP);
  }
}

SysRet GetNotifSizes(Task& t, UserAddr uargs) {
  // The structures' sizes are ABI facts even without listener support.
  struct Sizes {
    uint16_t notif, resp, data;
  };
  TRY(t.CopyOut(UserPtr<Sizes>(uargs), Sizes{sizeof(seccomp_notif), sizeof(seccomp_notif_resp),
                                             sizeof(seccomp_data)}));
  return 0;
}

}  // namespace

SysRet DoSeccomp(Task& t, unsigned op, unsigned flags, UserAddr uargs) {
  switch (op) {
    case SECCOMP_SET_MODE_STRICT:
      if (flags != 0 || !uargs.IsNull()) return SysRet::Err(EINVAL);
      return t.SetSeccompStrict();
    case SECCOMP_SET_MODE_FILTER:
      return SetModeFilter(t, flags, uargs);
    case SECCOMP_GET_ACTION_AVAIL:
      if (flags != 0) return SysRet::Err(EINVAL);
      return GetActionAvail(t, uargs);
    case SECCOMP_GET_NOTIF_SIZES:
      if (flags != 0) return SysRet::Err(EINVAL);
      return GetNotifSizes(t, uargs);
    default:
      return SysRet::Err(EINVAL);
  }
}

SysRet Seccomp(Task& t, const SyscallArgs& a) {
  return DoSeccomp(t, static_cast<unsigned>(a[0]), static_cast<unsigned>(a[1]), UserAddr(a[2]));
}

}  // namespace sentry::sys
