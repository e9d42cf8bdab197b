// The syscall layer's entry points used by the kernel's task loop.
#ifndef SYSCALLS_SYSCALLS_H_
#define SYSCALLS_SYSCALLS_H_

#include <cstdint>

#include "sentry/base/error.h"

namespace sentry {

class Task;

struct SyscallArgs {
  uint64_t a[6];
  uint64_t operator[](int i) const { return a[i]; }
};

// Runs syscall `nr` for `t` and returns its result (value, -errno, an
// internal ERESTART* code, or kSysRetNoReturnValue). Logs it with --strace.
SysRet Dispatch(Task& t, uint64_t nr, const SyscallArgs& args);

}  // namespace sentry

#endif  // SYSCALLS_SYSCALLS_H_
