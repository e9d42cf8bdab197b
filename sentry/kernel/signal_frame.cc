// x86-64 signal frames: what the kernel writes on the stack before running
// a handler (arch/x86/kernel/signal_64.c) and what rt_sigreturn reads back.
#include <cstddef>
#include <algorithm>
#include <cstring>

#include "sentry/base/log.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"

namespace sentry {
namespace {

struct SigContext {
  uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
  uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
  uint16_t cs, gs, fs, ss;
  uint64_t err, trapno, oldmask, cr2;
  uint64_t fpstate;
  uint64_t reserved1[8];
};
static_assert(sizeof(SigContext) == 256);

struct UContext {
  uint64_t flags;
  uint64_t link;
  SignalStack stack;
  SigContext mcontext;
  SigSet sigmask;
};
static_assert(sizeof(UContext) == 304);

struct RtSigframe {
  uint64_t pretcode;
  UContext uc;
  siginfo_t info;
};
static_assert(offsetof(RtSigframe, uc) == 8);
static_assert(offsetof(RtSigframe, info) == 312);

constexpr uint64_t kUcFpXstate = 0x1;
constexpr uint64_t kUcSigcontextSs = 0x2;
constexpr uint64_t kUcStrictRestoreSs = 0x4;
constexpr uint32_t kFpXstateMagic1 = 0x46505853;
constexpr uint32_t kFpXstateMagic2 = 0x46505845;
constexpr uint64_t kRedZone = 128;
// EFLAGS bits the application may set through sigreturn (FIX_EFLAGS).
constexpr uint64_t kFixEflags = 0x40000 | 0x800 | 0x400 | 0x100 | 0x80 | 0x40 | 0x10 | 0x4 | 0x1 |
                                0x10000;

uint64_t Xcr0() {
  static const uint64_t v = [] {
    uint32_t lo, hi;
    asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (uint64_t{hi} << 32) | lo;
  }();
  return v;
}

// The sw_reserved bytes of an FXSAVE area that tell the reader the XSAVE
// extension follows (struct _fpx_sw_bytes).
struct FpxSwBytes {
  uint32_t magic1;
  uint32_t extended_size;
  uint64_t xfeatures;
  uint32_t xstate_size;
  uint32_t padding[7];
};
static_assert(sizeof(FpxSwBytes) == 48);

}  // namespace

Errno Task::SetupSignalFrame(const siginfo_t& info, const KSigaction& act, SigSet old_mask) {
  ctx_->PullFpState(arch_);
  const size_t xsize = std::min<size_t>(FpState::Size(), 4096);
  uint64_t sp = arch_.regs.rsp;
  bool on_altstack = altstack_.Contains(sp);
  if ((act.flags & SA_ONSTACK) && altstack_.flags != SS_DISABLE && !on_altstack) {
    sp = altstack_.sp + altstack_.size;
  } else {
    sp -= kRedZone;
  }
  // FP state: 64-byte aligned, followed by the 4-byte MAGIC2.
  uint64_t fp_addr = (sp - xsize - 4) & ~uint64_t{63};
  uint64_t frame = ((fp_addr - sizeof(RtSigframe)) & ~uint64_t{15}) - 8;

  static_assert(sizeof(FpState) >= 4096);
  uint8_t fp[4096 + 4];
  memcpy(fp, arch_.fp.data(), xsize);
  if (xsize > 512) {
    FpxSwBytes sw{kFpXstateMagic1, static_cast<uint32_t>(xsize + 4), Xcr0(),
                  static_cast<uint32_t>(xsize), {}};
    memcpy(fp + 464, &sw, sizeof(sw));
    memcpy(fp + xsize, &kFpXstateMagic2, 4);
  }
  TRY(mm_->CopyOut(UserAddr(fp_addr), fp, xsize + 4));

  RtSigframe f{};
  f.pretcode = act.restorer;
  f.uc.flags = (xsize > 512 ? kUcFpXstate : 0) | kUcSigcontextSs | kUcStrictRestoreSs;
  f.uc.stack = altstack_;
  if (f.uc.stack.flags != SS_DISABLE && on_altstack) f.uc.stack.flags = SS_ONSTACK;
  const Regs& r = arch_.regs;
  SigContext& m = f.uc.mcontext;
  m.r8 = r.r8; m.r9 = r.r9; m.r10 = r.r10; m.r11 = r.r11;
  m.r12 = r.r12; m.r13 = r.r13; m.r14 = r.r14; m.r15 = r.r15;
  m.rdi = r.rdi; m.rsi = r.rsi; m.rbp = r.rbp; m.rbx = r.rbx;
  m.rdx = r.rdx; m.rax = r.rax; m.rcx = r.rcx; m.rsp = r.rsp;
  m.rip = r.rip; m.eflags = r.eflags;
  m.cs = static_cast<uint16_t>(r.cs);
  m.ss = static_cast<uint16_t>(r.ss);
  if (info.si_signo == SIGSEGV || info.si_signo == SIGBUS) {
    m.cr2 = reinterpret_cast<uint64_t>(info.si_addr);
    m.trapno = 14;  // page fault
  }
  m.oldmask = old_mask;
  m.fpstate = fp_addr;
  f.uc.sigmask = old_mask;
  f.info = info;
  TRY(mm_->CopyOut(UserAddr(frame), &f, sizeof(f)));

  Regs& w = arch_.regs;
  w.rdi = static_cast<uint64_t>(info.si_signo);
  w.rsi = frame + offsetof(RtSigframe, info);
  w.rdx = frame + offsetof(RtSigframe, uc);
  w.rax = 0;
  w.rsp = frame;
  w.rip = act.handler;
  w.eflags &= ~uint64_t{0x100 | 0x400 | 0x10000};  // TF, DF, RF
  w.cs = kUserCS;
  w.ss = kUserDS;
  // The handler starts with a clean FPU, as on Linux.
  arch_.fp.Reset();
  arch_.fp_valid = true;
  arch_.fp_dirty = true;
  return 0;
}

SysRet Task::SigReturn() {
  uint64_t frame = arch_.regs.rsp - 8;
  RtSigframe f;
  if (mm_->CopyIn(UserAddr(frame), &f, sizeof(f)) != 0) {
    ForceSignal(MakeSigInfo(SIGSEGV, SI_KERNEL));
    return kSysRetNoReturnValue;
  }
  const SigContext& m = f.uc.mcontext;
  Regs& r = arch_.regs;
  r.r8 = m.r8; r.r9 = m.r9; r.r10 = m.r10; r.r11 = m.r11;
  r.r12 = m.r12; r.r13 = m.r13; r.r14 = m.r14; r.r15 = m.r15;
  r.rdi = m.rdi; r.rsi = m.rsi; r.rbp = m.rbp; r.rbx = m.rbx;
  r.rdx = m.rdx; r.rax = m.rax; r.rcx = m.rcx; r.rsp = m.rsp;
  r.rip = m.rip;
  r.eflags = (r.eflags & ~kFixEflags) | (m.eflags & kFixEflags);
  r.cs = kUserCS;
  r.ss = kUserDS;
  r.orig_rax = static_cast<uint64_t>(-1);  // no syscall restart after this

  // FP state: trust the layout only if the magic numbers agree.
  const size_t xsize = std::min<size_t>(FpState::Size(), 4096);
  FpState fp;
  bool ok = false;
  if (m.fpstate != 0) {
    std::vector<uint8_t> buf(xsize + 4);
    if (mm_->CopyIn(UserAddr(m.fpstate), buf.data(), 512) == 0) {
      FpxSwBytes sw;
      memcpy(&sw, buf.data() + 464, sizeof(sw));
      size_t n = 512;
      if (sw.magic1 == kFpXstateMagic1 && sw.xstate_size <= xsize && sw.xstate_size >= 512 &&
          mm_->CopyIn(UserAddr(m.fpstate), buf.data(), sw.xstate_size + 4) == 0) {
        uint32_t magic2;
        memcpy(&magic2, buf.data() + sw.xstate_size, 4);
        if (magic2 == kFpXstateMagic2) n = sw.xstate_size;
      }
      memcpy(fp.data(), buf.data(), n);
      if (n == 512 && xsize > 512) {
        // Legacy frame: only x87/SSE state is present.
        uint64_t bv = 3;
        memset(fp.data() + 512, 0, xsize - 512);
        memcpy(fp.data() + 512, &bv, 8);
      }
      // MXCSR reserved bits would make XRSTOR fault in the host kernel.
      uint32_t mxcsr;
      memcpy(&mxcsr, fp.data() + 24, 4);
      mxcsr &= 0xffff;
      memcpy(fp.data() + 24, &mxcsr, 4);
      ok = true;
    }
  }
  if (ok) {
    arch_.fp = fp;
  } else {
    arch_.fp.Reset();
  }
  arch_.fp_valid = true;
  arch_.fp_dirty = true;

  SetSignalMask(f.uc.sigmask);
  // restore_altstack: ignore failures as Linux does for most of them.
  if (!altstack_.Contains(arch_.regs.rsp)) {
    SignalStack ss = f.uc.stack;
    if (ss.flags == SS_DISABLE || ss.flags == 0) {
      altstack_.sp = ss.sp;
      altstack_.size = ss.size;
      altstack_.flags = ss.flags == SS_DISABLE ? SS_DISABLE : 0;
    }
  }
  return kSysRetNoReturnValue;
}

}  // namespace sentry
