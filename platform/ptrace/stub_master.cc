#include "platform/ptrace/stub_master.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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
    stub_batch[], systrap_handler[], systrap_restorer[], systrap_thread_start[];

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
  struct sock_filter filter[60];  // 112
  uint8_t pad[1024 - 112 - 60 * 8];
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

// The seccomp filter every stub runs under. In ptrace mode application
// syscalls never reach it (PTRACE_SYSEMU skips them before seccomp runs)
// and anything else kills the stub; in systrap mode they raise SIGSYS. The
// stub's own code may make only the syscalls the Sentry has it make.
int BuildStubFilter(struct sock_filter* f, uint64_t code_start, uint64_t code_end, StubMode mode) {
  int n = 0;
  auto stmt = [&](uint16_t code, uint32_t k) { f[n++] = BPF_STMT(code, k); };
  auto jump = [&](uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) {
    f[n++] = BPF_JUMP(code, k, jt, jf);
  };
  const uint32_t kKill = SECCOMP_RET_KILL_PROCESS;
  const uint32_t kOutside = mode == StubMode::kSystrap ? SECCOMP_RET_TRAP : kKill;
  // The instruction pointer seccomp sees is just past the syscall insn.
  uint64_t lo = code_start, hi = code_end;
  SCHECK((lo >> 32) == (hi >> 32));  // one 4 GiB window: compare low words
  stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
  jump(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
  stmt(BPF_RET | BPF_K, kKill);
  stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
  jump(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1);  // x32 syscall numbers
  stmt(BPF_RET | BPF_K, kKill);
  stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer) + 4);
  jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(lo >> 32), 1, 0);
  stmt(BPF_RET | BPF_K, kOutside);
  stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer));
  jump(BPF_JMP | BPF_JGE | BPF_K, static_cast<uint32_t>(lo), 1, 0);
  stmt(BPF_RET | BPF_K, kOutside);
  jump(BPF_JMP | BPF_JGT | BPF_K, static_cast<uint32_t>(hi), 0, 1);
  stmt(BPF_RET | BPF_K, kOutside);
  stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
  const uint32_t allowed[] = {SYS_mmap,       SYS_munmap,         SYS_mprotect,
                              SYS_clone,      SYS_exit,           SYS_exit_group,
                              SYS_pause,      SYS_futex,          SYS_rt_sigreturn,
                              SYS_rt_sigprocmask, SYS_sigaltstack, SYS_rt_sigaction};
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

}  // namespace

absl::StatusOr<std::unique_ptr<StubMaster>> StubMaster::Create(MemoryFile* mf, StubMode mode,
                                                               size_t thread_slots,
                                                               Prepare prepare) {
  std::unique_ptr<StubMaster> m(new StubMaster(mf, mode, thread_slots, std::move(prepare)));
  if (auto s = m->Init(); !s.ok()) return s;
  return m;
}

absl::Status StubMaster::Init() {
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

  const size_t code_len = static_cast<size_t>(stub_end - stub_start);
  uint64_t code_pages = 0;
  SCHECK(PageRoundUp(code_len, &code_pages));
  // code | data page | batch page | thread slots
  const size_t region_len = code_pages + 2 * kPageSize + thread_slots_ * kSlotBytes;
  void* region = mmap(nullptr, region_len, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (region == MAP_FAILED) return ErrnoToStatus(errno, "mmap stub region");
  uint64_t base = reinterpret_cast<uint64_t>(region);
  memcpy(region, stub_start, code_len);
  if (mprotect(region, code_pages, PROT_READ | PROT_EXEC) != 0) {
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
  l.sys_handler = off(systrap_handler);
  l.sys_restorer = off(systrap_restorer);
  l.sys_thread_start = off(systrap_thread_start);
  l.data_page = base + code_pages;
  l.batch_page = l.data_page + kPageSize;
  l.memfd = mf_->fd();
  l.slots_base = l.batch_page + kPageSize;
  SetLayout(l);
  slots_base_ = l.slots_base;

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
  params->sa_ignore[0] = reinterpret_cast<uint64_t>(SIG_IGN);
  params->cap_hdr[0] = 0x20080522;  // _LINUX_CAPABILITY_VERSION_3
  if (__rseq_size > 0) {
    params->rseq_ptr = reinterpret_cast<uint64_t>(__builtin_thread_pointer()) +
                       static_cast<uint64_t>(__rseq_offset);
    params->rseq_len = __rseq_size < 32 ? 32 : __rseq_size;
    params->rseq_sig = 0x53053053;  // RSEQ_SIG on x86
  }
  params->fprog.len = static_cast<unsigned short>(
      BuildStubFilter(params->filter, l.code_start, l.code_end, mode_));
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
  SLOG(kDebug, "stubs: master %d, region %#x (+%#x), vdso %#x", master, base, region_len, vdso_);
  return absl::OkStatus();
}

StubMaster::~StubMaster() {
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
    for (const PooledStub& p : pool_) kill(p.pid, SIGKILL);
    pool_.clear();
  }
  // We forked the master, so we reap it (the factory killed it on stop).
  if (master_ > 0) waitpid(master_, nullptr, __WALL);
}

void StubMaster::FactoryLoop(pid_t master_pid) {
  StubThread master(master_pid, master_pid);
  if (Errno e = master.Seize(); e != 0) {
    SLOG(kError, "stubs: cannot seize master stub %d: %s", master_pid, strerror(e));
    absl::MutexLock l(&mu_);
    failed_ = true;
    return;
  }
  for (;;) {
    {
      absl::MutexLock l(&mu_);
      mu_.Await(absl::Condition(
          +[](StubMaster* m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(m->mu_) {
            return m->stopping_ || m->pool_.size() < kPoolSize;
          },
          this));
      if (stopping_) break;
    }
    int64_t pid = master.Clone(SIGCHLD);
    if (pid < 0) {
      SLOG(kError, "stubs: cannot clone a stub: %s", strerror(static_cast<int>(-pid)));
      absl::MutexLock l(&mu_);
      failed_ = true;
      return;
    }
    PooledStub stub{static_cast<pid_t>(pid), 0};
    if (prepare_) {
      auto p = prepare_(stub.pid);
      if (!p.ok()) {
        SLOG(kError, "stubs: cannot prepare stub %d: %s", stub.pid, strerror(p.error()));
        kill(stub.pid, SIGKILL);
        absl::MutexLock l(&mu_);
        failed_ = true;
        return;
      }
      stub.prepared = *p;
    }
    absl::MutexLock l(&mu_);
    pool_.push_back(stub);
  }
  kill(master_pid, SIGKILL);
}

ErrorOr<PooledStub> StubMaster::Take() {
  absl::MutexLock l(&mu_);
  mu_.Await(absl::Condition(
      +[](StubMaster* m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(m->mu_) {
        return !m->pool_.empty() || m->failed_;
      },
      this));
  if (pool_.empty()) return Err(ENOMEM);
  PooledStub s = pool_.front();
  pool_.pop_front();
  return s;
}

}  // namespace sentry::ptrace_platform
