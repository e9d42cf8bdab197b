// Dispatch: look the syscall up, run it, and trace it with --strace.
#include <sys/syscall.h>

#include <atomic>
#include <bitset>
#include <new>

#include "absl/strings/str_format.h"
#include "sentry/base/log.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "syscalls/syscalls.h"
#include "syscalls/table.h"

namespace sentry {
namespace {

// Each unimplemented syscall is logged once, not on every call.
std::atomic<uint64_t> g_logged[8];

void LogUnimplementedOnce(uint64_t nr, const char* name) {
  if (nr >= 512) return;
  uint64_t bit = uint64_t{1} << (nr % 64);
  if (g_logged[nr / 64].fetch_or(bit) & bit) return;
  SLOG(kInfo, "unimplemented syscall %s (%d): returning ENOSYS", name ? name : "?",
       static_cast<int>(nr));
}

}  // namespace

SysRet Dispatch(Task& t, uint64_t nr, const SyscallArgs& a) {
  const SyscallInfo* info = LookupSyscall(nr);
  const bool strace = t.kernel().options().strace;
  std::string entry;
  if (strace) {
    entry = info ? FormatSyscallEntry(t, *info, a)
                 : absl::StrFormat("syscall_%d(%#x, %#x, %#x, ...)", nr, a[0], a[1], a[2]);
    // Calls that may not return print their entry first.
    if (info && (nr == SYS_exit || nr == SYS_exit_group || nr == SYS_execve ||
                 nr == SYS_execveat || nr == SYS_rt_sigreturn)) {
      LogRaw(absl::StrFormat("[%6d] %s ...\n", t.tid(), entry));
    }
  }
  SysRet r = SysRet::Err(ENOSYS);
  if (info == nullptr) {
    LogUnimplementedOnce(nr, nullptr);
  } else if (info->fn != nullptr) {
    // A handler must never let an allocation sized by the application
    // bring the Sentry down: answer ENOMEM, as Linux would, and log it as
    // the bug it is.
    try {
      r = info->fn(t, a);
    } catch (const std::bad_alloc&) {
      SLOG(kError, "%s: allocation failed; returning ENOMEM", info->name);
      r = SysRet::Err(ENOMEM);
    }
  } else if (info->support == Support::kError) {
    r = SysRet::Err(info->error);
  } else {
    LogUnimplementedOnce(nr, info->name);
  }
  if (strace) {
    std::string exit = info ? FormatSyscallExit(t, *info, a, r) : "";
    if (r.value() == kSysRetNoReturnValue) {
      LogRaw(absl::StrFormat("[%6d] %s = ?\n", t.tid(), entry));
    } else {
      LogRaw(absl::StrFormat("[%6d] %s%s\n", t.tid(), entry, exit));
    }
  }
  return r;
}

}  // namespace sentry
