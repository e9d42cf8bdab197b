#include "sentry/arch/arch.h"

#include <cpuid.h>

namespace sentry {

size_t FpState::Size() {
  static const size_t size = [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid_count(0xd, 0, &a, &b, &c, &d) || b == 0) return size_t{512};
    return size_t{b} > 4096 ? size_t{4096} : size_t{b};
  }();
  return size;
}

FpState::FpState() { Reset(); }
FpState::FpState(const FpState& o) { memcpy(buf_, o.buf_, Size()); }
FpState& FpState::operator=(const FpState& o) {
  if (this != &o) memcpy(buf_, o.buf_, Size());
  return *this;
}

void FpState::Reset() {
  memset(buf_, 0, sizeof(buf_));
  // FXSAVE layout: FCW at 0, MXCSR at 24, MXCSR_MASK at 28.
  uint16_t fcw = 0x37f;
  uint32_t mxcsr = 0x1f80, mxcsr_mask = 0xffff;
  memcpy(buf_ + 0, &fcw, 2);
  memcpy(buf_ + 24, &mxcsr, 4);
  memcpy(buf_ + 28, &mxcsr_mask, 4);
  // XSTATE_BV (at 512) = x87|SSE so XRSTOR-style consumers load them.
  uint64_t xstate_bv = 3;
  if (Size() > 512) memcpy(buf_ + 512, &xstate_bv, 8);
}

void ArchContext::ResetForExec(uint64_t ip, uint64_t sp) {
  memset(&regs, 0, sizeof(regs));
  regs.rip = ip;
  regs.rsp = sp;
  regs.cs = kUserCS;
  regs.ss = kUserDS;
  regs.ds = regs.es = 0;
  regs.eflags = 0x202;  // IF, reserved bit 1.
  regs.orig_rax = static_cast<uint64_t>(-1);
  fp.Reset();
  fp_valid = true;
  fp_dirty = true;
}

}  // namespace sentry
