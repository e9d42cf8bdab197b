// Seccomp for application tasks: installing filters (with TSYNC), strict
// mode, inheritance, and the per-syscall check (kernel/seccomp.c's
// __secure_computing()). Only application syscalls are filtered: nothing
// here affects the Sentry's own host syscalls.
#include <sys/syscall.h>

#include "absl/strings/str_format.h"
#include "sentry/base/log.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "syscalls/syscalls.h"

namespace sentry {
namespace {

// si_code of a seccomp SIGSYS (SYS_SECCOMP in the uapi siginfo.h).
constexpr int kSysSeccomp = 1;

// The seccomp siginfo of a TRAP or a kill: SIGSYS, SYS_SECCOMP, the
// address after the syscall instruction, the syscall and the filter data.
siginfo_t SeccompSigInfo(const ArchContext& arch, uint64_t nr, uint32_t data) {
  siginfo_t si = MakeSigInfo(SIGSYS, kSysSeccomp);
  si.si_call_addr = reinterpret_cast<void*>(arch.regs.rip);
  si.si_syscall = static_cast<int>(nr);
  si.si_arch = seccomp::kAuditArchX86_64;
  si.si_errno = static_cast<int>(data);
  return si;
}

const char* ActionName(uint32_t action) {
  switch (action) {
    case SECCOMP_RET_KILL_PROCESS: return "KILL_PROCESS";
    case SECCOMP_RET_KILL_THREAD: return "KILL_THREAD";
    case SECCOMP_RET_TRAP: return "TRAP";
    case SECCOMP_RET_ERRNO: return "ERRNO";
    case SECCOMP_RET_USER_NOTIF: return "USER_NOTIF";
    case SECCOMP_RET_TRACE: return "TRACE";
    case SECCOMP_RET_LOG: return "LOG";
    case SECCOMP_RET_ALLOW: return "ALLOW";
    default: return "unknown (KILL_PROCESS)";
  }
}

}  // namespace

void Task::SetSeccompChainLocked(std::shared_ptr<const seccomp::Filter> chain) {
  seccomp_count_.store(chain ? chain->count() : 0, std::memory_order_release);
  seccomp_head_.store(chain.get(), std::memory_order_release);
  // The old head stays alive as an ancestor of the new one.
  seccomp_chain_ = std::move(chain);
  if (seccomp_chain_ && seccomp_mode_.load(std::memory_order_relaxed) == SECCOMP_MODE_DISABLED) {
    seccomp_mode_.store(SECCOMP_MODE_FILTER, std::memory_order_release);
  }
}

void Task::InheritSeccompLocked(const Task& parent) {
  const int mode = parent.seccomp_mode_.load(std::memory_order_acquire);
  if (mode == SECCOMP_MODE_DISABLED) return;
  SetSeccompChainLocked(parent.seccomp_chain_);
  seccomp_mode_.store(mode, std::memory_order_release);
}

Errno Task::SetSeccompStrict() {
  absl::MutexLock tl(&k_->tasks_mu_);
  absl::MutexLock sl(&tg_->sighand->mu);
  // seccomp_may_assign_mode(): a task never changes from one mode to another.
  const int mode = seccomp_mode_.load(std::memory_order_relaxed);
  if (mode != SECCOMP_MODE_DISABLED && mode != SECCOMP_MODE_STRICT) return EINVAL;
  seccomp_mode_.store(SECCOMP_MODE_STRICT, std::memory_order_release);
  return 0;
}

SysRet Task::InstallSeccompFilter(std::vector<sock_filter> prog, unsigned flags) {
  absl::MutexLock tl(&k_->tasks_mu_);
  absl::MutexLock sl(&tg_->sighand->mu);
  const int mode = seccomp_mode_.load(std::memory_order_relaxed);
  if (mode != SECCOMP_MODE_DISABLED && mode != SECCOMP_MODE_FILTER) return SysRet::Err(EINVAL);
  auto filter = seccomp::Filter::Create(std::move(prog), seccomp_chain_,
                                        (flags & SECCOMP_FILTER_FLAG_LOG) != 0);
  if (!filter.ok()) return SysRet::Err(filter.error());
  if (flags & SECCOMP_FILTER_FLAG_TSYNC) {
    // seccomp_can_sync_threads(): every other thread must have no filter
    // or a chain that ours extends; the first one that does not is named.
    for (Task* other : tg_->tasks) {
      if (other == this) continue;
      const int m = other->seccomp_mode_.load(std::memory_order_relaxed);
      if (m == SECCOMP_MODE_DISABLED) continue;
      if (m == SECCOMP_MODE_FILTER &&
          (seccomp_chain_ && seccomp_chain_->HasAncestor(other->seccomp_chain_.get()))) {
        continue;
      }
      if (flags & SECCOMP_FILTER_FLAG_TSYNC_ESRCH) return SysRet::Err(ESRCH);
      return other->tid();
    }
  }
  SetSeccompChainLocked(std::move(*filter));
  if (flags & SECCOMP_FILTER_FLAG_TSYNC) {
    for (Task* other : tg_->tasks) {
      if (other == this) continue;
      other->SetSeccompChainLocked(seccomp_chain_);
      // Siblings may not escape no_new_privs through the new filter.
      if (no_new_privs.load()) other->no_new_privs.store(true);
    }
  }
  return 0;
}

void Task::ExitThreadBySignal(int sig) {
  exit_status = sig;
  {
    absl::MutexLock l(&tg_->sighand->mu);
    exiting_ = true;
  }
  Interrupt();
}

bool Task::SeccompPermits(uint64_t nr, const SyscallArgs& a) {
  const int mode = seccomp_mode_.load(std::memory_order_acquire);
  if (mode == SECCOMP_MODE_STRICT) {
    // mode1_syscalls: everything else ends the thread with SIGKILL.
    if (nr == SYS_read || nr == SYS_write || nr == SYS_exit || nr == SYS_rt_sigreturn) {
      return true;
    }
    if (k_->options().strace) {
      LogRaw(absl::StrFormat("[%6d] seccomp strict mode: syscall %d kills the thread\n", tid(),
                             static_cast<int>(nr)));
    }
    ExitThreadBySignal(SIGKILL);
    return false;
  }
  const seccomp::Filter* head = seccomp_head_.load(std::memory_order_acquire);
  if (head == nullptr) return true;
  seccomp::SeccompData d;
  d.nr = static_cast<int32_t>(nr);
  d.arch = seccomp::kAuditArchX86_64;
  d.instruction_pointer = arch_.regs.rip;
  for (int i = 0; i < 6; i++) d.args[i] = a[i];
  const uint32_t ret = head->Evaluate(d);
  const uint32_t action = seccomp::ActionOf(ret);
  const uint32_t data = seccomp::DataOf(ret);
  if (action == SECCOMP_RET_ALLOW) return true;
  if (k_->options().strace) {
    LogRaw(absl::StrFormat("[%6d] seccomp: syscall %d -> %s (data %u)\n", tid(),
                           static_cast<int>(nr), ActionName(action), data));
  }
  switch (action) {
    case SECCOMP_RET_LOG:
      return true;
    case SECCOMP_RET_ERRNO:
      arch_.regs.rax = static_cast<uint64_t>(-static_cast<int64_t>(std::min(data, seccomp::kMaxErrno)));
      return false;
    case SECCOMP_RET_TRACE:       // no tracer can be attached in the sandbox
    case SECCOMP_RET_USER_NOTIF:  // no listener can be created in the sandbox
      arch_.regs.rax = static_cast<uint64_t>(-ENOSYS);
      return false;
    case SECCOMP_RET_TRAP:
      // syscall_rollback(): the handler sees rax as the syscall number,
      // and returning from it resumes after the syscall with its rax.
      arch_.regs.rax = arch_.regs.orig_rax;
      ForceSignal(SeccompSigInfo(arch_, nr, data));
      return false;
    case SECCOMP_RET_KILL_THREAD: {
      bool last = true;
      {
        absl::MutexLock tl(&k_->tasks_mu_);
        absl::MutexLock sl(&tg_->sighand->mu);
        for (Task* other : tg_->tasks) {
          if (other != this && !other->exiting_) last = false;
        }
      }
      if (!last) {
        ExitThreadBySignal(SIGSYS);
        return false;
      }
      [[fallthrough]];
    }
    default:
      // KILL_PROCESS, and any action Linux does not know: the whole process
      // dies of SIGSYS whatever its handler, as from a core-dumping signal.
      arch_.regs.rax = arch_.regs.orig_rax;
      k_->GroupExit(tg(), k_->FatalSignalStatus(tg(), SIGSYS));
      return false;
  }
}

}  // namespace sentry
