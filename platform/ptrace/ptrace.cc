#include "platform/ptrace/ptrace.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <sched.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "absl/strings/str_format.h"
#include "sentry/base/log.h"
#include "sentry/mm/memory_file.h"

extern "C" char stub_start[], stub_end[], stub_init[], stub_park[], stub_syscall[], stub_clone[],
    stub_batch[];

namespace sentry::ptrace_platform {
namespace {

constexpr size_t kPoolSize = 3;

// Layout of the stub's data page during stub_init; offsets match stub.S.
struct StubParams {
  uint64_t unmap[6];       // 0: three (addr, len) pairs
  uint64_t memfd;          // 48
  uint64_t sa_ignore[4];   // 56: kernel struct sigaction {SIG_IGN, 0, 0, 0}
  uint64_t zero_mask;      // 88
  struct sock_fprog fprog;  // 96
  struct sock_filter filter[40];  // 112
  uint8_t pad[1024 - 112 - 40 * 8];
  uint64_t rseq_ptr;       // 1024: glibc's rseq area of the forking thread
  uint64_t rseq_len;       // 1032
  uint64_t rseq_sig;       // 1040
  uint32_t cap_hdr[2];     // 1048: {_LINUX_CAPABILITY_VERSION_3, pid 0}
  uint32_t cap_data[6];    // 1056: two {effective, permitted, inheritable}, all zero
};
static_assert(offsetof(StubParams, memfd) == 48);
static_assert(offsetof(StubParams, sa_ignore) == 56);
static_assert(offsetof(StubParams, zero_mask) == 88);
static_assert(offsetof(StubParams, fprog) == 96);
static_assert(offsetof(StubParams, rseq_ptr) == 1024);
static_assert(offsetof(StubParams, cap_hdr) == 1048);
static_assert(offsetof(StubParams, cap_data) == 1056);
static_assert(sizeof(StubParams) <= 4096);

// The seccomp filter every stub runs under. Application syscalls never
// reach it (PTRACE_SYSEMU skips them before seccomp runs); it bounds what
// stub code can do if it ever runs untraced: only the syscalls the Sentry
// injects, and only from the stub's own code.
int BuildStubFilter(struct sock_filter* f, uint64_t code_start, uint64_t code_end) {
  int n = 0;
  auto stmt = [&](uint16_t code, uint32_t k) { f[n++] = BPF_STMT(code, k); };
  auto jump = [&](uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) {
    f[n++] = BPF_JUMP(code, k, jt, jf);
  };
  const uint32_t kKill = SECCOMP_RET_KILL_PROCESS;
  // The instruction pointer seccomp sees is just past the syscall insn.
  uint64_t lo = code_start, hi = code_end;
  SCHECK((lo >> 32) == (hi >> 32));  // one 4 GiB window: compare low words
  stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
  jump(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
  stmt(BPF_RET | BPF_K, kKill);
  stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer) + 4);
  jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(lo >> 32), 1, 0);
  stmt(BPF_RET | BPF_K, kKill);
  stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer));
  jump(BPF_JMP | BPF_JGE | BPF_K, static_cast<uint32_t>(lo), 1, 0);
  stmt(BPF_RET | BPF_K, kKill);
  jump(BPF_JMP | BPF_JGT | BPF_K, static_cast<uint32_t>(hi), 0, 1);
  stmt(BPF_RET | BPF_K, kKill);
  stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
  const uint32_t allowed[] = {SYS_mmap, SYS_munmap, SYS_mprotect, SYS_clone,
                              SYS_exit, SYS_exit_group, SYS_pause};
  for (uint32_t nr : allowed) {
    jump(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1);
    stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  }
  // prctl(PR_SET_PDEATHSIG, ...) only: new stubs tie their life to the
  // master stub's.
  jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_prctl, 0, 3);
  stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
  jump(BPF_JMP | BPF_JEQ | BPF_K, PR_SET_PDEATHSIG, 0, 1);
  stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  stmt(BPF_RET | BPF_K, kKill);
  return n;
}

// Forks the master stub: the child jumps straight into stub_init in the
// stub region and never returns to C++.
pid_t ForkMasterStub(uint64_t entry, uint64_t params) {
  long ret;
  register uint64_t r10 asm("r10") = 0;
  register uint64_t r8 asm("r8") = 0;
  register uint64_t r14 asm("r14") = entry;
  register uint64_t r15 asm("r15") = params;
  asm volatile(
      "syscall\n\t"
      "test %%rax, %%rax\n\t"
      "jnz 1f\n\t"
      "jmp *%%r14\n\t"
      "1:\n\t"
      : "=a"(ret)
      : "a"(SYS_clone), "D"(SIGCHLD), "S"(0), "d"(0), "r"(r10), "r"(r8), "r"(r14), "r"(r15)
      : "rcx", "r11", "memory");
  return static_cast<pid_t>(ret);
}

thread_local PtraceAddressSpace* tls_as = nullptr;
thread_local StubThread* tls_thread = nullptr;

}  // namespace

absl::StatusOr<std::unique_ptr<PtracePlatform>> PtracePlatform::Create(MemoryFile* mf) {
  std::unique_ptr<PtracePlatform> p(new PtracePlatform(mf));
  if (auto s = p->Init(); !s.ok()) return s;
  return p;
}

absl::Status PtracePlatform::Init() {
  // The host vDSO (and its data pages) stay mapped in every stub: the
  // application reads the clock through it without a syscall.
  uint64_t vlo = 0, vhi = 0;
  {
    std::ifstream maps("/proc/self/maps");
    std::string line;
    while (std::getline(maps, line)) {
      bool vvar = line.find("[vvar") != std::string::npos;
      bool vdso = line.find("[vdso]") != std::string::npos;
      if (!vvar && !vdso) continue;
      unsigned long lo, hi;
      if (sscanf(line.c_str(), "%lx-%lx", &lo, &hi) != 2) continue;
      if (vlo == 0 || lo < vlo) vlo = lo;
      if (hi > vhi) vhi = hi;
      if (vdso) vdso_ = lo;
    }
  }

  size_t code_len = static_cast<size_t>(stub_end - stub_start);
  SCHECK(code_len <= kPageSize);
  const size_t region_len = 3 * kPageSize;
  void* region = mmap(nullptr, region_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (region == MAP_FAILED) return ErrnoToStatus(errno, "mmap stub region");
  uint64_t base = reinterpret_cast<uint64_t>(region);
  memcpy(region, stub_start, code_len);
  if (mprotect(region, kPageSize, PROT_READ | PROT_EXEC) != 0) {
    return ErrnoToStatus(errno, "mprotect stub code");
  }
  auto off = [&](char* sym) { return base + static_cast<uint64_t>(sym - stub_start); };
  StubLayout l;
  l.region_start = base;
  l.region_len = region_len;
  l.code_start = base;
  l.code_end = base + code_len;
  l.init = off(stub_init);
  l.park = off(stub_park);
  l.syscall = off(stub_syscall);
  l.clone = off(stub_clone);
  l.batch = off(stub_batch);
  l.data_page = base + kPageSize;
  l.batch_page = base + 2 * kPageSize;
  l.memfd = mf_->fd();
  SetLayout(l);

  reserved_.push_back({base, base + region_len});
  if (vlo != 0) reserved_.push_back({vlo, vhi});
  std::sort(reserved_.begin(), reserved_.end(),
            [](const AddrRange& a, const AddrRange& b) { return a.start < b.start; });

  auto* params = reinterpret_cast<StubParams*>(l.data_page);
  memset(params, 0, sizeof(*params));
  uint64_t cursor = 0;
  int i = 0;
  for (const AddrRange& r : reserved_) {
    if (r.start > cursor) {
      params->unmap[i++] = cursor;
      params->unmap[i++] = r.start - cursor;
    }
    cursor = r.end;
  }
  params->unmap[i++] = cursor;
  params->unmap[i++] = kMaxUserAddress - cursor;
  SCHECK(i <= 6);
  params->memfd = static_cast<uint64_t>(mf_->fd());
  params->cap_hdr[0] = 0x20080522;  // _LINUX_CAPABILITY_VERSION_3
  params->sa_ignore[0] = reinterpret_cast<uint64_t>(SIG_IGN);
  if (__rseq_size > 0) {
    params->rseq_ptr = reinterpret_cast<uint64_t>(__builtin_thread_pointer()) +
                       static_cast<uint64_t>(__rseq_offset);
    params->rseq_len = __rseq_size < 32 ? 32 : __rseq_size;
    params->rseq_sig = 0x53053053;  // RSEQ_SIG on x86
  }
  params->fprog.len = static_cast<unsigned short>(
      BuildStubFilter(params->filter, l.code_start, l.code_end));
  params->fprog.filter = params->filter;

  pid_t master = ForkMasterStub(l.init, l.data_page);
  if (master < 0) return ErrnoToStatus(-master, "clone master stub");
  master_ = master;
  // The master traces itself to us (PTRACE_TRACEME) and stops with int3
  // once its init is complete; only then may the factory seize it, or it
  // could clone stubs from a half-initialized master.
  for (;;) {
    int status;
    pid_t r = waitpid(master, &status, __WALL);
    if (r < 0 && errno == EINTR) continue;
    if (r != master) return ErrnoToStatus(errno, "wait for master stub");
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      master_ = 0;
      return absl::InternalError(absl::StrFormat("master stub failed to start (status %#x)", status));
    }
    if (WSTOPSIG(status) == SIGTRAP) break;
    ptrace(PTRACE_CONT, master, nullptr, nullptr);
  }
  if (ptrace(PTRACE_DETACH, master, nullptr, nullptr) != 0) {
    return ErrnoToStatus(errno, "detach master stub");
  }
  factory_ = std::thread([this, master] { FactoryLoop(master); });
  SLOG(kDebug, "ptrace: master stub %d, stub region %#x, vdso %#x", master, base, vdso_);
  return absl::OkStatus();
}

PtracePlatform::~PtracePlatform() {
  {
    absl::MutexLock l(&mu_);
    stopping_ = true;
  }
  if (factory_.joinable()) factory_.join();
  // Unused stubs in the pool are killed explicitly: they may have been
  // cloned too close to the master's death to inherit its parent-death
  // signal in time.
  {
    absl::MutexLock l(&mu_);
    for (pid_t p : pool_) kill(p, SIGKILL);
    pool_.clear();
  }
  // We forked the master, so we reap it (the factory killed it on stop).
  if (master_ > 0) waitpid(master_, nullptr, __WALL);
}

void PtracePlatform::FactoryLoop(pid_t master_pid) {
  StubThread master(master_pid, master_pid);
  if (Errno e = master.Seize(); e != 0) {
    SLOG(kError, "ptrace: cannot seize master stub %d: %s", master_pid, strerror(e));
    absl::MutexLock l(&mu_);
    factory_failed_ = true;
    return;
  }
  for (;;) {
    {
      absl::MutexLock l(&mu_);
      mu_.Await(absl::Condition(
          +[](PtracePlatform* p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(p->mu_) {
            return p->stopping_ || p->pool_.size() < kPoolSize;
          },
          this));
      if (stopping_) break;
    }
    int64_t pid = master.Clone(SIGCHLD);
    absl::MutexLock l(&mu_);
    if (pid < 0) {
      SLOG(kError, "ptrace: cannot clone stub: %s", strerror(static_cast<int>(-pid)));
      factory_failed_ = true;
      return;
    }
    pool_.push_back(static_cast<pid_t>(pid));
  }
  kill(master_pid, SIGKILL);
}

ErrorOr<std::unique_ptr<AddressSpace>> PtracePlatform::NewAddressSpace() {
  pid_t pid;
  {
    absl::MutexLock l(&mu_);
    mu_.Await(absl::Condition(
        +[](PtracePlatform* p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(p->mu_) {
          return !p->pool_.empty() || p->factory_failed_;
        },
        this));
    if (pool_.empty()) return Err(ENOMEM);
    pid = pool_.front();
    pool_.pop_front();
  }
  auto batch = mf_->Allocate(kPageSize);
  if (!batch.ok()) {
    kill(pid, SIGKILL);
    return Err(batch.error());
  }
  return std::unique_ptr<AddressSpace>(new PtraceAddressSpace(this, pid, *batch));
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

uint64_t PtraceContext::AppCpuTimeNs() {
  uint64_t n = released_cpu_ns_;
  if (thread_.valid()) {
    // The stub thread's own CPU clock (MAKE_THREAD_CPUCLOCK(tid, SCHED)).
    clockid_t c = static_cast<clockid_t>((~static_cast<unsigned>(thread_.tid()) << 3) | 2 | 4);
    struct timespec ts;
    if (clock_gettime(c, &ts) == 0) {
      n += static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
    }
  }
  return n;
}

void PtraceContext::Release() {
  if (thread_.valid()) released_cpu_ns_ = AppCpuTimeNs();
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
  if (!thread_.SetRegs(ac.regs) ||
      ptrace(PTRACE_SYSEMU, thread_.tid(), nullptr, nullptr) != 0) {
    res.reason = StopReason::kDead;
    return res;
  }
  int status;
  if (thread_.Wait(&status) == WaitOutcome::kExited) {
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
