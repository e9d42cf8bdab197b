// x86-64 register state of one application thread.
//
// `ArchContext` is what the Sentry knows about a task's CPU state. General
// registers are always current in the Sentry after a switch; the FPU/SSE/AVX
// state is big and rarely needed, so it stays inside the platform (stub
// thread or vCPU) until someone asks for it (signal delivery, fork, ptrace)
// and is pushed back only when the Sentry changed it.
#ifndef SENTRY_ARCH_ARCH_H_
#define SENTRY_ARCH_ARCH_H_

#include <sys/user.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace sentry {

using Regs = user_regs_struct;

// The XSAVE area, sized for the host's enabled features (CPUID leaf 0xD).
class FpState {
 public:
  FpState();
  uint8_t* data() { return buf_; }
  const uint8_t* data() const { return buf_; }
  static size_t Size();  // bytes of the XSAVE area on this host
  // Resets to the state a fresh process starts with (FNINIT + MXCSR 0x1f80).
  void Reset();
  FpState(const FpState& o);
  FpState& operator=(const FpState& o);

 private:
  alignas(64) uint8_t buf_[4096];
};

struct ArchContext {
  Regs regs{};
  FpState fp;
  // fp holds the current state (pulled from the platform or set by the
  // Sentry). When false, the platform's copy is authoritative.
  bool fp_valid = false;
  // fp was changed by the Sentry and must be pushed before the app runs.
  bool fp_dirty = false;

  uint64_t ip() const { return regs.rip; }
  uint64_t sp() const { return regs.rsp; }
  // Syscall arguments as the x86-64 ABI passes them.
  uint64_t arg(int i) const {
    switch (i) {
      case 0: return regs.rdi;
      case 1: return regs.rsi;
      case 2: return regs.rdx;
      case 3: return regs.r10;
      case 4: return regs.r8;
      default: return regs.r9;
    }
  }
  // Registers of a freshly exec'd thread: everything zero but ip and sp,
  // user segments as Linux sets them.
  void ResetForExec(uint64_t ip, uint64_t sp);
};

// User segment selectors on x86-64 Linux.
inline constexpr uint64_t kUserCS = 0x33;
inline constexpr uint64_t kUserDS = 0x2b;

}  // namespace sentry

#endif  // SENTRY_ARCH_ARCH_H_
