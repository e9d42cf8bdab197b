// The task loop: run the application, handle what stopped it, repeat.
#include <sys/syscall.h>

#include "sentry/base/log.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "syscalls/syscalls.h"

namespace sentry {

namespace {
thread_local Task* tls_current_task = nullptr;
}  // namespace

Task* Task::Current() { return tls_current_task; }

void Task::Run() {
  tls_current_task = this;
  if (!child_settid.IsNull()) {
    int32_t tid = this->tid();
    (void)mm_->CopyOut(child_settid, &tid, sizeof(tid));
    child_settid = UserAddr();
  }
  for (;;) {
    if (interrupt_.load(std::memory_order_acquire) || restart_code_ != 0 || check_saved_mask_) {
      if (!ProcessPendingWork()) break;
    }
    auto as = mm_->GetAddressSpace();
    if (!as.ok()) {
      SLOG(kWarning, "task %d: no address space: %s", tid(), strerror(as.error()));
      k_->GroupExit(tg(), SIGKILL);
      continue;
    }
    uint64_t generation = mm_->generation();
    const uint64_t switch_cpu = SwitchStartCpu();
    in_app_.store(true, std::memory_order_release);
    SwitchResult r = ctx_->Switch(*as, arch_);
    in_app_.store(false, std::memory_order_release);
    AccountCpuTime(switch_cpu);
    switch (r.reason) {
      case StopReason::kSyscall:
        HandleSyscall();
        break;
      case StopReason::kFault: {
        FaultOutcome o = mm_->HandleFault(UserAddr(r.fault_addr), generation);
        if (o == FaultOutcome::kHandled) break;
        int code = o == FaultOutcome::kBusErr      ? static_cast<int>(BUS_ADRERR)
                   : o == FaultOutcome::kSegvMapErr ? static_cast<int>(SEGV_MAPERR)
                                                    : static_cast<int>(SEGV_ACCERR);
        SLOG(kDebug, "task %d: fault at %#x (ip %#llx) -> signal (code %d)", tid(), r.fault_addr,
             arch_.regs.rip, code);
        siginfo_t si = MakeSigInfo(o == FaultOutcome::kBusErr ? SIGBUS : SIGSEGV, code);
        si.si_addr = reinterpret_cast<void*>(r.fault_addr);
        ForceSignal(si);
        break;
      }
      case StopReason::kSignal:
        SLOG(kDebug, "task %d: synchronous signal %d (code %d) at ip %#llx", tid(),
             r.info.si_signo, r.info.si_code, arch_.regs.rip);
        ForceSignal(r.info);
        break;
      case StopReason::kInterrupted:
        break;
      case StopReason::kDead:
        SLOG(kWarning, "task %d: platform lost the thread; killing the process", tid());
        k_->GroupExit(tg(), SIGKILL);
        break;
    }
  }
  Exit();
}

void Task::HandleSyscall() {
  uint64_t nr = arch_.regs.orig_rax;
  SyscallArgs args{{arch_.regs.rdi, arch_.regs.rsi, arch_.regs.rdx, arch_.regs.r10,
                    arch_.regs.r8, arch_.regs.r9}};
  // A task without seccomp pays one atomic load here.
  if (seccomp_mode_.load(std::memory_order_acquire) != SECCOMP_MODE_DISABLED &&
      !SeccompPermits(nr, args)) {
    return;
  }
  SysRet r = Dispatch(*this, nr, args);
  if (r.value() == kSysRetNoReturnValue) return;
  int e = r.error();
  if (e == ERESTARTSYS || e == ERESTARTNOINTR || e == ERESTARTNOHAND ||
      e == ERESTART_RESTARTBLOCK) {
    // Decided at signal delivery: restart, or EINTR if a handler runs.
    restart_code_ = e;
    arch_.regs.rax = static_cast<uint64_t>(-EINTR);
    return;
  }
  arch_.regs.rax = static_cast<uint64_t>(r.value());
}

void Task::ApplyRestartWithoutHandler() {
  if (restart_code_ == 0) return;
  // No handler ran: every kind of restart happens (signal(7)).
  arch_.regs.rip -= 2;  // back over the 2-byte syscall instruction
  if (restart_code_ == ERESTART_RESTARTBLOCK) {
    arch_.regs.rax = SYS_restart_syscall;
  } else {
    arch_.regs.rax = arch_.regs.orig_rax;
  }
  restart_code_ = 0;
}

}  // namespace sentry
