#include "platform/ptrace/stub_thread.h"

#include <elf.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sentry/base/log.h"

namespace sentry::ptrace_platform {
namespace {
StubLayout g_layout;

long Ptrace(int req, pid_t tid, uint64_t addr, uint64_t data) {
  return ptrace(static_cast<__ptrace_request>(req), tid, reinterpret_cast<void*>(addr),
                reinterpret_cast<void*>(data));
}
}  // namespace

const StubLayout& Layout() { return g_layout; }
void SetLayout(const StubLayout& l) { g_layout = l; }

WaitOutcome StubThread::Wait(int* status) {
  for (;;) {
    pid_t r = waitpid(tid_, status, __WALL);
    if (r == tid_) break;
    if (r < 0 && errno == EINTR) continue;
    SFATAL("waitpid(%d): %s", tid_, strerror(errno));
  }
  if (WIFEXITED(*status) || WIFSIGNALED(*status)) return WaitOutcome::kExited;
  return WaitOutcome::kStopped;
}

Errno StubThread::Seize() {
  if (Ptrace(PTRACE_SEIZE, tid_, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL) < 0) return errno;
  if (Ptrace(PTRACE_INTERRUPT, tid_, 0, 0) < 0) return errno;
  for (;;) {
    int status;
    if (Wait(&status) == WaitOutcome::kExited) return ESRCH;
    if (WSTOPSIG(status) == SIGTRAP && (status >> 16) == PTRACE_EVENT_STOP) break;
    // A signal (e.g. a stray interrupt) got there first: suppress it and
    // keep waiting for the interrupt stop.
    Ptrace(PTRACE_CONT, tid_, 0, 0);
  }
  if (!GetRegs(&scratch_)) return ESRCH;
  have_scratch_ = true;
  return 0;
}

bool StubThread::GetRegs(Regs* r) { return Ptrace(PTRACE_GETREGS, tid_, 0, reinterpret_cast<uint64_t>(r)) == 0; }
bool StubThread::SetRegs(const Regs& r) {
  return Ptrace(PTRACE_SETREGS, tid_, 0, reinterpret_cast<uint64_t>(&r)) == 0;
}

bool StubThread::GetFp(FpState* fp) {
  struct iovec iov = {fp->data(), FpState::Size()};
  if (Ptrace(PTRACE_GETREGSET, tid_, NT_X86_XSTATE, reinterpret_cast<uint64_t>(&iov)) == 0) return true;
  return Ptrace(PTRACE_GETFPREGS, tid_, 0, reinterpret_cast<uint64_t>(fp->data())) == 0;
}

bool StubThread::SetFp(const FpState& fp) {
  struct iovec iov = {const_cast<uint8_t*>(fp.data()), FpState::Size()};
  if (Ptrace(PTRACE_SETREGSET, tid_, NT_X86_XSTATE, reinterpret_cast<uint64_t>(&iov)) == 0) return true;
  return Ptrace(PTRACE_SETFPREGS, tid_, 0, reinterpret_cast<uint64_t>(fp.data())) == 0;
}

int64_t StubThread::Run(const Regs& r, Regs* out) {
  if (!SetRegs(r)) return -ESRCH;
  if (Ptrace(PTRACE_CONT, tid_, 0, 0) < 0) return -ESRCH;
  for (;;) {
    int status;
    if (Wait(&status) == WaitOutcome::kExited) {
      tid_ = 0;
      return -ESRCH;
    }
    int sig = WSTOPSIG(status);
    if (sig == SIGTRAP && (status >> 16) == 0) break;
    if (sig == kInterruptSignal || (status >> 16) == PTRACE_EVENT_STOP) {
      interrupted_ = true;
    } else {
      // Stub code faulted: the stub is broken (or was tampered with).
      siginfo_t si{};
      Ptrace(PTRACE_GETSIGINFO, tid_, 0, reinterpret_cast<uint64_t>(&si));
      Regs cur{};
      GetRegs(&cur);
      SLOG(kError, "stub %d: signal %d (code %d, addr %p) at %#llx during injection (rax %#llx cs %#llx ss %#llx fl %#llx sp %#llx)", tid_, sig,
           si.si_code, si.si_addr, cur.rip, cur.rax, cur.cs, cur.ss, cur.eflags, cur.rsp);
      return -EFAULT;
    }
    Ptrace(PTRACE_CONT, tid_, 0, 0);
  }
  if (!GetRegs(out)) return -ESRCH;
  return 0;
}

int64_t StubThread::Syscall(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                            uint64_t a4, uint64_t a5) {
  SCHECK(have_scratch_);
  Regs r = scratch_;
  r.rip = g_layout.syscall;
  r.rax = nr;
  r.orig_rax = static_cast<uint64_t>(-1);
  r.rdi = a0;
  r.rsi = a1;
  r.rdx = a2;
  r.r10 = a3;
  r.r8 = a4;
  r.r9 = a5;
  Regs out;
  if (int64_t e = Run(r, &out); e < 0) return e;
  return static_cast<int64_t>(out.rax);
}

int64_t StubThread::Clone(uint64_t flags) {
  SCHECK(have_scratch_);
  Regs r = scratch_;
  r.rip = g_layout.clone;
  r.rax = 56;  // clone
  r.orig_rax = static_cast<uint64_t>(-1);
  r.rdi = flags;
  r.rsi = 0;  // same stack pointer: parked threads touch no memory.
  r.rdx = r.r10 = r.r8 = 0;
  Regs out;
  if (int64_t e = Run(r, &out); e < 0) return e;
  return static_cast<int64_t>(out.rax);
}

int64_t StubThread::Batch(uint64_t ops_addr, uint64_t count) {
  SCHECK(have_scratch_);
  Regs r = scratch_;
  r.rip = g_layout.batch;
  r.orig_rax = static_cast<uint64_t>(-1);
  r.r12 = ops_addr;
  r.r13 = count;
  Regs out;
  if (int64_t e = Run(r, &out); e < 0) return e;
  if (out.r13 != 0) {
    int64_t rax = static_cast<int64_t>(out.rax);
    return rax < 0 ? rax : -EIO;
  }
  return 0;
}

void StubThread::Exit() {
  if (!valid()) return;
  Regs r = scratch_;
  r.rip = g_layout.syscall;
  r.rax = 60;  // exit: this thread only
  r.rdi = 0;
  r.orig_rax = static_cast<uint64_t>(-1);
  if (tid_ == pid_) {
    // The stub process's leader: Linux reports its exit only once every
    // other thread of the process is gone, so waiting here could wait for
    // ever (another task still runs in this address space). Let it go
    // untraced: it exits as a zombie that the process's parent reaps.
    if (!SetRegs(r) || Ptrace(PTRACE_DETACH, tid_, 0, 0) != 0) {
      int status;
      waitpid(tid_, &status, __WALL | WNOHANG);
    }
    tid_ = 0;
    return;
  }
  if (SetRegs(r) && Ptrace(PTRACE_CONT, tid_, 0, 0) == 0) {
    for (;;) {
      int status;
      if (Wait(&status) == WaitOutcome::kExited) break;
      // PTRACE_EVENT_EXIT is not enabled; anything else is a signal stop.
      Ptrace(PTRACE_CONT, tid_, 0, 0);
    }
  } else {
    // Already gone; reap if it is a zombie we trace.
    int status;
    waitpid(tid_, &status, __WALL | WNOHANG);
  }
  tid_ = 0;
}

}  // namespace sentry::ptrace_platform
