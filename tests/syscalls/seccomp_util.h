// Builders of seccomp-BPF programs for the seccomp syscall tests. A filter
// cannot be removed, so every test installs its filters in a forked child.
#ifndef TESTS_SYSCALLS_SECCOMP_UTIL_H_
#define TESTS_SYSCALLS_SECCOMP_UTIL_H_

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vector>

namespace systest {

using BpfProgram = std::vector<sock_filter>;

inline constexpr uint32_t kNrOffset = offsetof(seccomp_data, nr);
inline constexpr uint32_t kArchOffset = offsetof(seccomp_data, arch);
inline constexpr uint32_t ArgLowOffset(int i) { return offsetof(seccomp_data, args) + 8 * i; }
inline constexpr uint32_t ArgHighOffset(int i) { return ArgLowOffset(i) + 4; }

inline sock_filter BpfStmt(uint16_t code, uint32_t k) { return BPF_STMT(code, k); }
inline sock_filter BpfJump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) {
  return BPF_JUMP(code, k, jt, jf);
}

// Kills the process unless the architecture is x86-64, then returns
// `verdict` for syscall `nr` and `otherwise` for every other syscall.
inline BpfProgram OnSyscall(long nr, uint32_t verdict, uint32_t otherwise = SECCOMP_RET_ALLOW) {
  return {
      BpfStmt(BPF_LD | BPF_W | BPF_ABS, kArchOffset),
      BpfJump(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BpfStmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BpfStmt(BPF_LD | BPF_W | BPF_ABS, kNrOffset),
      BpfJump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(nr), 0, 1),
      BpfStmt(BPF_RET | BPF_K, verdict),
      BpfStmt(BPF_RET | BPF_K, otherwise),
  };
}

inline BpfProgram AllowAll() { return {BpfStmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)}; }

// seccomp(SECCOMP_SET_MODE_FILTER, flags, prog): its raw result.
inline long InstallFilter(const BpfProgram& p, unsigned flags = 0) {
  sock_fprog fprog = {static_cast<unsigned short>(p.size()),
                      const_cast<sock_filter*>(p.data())};
  return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog);
}

// The same through prctl(PR_SET_SECCOMP).
inline long InstallFilterPrctl(const BpfProgram& p) {
  sock_fprog fprog = {static_cast<unsigned short>(p.size()),
                      const_cast<sock_filter*>(p.data())};
  return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0);
}

}  // namespace systest

#endif  // TESTS_SYSCALLS_SECCOMP_UTIL_H_
