#include "platform/ptrace/ptrace.h"

#include <sched.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "sentry/base/log.h"
#include "sentry/mm/memory_file.h"

namespace sentry::ptrace_platform {
namespace {

thread_local PtraceAddressSpace* tls_as = nullptr;
thread_local StubThread* tls_thread = nullptr;

}  // namespace

absl::StatusOr<std::unique_ptr<PtracePlatform>> PtracePlatform::Create(MemoryFile* mf) {
  std::unique_ptr<PtracePlatform> p(new PtracePlatform(mf));
  auto m = StubMaster::Create(mf, StubMode::kPtrace, 0, nullptr);
  if (!m.ok()) return m.status();
  p->master_ = std::move(*m);
  return p;
}

ErrorOr<std::unique_ptr<AddressSpace>> PtracePlatform::NewAddressSpace() {
  PooledStub stub = TRY_ASSIGN(master_->Take());
  auto batch = mf_->Allocate(kPageSize);
  if (!batch.ok()) {
    kill(stub.pid, SIGKILL);
    return Err(batch.error());
  }
  return std::unique_ptr<AddressSpace>(new PtraceAddressSpace(this, stub.pid, *batch));
}

// ---- PtraceAddressSpace ----

PtraceAddressSpace::PtraceAddressSpace(PtracePlatform* p, pid_t pid, uint64_t batch_off)
    : p_(p), pid_(pid), batch_off_(batch_off), initial_tid_(pid) {}

PtraceAddressSpace::~PtraceAddressSpace() {
  // Threads still in the stub (parked or traced by exiting tasks) die with
  // it; their tracers reap them.
  kill(pid_, SIGKILL);
  pid_t unclaimed = initial_tid_.exchange(0);
  (void)unclaimed;  // untraced: its parent (the master stub) auto-reaps it.
  p_->memory_file()->DecRef({batch_off_, batch_off_ + kPageSize});
}

void PtraceAddressSpace::MapFile(UserAddr addr, uint64_t off, uint64_t len, Prot prot) {
  absl::MutexLock l(&mu_);
  pending_.push_back({SYS_mmap,
                      {addr.value(), len, static_cast<uint64_t>(prot),
                       static_cast<uint64_t>(MAP_SHARED | MAP_FIXED),
                       static_cast<uint64_t>(Layout().memfd), off}});
}

void PtraceAddressSpace::Unmap(UserAddr addr, uint64_t len) {
  absl::MutexLock l(&mu_);
  pending_.push_back({SYS_munmap, {addr.value(), len, 0, 0, 0, 0}});
}

void PtraceAddressSpace::Protect(UserAddr addr, uint64_t len, Prot prot) {
  absl::MutexLock l(&mu_);
  pending_.push_back({SYS_mprotect, {addr.value(), len, static_cast<uint64_t>(prot), 0, 0, 0}});
}

bool PtraceAddressSpace::CanOperate() const { return tls_as == this && tls_thread != nullptr; }
StubThread* PtraceAddressSpace::CurrentThread() const { return CanOperate() ? tls_thread : nullptr; }

bool PtraceAddressSpace::Flush() {
  absl::MutexLock l(&mu_);
  if (pending_.empty()) return true;
  StubThread* t = CurrentThread();
  if (t == nullptr) return false;
  const StubLayout& lay = Layout();
  if (!batch_page_mapped_) {
    int64_t r = t->Syscall(SYS_mmap, lay.batch_page, kPageSize, PROT_READ, MAP_SHARED | MAP_FIXED,
                           static_cast<uint64_t>(lay.memfd), batch_off_);
    if (r < 0) {
      SLOG(kError, "ptrace: cannot map batch page in stub %d: %s", pid_,
           strerror(static_cast<int>(-r)));
      return false;
    }
    batch_page_mapped_ = true;
  }
  if (LogEnabled(LogLevel::kDebug)) {
    for (const StubOp& op : pending_) {
      SLOG(kDebug, "ptrace: stub %d via %d: op %d(%#x, %#x, %#x, ..., off %#x)", pid_, t->tid(),
           static_cast<int>(op.nr), op.a[0], op.a[1], op.a[2], op.a[5]);
    }
  }
  auto* page = reinterpret_cast<StubOp*>(p_->memory_file()->Internal(batch_off_));
  const size_t per_batch = kPageSize / sizeof(StubOp);
  for (size_t i = 0; i < pending_.size(); i += per_batch) {
    size_t n = std::min(per_batch, pending_.size() - i);
    memcpy(page, &pending_[i], n * sizeof(StubOp));
    int64_t r = t->Batch(lay.batch_page, n);
    if (r < 0) {
      // The Sentry computed these operations itself; a failure means the
      // stub no longer mirrors the MemoryManager, which is not survivable
      // for this address space.
      SLOG(kError, "ptrace: stub %d batch failed: %s", pid_, strerror(static_cast<int>(-r)));
      kill(pid_, SIGKILL);
      pending_.clear();
      return false;
    }
  }
  pending_.clear();
  return true;
}

// ---- PtraceContext ----

PtraceContext::~PtraceContext() { Release(); }

uint64_t PtraceContext::AppCpuTimeNs() { return app_ns_; }

void PtraceContext::Release() {
  if (tls_as == as_) {
    tls_as = nullptr;
    tls_thread = nullptr;
  }
  target_.store(0);
  thread_.Exit();
  as_ = nullptr;
  if (adopt_tid_ != 0) {
    // A sibling prepared a parked thread we never used: take it and end it.
    StubThread t(adopt_as_->pid(), adopt_tid_);
    if (t.Seize() == 0) t.Exit();
    adopt_tid_ = 0;
    adopt_as_ = nullptr;
  }
}

bool PtraceContext::EnterAddressSpace(PtraceAddressSpace* as) {
  if (as_ == as && thread_.valid()) return true;
  if (thread_.valid()) Release();
  pid_t tid = 0;
  if (adopt_as_ == as && adopt_tid_ != 0) {
    tid = adopt_tid_;
    adopt_tid_ = 0;
    adopt_as_ = nullptr;
  } else {
    tid = as->TakeInitialThread();
  }
  if (tid == 0) {
    SLOG(kError, "ptrace: no stub thread available in stub %d", as->pid());
    return false;
  }
  thread_ = StubThread(as->pid(), tid);
  pinned_cpu_ = -1;
  if (Errno e = thread_.Seize(); e != 0) {
    SLOG(kError, "ptrace: seize %d: %s", tid, strerror(e));
    thread_ = StubThread();
    return false;
  }
  as_ = as;
  return true;
}

SwitchResult PtraceContext::Switch(AddressSpace* generic_as, ArchContext& ac) {
  auto* as = static_cast<PtraceAddressSpace*>(generic_as);
  SwitchResult res;
  if (!EnterAddressSpace(as)) {
    res.reason = StopReason::kDead;
    return res;
  }
  tls_as = as;
  tls_thread = &thread_;
  target_.store((uint64_t{static_cast<uint32_t>(as->pid())} << 32) |
                static_cast<uint32_t>(thread_.tid()));
  if (!as->Flush()) {
    res.reason = StopReason::kDead;
    return res;
  }
  if (thread_.TakeInterrupted()) interrupt_.store(true);
  if (interrupt_.exchange(false)) {
    res.reason = StopReason::kInterrupted;
    return res;
  }
  if (ac.fp_dirty) {
    thread_.SetFp(ac.fp);
    ac.fp_dirty = false;
  }
  ac.fp_valid = false;  // the app is about to change it
  ac.regs.orig_rax = static_cast<uint64_t>(-1);
  // Keep the stub thread on our CPU: a ptrace stop then wakes us without
  // an inter-processor wakeup, which costs tens of microseconds in a VM.
  if (pin_) {
    int cpu = sched_getcpu();
    if (cpu >= 0 && cpu != pinned_cpu_) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(cpu, &set);
      if (sched_setaffinity(thread_.tid(), sizeof(set), &set) == 0) pinned_cpu_ = cpu;
    }
  }
  const uint64_t resumed = MonotonicNs();
  if (!thread_.SetRegs(ac.regs) ||
      ptrace(PTRACE_SYSEMU, thread_.tid(), nullptr, nullptr) != 0) {
    res.reason = StopReason::kDead;
    return res;
  }
  int status;
  WaitOutcome waited = thread_.Wait(&status);
  app_ns_ += MonotonicNs() - resumed;
  if (waited == WaitOutcome::kExited) {
    thread_ = StubThread();
    as_ = nullptr;
    res.reason = StopReason::kDead;
    return res;
  }
  if (!thread_.GetRegs(&ac.regs)) {
    res.reason = StopReason::kDead;
    return res;
  }
  int sig = WSTOPSIG(status);
  if (sig == (SIGTRAP | 0x80)) {
    res.reason = StopReason::kSyscall;
    return res;
  }
  if (sig == kInterruptSignal || (status >> 16) == PTRACE_EVENT_STOP) {
    interrupt_.store(false);
    res.reason = StopReason::kInterrupted;
    return res;
  }
  ptrace(PTRACE_GETSIGINFO, thread_.tid(), nullptr, &res.info);
  if ((sig == SIGSEGV || sig == SIGBUS) && res.info.si_code > 0 && res.info.si_code != SI_KERNEL) {
    res.reason = StopReason::kFault;
    res.fault_addr = reinterpret_cast<uint64_t>(res.info.si_addr);
    return res;
  }
  res.reason = StopReason::kSignal;
  return res;
}

void PtraceContext::Interrupt() {
  interrupt_.store(true);
  uint64_t t = target_.load();
  if (t != 0) {
    syscall(SYS_tgkill, static_cast<pid_t>(t >> 32), static_cast<pid_t>(t & 0xffffffff),
            kInterruptSignal);
  }
}

void PtraceContext::PullFpState(ArchContext& ac) {
  if (ac.fp_valid) return;
  if (thread_.valid() && thread_.GetFp(&ac.fp)) {
    ac.fp_valid = true;
    return;
  }
  ac.fp.Reset();
  ac.fp_valid = true;
}

Errno PtraceContext::PrepareSibling(AddressSpace* generic_as, Context& generic_child) {
  auto* as = static_cast<PtraceAddressSpace*>(generic_as);
  auto& child = static_cast<PtraceContext&>(generic_child);
  if (as != as_ || !thread_.valid()) return EINVAL;
  int64_t tid = thread_.Clone(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
                              CLONE_SYSVSEM);
  if (thread_.TakeInterrupted()) interrupt_.store(true);
  if (tid < 0) return static_cast<Errno>(-tid);
  child.adopt_as_ = as;
  child.adopt_tid_ = static_cast<pid_t>(tid);
  return 0;
}

}  // namespace sentry::ptrace_platform
