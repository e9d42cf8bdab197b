#include "platform/systrap/systrap.h"

#include <linux/futex.h>
#include <sched.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstring>

#include "platform/ptrace/stub_thread.h"
#include "sentry/base/log.h"
#include "sentry/kernel/signal_types.h"
#include "sentry/mm/memory_file.h"

namespace sentry::systrap {
namespace {

using ptrace_platform::kSlotBytes;
using ptrace_platform::kSlotCtxBytes;
using ptrace_platform::Layout;
using ptrace_platform::StubOp;
using ptrace_platform::StubThread;

thread_local SystrapAddressSpace* tls_as = nullptr;
thread_local SysThread* tls_thread = nullptr;

// The Sentry spins this long for a stub before sleeping: syscall-heavy
// loops then hand over without waking a sleeping CPU.
constexpr uint64_t kSentrySpinNs = 50000;
// Iterations of `pause` the stub spins for the Sentry's answer.
constexpr uint64_t kStubSpin = 700;
// Default segment word (cs, gs, fs, ss) for a thread that never stopped.
constexpr uint64_t kDefaultCsGsFs = kUserCS | (kUserDS << 48);

enum Greg {
  kR8, kR9, kR10, kR11, kR12, kR13, kR14, kR15, kRdi, kRsi, kRbp, kRbx, kRdx, kRax, kRcx, kRsp,
  kRip, kEfl, kCsGsFs, kErr, kTrapno, kOldmask, kCr2
};

void Give(const SysThread& t, uint32_t cmd) {
  t.ctx->cmd = cmd;
  t.ctx->sentry_blocked.store(0, std::memory_order_relaxed);
  // Store, full fence, then check whether the stub sleeps: pairs with the
  // stub's "flag, fence, check state" so one side always sees the other.
  t.ctx->state.store(kStateStub, std::memory_order_seq_cst);
  if (t.ctx->stub_sleeping.load(std::memory_order_seq_cst)) {
    syscall(SYS_futex, &t.ctx->state, FUTEX_WAKE, 1, nullptr, nullptr, 0);
  }
}

std::atomic<uint64_t> g_waits{0}, g_sleeps{0}, g_wait_ns{0};
struct Report {
  ~Report() {
    if (getenv("SYSTRAP_PROFILE") && g_waits) {
      fprintf(stderr, "systrap: %lu waits, %lu slept, avg %.2f us\n", (unsigned long)g_waits.load(),
              (unsigned long)g_sleeps.load(), g_wait_ns.load() / 1000.0 / g_waits.load());
    }
  }
} g_report;

// Waits until the stub hands the ball back; false if the thread is gone.
bool Wait(const SysThread& t) {
  struct Acc {
    uint64_t s = MonotonicNs();
    ~Acc() { g_waits++; g_wait_ns += MonotonicNs() - s; }
  } acc;
  uint64_t start = MonotonicNs();
  for (int n = 1; t.ctx->state.load(std::memory_order_acquire) != kStateSentry; n++) {
    if (n % 64 == 0) {
      if (MonotonicNs() - start > kSentrySpinNs) break;
      // If the stub shares our CPU, spinning only delays it: let it run.
      sched_yield();
    }
    __builtin_ia32_pause();
  }
  if (t.ctx->state.load(std::memory_order_acquire) != kStateSentry) g_sleeps++;
  while (t.ctx->state.load(std::memory_order_acquire) != kStateSentry) {
    t.ctx->sentry_sleeping.store(1, std::memory_order_seq_cst);
    if (t.ctx->state.load(std::memory_order_seq_cst) == kStateSentry) break;
    struct timespec ts = {0, 100000000};
    long r = syscall(SYS_futex, &t.ctx->state, FUTEX_WAIT, kStateStub, &ts, nullptr, 0);
    if (r < 0 && errno == ETIMEDOUT && syscall(SYS_tgkill, t.pid, t.tid, 0) != 0) {
      t.ctx->sentry_sleeping.store(0);
      return false;
    }
  }
  t.ctx->sentry_sleeping.store(0, std::memory_order_relaxed);
  return true;
}

bool RunCommand(const SysThread& t, uint32_t cmd) {
  Give(t, cmd);
  return Wait(t);
}

// Runs `n` syscalls on the stub thread. 0, or -errno of the first failure.
int64_t RunOps(const SysThread& t, const StubOp* ops, size_t n) {
  for (size_t i = 0; i < n; i += kMaxOps) {
    size_t k = std::min(kMaxOps, n - i);
    memcpy(t.ctx->ops, ops + i, k * sizeof(StubOp));
    t.ctx->nops = k;
    t.ctx->remain = 0;
    if (!RunCommand(t, kCmdBatch)) return -ESRCH;
    if (t.ctx->remain != 0) {
      int64_t r = static_cast<int64_t>(t.ctx->result);
      return r < 0 ? r : -EIO;
    }
  }
  return 0;
}

void RegsToGregs(const Regs& r, uint64_t* g, uint64_t csgsfs) {
  g[kR8] = r.r8; g[kR9] = r.r9; g[kR10] = r.r10; g[kR11] = r.r11;
  g[kR12] = r.r12; g[kR13] = r.r13; g[kR14] = r.r14; g[kR15] = r.r15;
  g[kRdi] = r.rdi; g[kRsi] = r.rsi; g[kRbp] = r.rbp; g[kRbx] = r.rbx;
  g[kRdx] = r.rdx; g[kRax] = r.rax; g[kRcx] = r.rcx; g[kRsp] = r.rsp;
  g[kRip] = r.rip; g[kEfl] = r.eflags; g[kCsGsFs] = csgsfs;
}

void GregsToRegs(const uint64_t* g, Regs* r) {
  r->r8 = g[kR8]; r->r9 = g[kR9]; r->r10 = g[kR10]; r->r11 = g[kR11];
  r->r12 = g[kR12]; r->r13 = g[kR13]; r->r14 = g[kR14]; r->r15 = g[kR15];
  r->rdi = g[kRdi]; r->rsi = g[kRsi]; r->rbp = g[kRbp]; r->rbx = g[kRbx];
  r->rdx = g[kRdx]; r->rax = g[kRax]; r->rcx = g[kRcx]; r->rsp = g[kRsp];
  r->rip = g[kRip]; r->eflags = g[kEfl];
  r->cs = kUserCS;
  r->ss = kUserDS;
}

ContextPage* CtxAt(MemoryFile* mf, uint64_t off) {
  return reinterpret_cast<ContextPage*>(mf->Internal(off));
}

// Fresh slot pages are zero (the MemoryFile hands out zeroed memory); the
// stub needs the FP size and spin count before its first stop.
void InitSlot(MemoryFile* mf, uint64_t off) {
  ContextPage* c = CtxAt(mf, off);
  c->fp_size = static_cast<uint32_t>(FpState::Size());
  c->spin = kStubSpin;
}

SysThread MakeThread(MemoryFile* mf, pid_t pid, pid_t tid, int slot, uint64_t off) {
  SysThread t;
  t.pid = pid;
  t.tid = tid;
  t.slot = slot;
  t.slot_off = off;
  t.ctx = CtxAt(mf, off);
  t.fp = mf->Internal(off + kFpOffset);
  return t;
}

}  // namespace

// ---- SystrapPlatform ----

absl::Status SystrapPlatform::Probe() {
  // The stub saves and restores fs/gs bases with rdfsbase/wrfsbase, which
  // the host kernel must have enabled for user space (HWCAP2_FSGSBASE).
  if (!(getauxval(AT_HWCAP2) & 2)) {
    return absl::FailedPreconditionError("systrap needs FSGSBASE instructions, not enabled here");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<SystrapPlatform>> SystrapPlatform::Create(MemoryFile* mf) {
  if (auto s = Probe(); !s.ok()) return s;
  std::unique_ptr<SystrapPlatform> p(new SystrapPlatform(mf));
  SystrapPlatform* raw = p.get();
  auto m = ptrace_platform::StubMaster::Create(
      mf, ptrace_platform::StubMode::kSystrap, kSlots,
      [raw](pid_t pid) { return raw->PrepareStub(pid); });
  if (!m.ok()) return m.status();
  p->master_ = std::move(*m);
  return p;
}

ErrorOr<uint64_t> SystrapPlatform::PrepareStub(pid_t pid) {
  // Runs in the factory thread: attach once, map the first thread's slot,
  // install the signal handlers (process-wide), start the thread in
  // systrap_thread_start and let go for good.
  StubThread st(pid, pid);
  TRY(st.Seize());
  if (getenv("SYSTRAP_STUB_CPU")) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(atoi(getenv("SYSTRAP_STUB_CPU")), &set);
    sched_setaffinity(pid, sizeof(set), &set);
  }
  uint64_t off = TRY_ASSIGN(mf_->Allocate(kSlotBytes));
  InitSlot(mf_, off);
  const auto& lay = Layout();
  // (master_ may not be set yet: the factory starts inside StubMaster::Create.)
  const uint64_t slot = lay.slots_base;
  auto fail = [&](int64_t r, const char* what) -> ErrorOr<uint64_t> {
    SLOG(kError, "systrap: stub %d: %s: %s", pid, what, strerror(static_cast<int>(-r)));
    mf_->DecRef({off, off + kSlotBytes});
    return Err(static_cast<int>(-r));
  };
  int64_t r = st.Syscall(SYS_mmap, slot, kSlotBytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
                         static_cast<uint64_t>(lay.memfd), off);
  if (r < 0) return fail(r, "map slot");
  // The sigaction struct is staged in the slot's ops area.
  auto* sa = reinterpret_cast<KSigaction*>(mf_->Internal(off) + offsetof(ContextPage, ops));
  sa->handler = lay.sys_handler;
  sa->flags = SA_SIGINFO | SA_ONSTACK | kSaRestorer;
  sa->restorer = lay.sys_restorer;
  sa->mask = ~SigSet{0};
  for (int sig : {SIGSYS, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGCHLD}) {
    r = st.Syscall(SYS_rt_sigaction, static_cast<uint64_t>(sig),
                   slot + offsetof(ContextPage, ops), 0, sizeof(SigSet));
    if (r < 0) return fail(r, "install handler");
  }
  *sa = KSigaction{};
  Regs regs;
  if (!st.GetRegs(&regs)) return fail(-ESRCH, "get regs");
  regs.rip = lay.sys_thread_start;
  regs.r12 = slot;
  regs.rsp = slot + kSlotBytes;
  regs.orig_rax = static_cast<uint64_t>(-1);
  regs.rax = 0;
  if (!st.SetRegs(regs) || ptrace(PTRACE_DETACH, pid, nullptr, nullptr) != 0) {
    return fail(-ESRCH, "start thread");
  }
  return off;
}

ErrorOr<std::unique_ptr<AddressSpace>> SystrapPlatform::NewAddressSpace() {
  ptrace_platform::PooledStub stub = TRY_ASSIGN(master_->Take());
  return std::unique_ptr<AddressSpace>(new SystrapAddressSpace(this, stub.pid, stub.prepared));
}

// ---- SystrapAddressSpace ----

SystrapAddressSpace::SystrapAddressSpace(SystrapPlatform* p, pid_t pid, uint64_t slot0_off)
    : p_(p), pid_(pid), slot0_off_(slot0_off), slots_(SystrapPlatform::kSlots, false) {
  slots_[0] = true;
}

SystrapAddressSpace::~SystrapAddressSpace() {
  kill(pid_, SIGKILL);
  // Slot pages die with the process (its mappings) and our references.
  p_->memory_file()->DecRef({slot0_off_, slot0_off_ + kSlotBytes});
}

SysThread SystrapAddressSpace::TakeInitialThread() {
  if (initial_taken_.exchange(true)) return SysThread{};
  return MakeThread(p_->memory_file(), pid_, pid_, 0, slot0_off_);
}

ErrorOr<SysThread> SystrapAddressSpace::AllocSlot() {
  int slot = -1;
  {
    absl::MutexLock l(&mu_);
    for (size_t i = 1; i < slots_.size(); i++) {
      if (!slots_[i]) {
        slots_[i] = true;
        slot = static_cast<int>(i);
        break;
      }
    }
  }
  if (slot < 0) return Err(EAGAIN);  // see kSlots
  auto off = p_->memory_file()->Allocate(kSlotBytes);
  if (!off.ok()) {
    absl::MutexLock l(&mu_);
    slots_[static_cast<size_t>(slot)] = false;
    return Err(off.error());
  }
  InitSlot(p_->memory_file(), *off);
  return MakeThread(p_->memory_file(), pid_, 0, slot, *off);
}

void SystrapAddressSpace::FreeSlot(const SysThread& t) {
  if (t.slot <= 0) return;  // slot 0 belongs to the address space
  p_->memory_file()->DecRef({t.slot_off, t.slot_off + kSlotBytes});
  absl::MutexLock l(&mu_);
  slots_[static_cast<size_t>(t.slot)] = false;
}

void SystrapAddressSpace::MapFile(UserAddr addr, uint64_t off, uint64_t len, Prot prot) {
  absl::MutexLock l(&mu_);
  pending_.push_back({SYS_mmap,
                      {addr.value(), len, static_cast<uint64_t>(prot),
                       static_cast<uint64_t>(MAP_SHARED | MAP_FIXED),
                       static_cast<uint64_t>(Layout().memfd), off}});
}

void SystrapAddressSpace::Unmap(UserAddr addr, uint64_t len) {
  absl::MutexLock l(&mu_);
  pending_.push_back({SYS_munmap, {addr.value(), len, 0, 0, 0, 0}});
}

void SystrapAddressSpace::Protect(UserAddr addr, uint64_t len, Prot prot) {
  absl::MutexLock l(&mu_);
  pending_.push_back({SYS_mprotect, {addr.value(), len, static_cast<uint64_t>(prot), 0, 0, 0}});
}

bool SystrapAddressSpace::CanOperate() const { return tls_as == this && tls_thread != nullptr; }
SysThread* SystrapAddressSpace::CurrentThread() const { return CanOperate() ? tls_thread : nullptr; }

bool SystrapAddressSpace::Flush() {
  absl::MutexLock l(&mu_);
  if (pending_.empty()) return true;
  SysThread* t = CurrentThread();
  if (t == nullptr) return false;
  int64_t r = RunOps(*t, pending_.data(), pending_.size());
  pending_.clear();
  if (r < 0) {
    // The Sentry computed these operations; a failure means the stub no
    // longer mirrors the MemoryManager. The address space cannot go on.
    SLOG(kError, "systrap: stub %d: mapping operation failed: %s", pid_,
         strerror(static_cast<int>(-r)));
    kill(pid_, SIGKILL);
    return false;
  }
  return true;
}

// ---- SystrapContext ----

SystrapContext::~SystrapContext() { Release(); }

uint64_t SystrapContext::AppCpuTimeNs() { return app_ns_; }

namespace {
// Ends a stub thread and waits until it is gone, so its slot can be reused.
void EndThread(const SysThread& t) {
  Give(t, kCmdExit);
  if (t.slot == 0) return;  // a leader lingers as a zombie; slot 0 is never reused
  for (int i = 0; i < 1000 && syscall(SYS_tgkill, t.pid, t.tid, 0) == 0; i++) {
    struct timespec ts = {0, 100000};
    nanosleep(&ts, nullptr);
  }
}
}  // namespace

void SystrapContext::Release() {
  if (tls_as == as_) {
    tls_as = nullptr;
    tls_thread = nullptr;
  }
  target_.store(0);
  if (thread_.valid()) {
    EndThread(thread_);
    as_->FreeSlot(thread_);
    thread_ = SysThread{};
  }
  as_ = nullptr;
  if (adopt_.valid()) {
    // A sibling prepared a thread we never used.
    if (Wait(adopt_)) EndThread(adopt_);
    adopt_as_->FreeSlot(adopt_);
    adopt_ = SysThread{};
    adopt_as_ = nullptr;
  }
}

bool SystrapContext::Enter(SystrapAddressSpace* as) {
  if (as_ == as && thread_.valid()) return true;
  if (thread_.valid()) Release();
  SysThread t;
  if (adopt_as_ == as && adopt_.valid()) {
    t = adopt_;
    adopt_ = SysThread{};
    adopt_as_ = nullptr;
  } else {
    t = as->TakeInitialThread();
  }
  if (!t.valid()) {
    SLOG(kError, "systrap: no stub thread available in stub %d", as->pid());
    return false;
  }
  // A new thread reports "ready" (si_signo 0) once its handler runs.
  if (!Wait(t)) return false;
  thread_ = t;
  as_ = as;
  csgsfs_ = kDefaultCsGsFs;
  return true;
}

SwitchResult SystrapContext::Switch(AddressSpace* generic_as, ArchContext& ac) {
  auto* as = static_cast<SystrapAddressSpace*>(generic_as);
  SwitchResult res;
  res.reason = StopReason::kDead;
  if (!Enter(as)) return res;
  tls_as = as;
  tls_thread = &thread_;
  target_.store((uint64_t{static_cast<uint32_t>(as->pid())} << 32) |
                static_cast<uint32_t>(thread_.tid));
  if (!as->Flush()) return res;
  if (interrupt_.exchange(false)) {
    res.reason = StopReason::kInterrupted;
    return res;
  }
  ContextPage* c = thread_.ctx;
  RegsToGregs(ac.regs, c->gregs, csgsfs_);
  c->fs_base = ac.regs.fs_base;
  c->gs_base = ac.regs.gs_base;
  c->fp_size = static_cast<uint32_t>(FpState::Size());
  if (ac.fp_dirty) {
    memcpy(thread_.fp, ac.fp.data(), FpState::Size());
    c->fp_dirty = 1;
    ac.fp_dirty = false;
  } else {
    c->fp_dirty = 0;
  }
  const uint64_t resumed = MonotonicNs();
  bool ran = RunCommand(thread_, kCmdResume);
  app_ns_ += MonotonicNs() - resumed;
  if (!ran) {
    thread_ = SysThread{};
    as_ = nullptr;
    return res;
  }
  // Take a snapshot first: the application may scribble on the page.
  siginfo_t info;
  memcpy(&info, &c->info, sizeof(info));
  uint64_t g[23];
  memcpy(g, c->gregs, sizeof(g));
  GregsToRegs(g, &ac.regs);
  csgsfs_ = g[kCsGsFs];
  ac.regs.fs_base = c->fs_base;
  ac.regs.gs_base = c->gs_base;
  memcpy(ac.fp.data(), thread_.fp, FpState::Size());
  ac.fp_valid = true;

  res.info = info;
  if (info.si_signo == SIGSYS && info.si_code == 1 /* SYS_SECCOMP */) {
    // rax holds the syscall number (the kernel rolled it back), rip is past
    // the syscall instruction: what PTRACE_SYSEMU would show.
    ac.regs.orig_rax = static_cast<uint64_t>(static_cast<uint32_t>(info.si_syscall));
    res.reason = StopReason::kSyscall;
    return res;
  }
  ac.regs.orig_rax = static_cast<uint64_t>(-1);
  if (info.si_signo == SIGCHLD) {
    interrupt_.store(false);
    res.reason = StopReason::kInterrupted;
    return res;
  }
  if ((info.si_signo == SIGSEGV || info.si_signo == SIGBUS) && info.si_code > 0 &&
      info.si_code != SI_KERNEL) {
    res.reason = StopReason::kFault;
    res.fault_addr = reinterpret_cast<uint64_t>(info.si_addr);
    return res;
  }
  res.reason = StopReason::kSignal;
  return res;
}

void SystrapContext::WillBlock() {
  if (thread_.valid()) thread_.ctx->sentry_blocked.store(1, std::memory_order_relaxed);
}

void SystrapContext::Interrupt() {
  interrupt_.store(true);
  uint64_t t = target_.load();
  if (t != 0) {
    syscall(SYS_tgkill, static_cast<pid_t>(t >> 32), static_cast<pid_t>(t & 0xffffffff), SIGCHLD);
  }
}

void SystrapContext::PullFpState(ArchContext& ac) {
  // Every stop copies the FP state: it is always current in ac.
  if (!ac.fp_valid) {
    ac.fp.Reset();
    ac.fp_valid = true;
  }
}

Errno SystrapContext::PrepareSibling(AddressSpace* generic_as, Context& generic_child) {
  auto* as = static_cast<SystrapAddressSpace*>(generic_as);
  auto& child = static_cast<SystrapContext&>(generic_child);
  if (as != as_ || !thread_.valid()) return EINVAL;
  SysThread c = TRY_ASSIGN(as->AllocSlot());
  const uint64_t addr = Layout().slots_base + static_cast<uint64_t>(c.slot) * kSlotBytes;
  StubOp map = {SYS_mmap,
                {addr, kSlotBytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
                 static_cast<uint64_t>(Layout().memfd), c.slot_off}};
  int64_t r = RunOps(thread_, &map, 1);
  if (r < 0) {
    as->FreeSlot(c);
    return static_cast<int>(-r);
  }
  thread_.ctx->ops[0] = {SYS_clone,
                         {CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
                              CLONE_SYSVSEM,
                          addr + kSlotBytes, 0, 0, 0, addr}};
  if (!RunCommand(thread_, kCmdClone)) {
    as->FreeSlot(c);
    return ESRCH;
  }
  int64_t tid = static_cast<int64_t>(thread_.ctx->result);
  if (tid <= 0) {
    as->FreeSlot(c);
    return tid < 0 ? static_cast<int>(-tid) : EIO;
  }
  c.tid = static_cast<pid_t>(tid);
  child.adopt_as_ = as;
  child.adopt_ = c;
  return 0;
}

}  // namespace sentry::systrap
