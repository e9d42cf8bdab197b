// The ptrace platform.
//
// Each application address space is a stub process; each task that runs
// in it owns one thread of that process, which the task's own Sentry host
// thread traces with PTRACE_SYSEMU (so every syscall stops before it runs
// and is skipped by the host). Faults arrive as signal-delivery stops.
//
// Stub processes are cloned from a master stub that was forked before the
// Sentry installed its seccomp filter and that has nothing mapped but the
// stub code and the host vDSO. A factory thread (the master's tracer) keeps
// a small pool of fresh stubs so fork and exec rarely wait for it.
//
// Lock order: PtracePlatform::mu_ is a leaf; PtraceAddressSpace::mu_ is a
// leaf taken under the MemoryManager's locks.
#ifndef PLATFORM_PTRACE_PTRACE_H_
#define PLATFORM_PTRACE_PTRACE_H_

#include <stdlib.h>

#include <atomic>
#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "platform/platform.h"
#include "platform/ptrace/stub_master.h"
#include "platform/ptrace/stub_thread.h"

namespace sentry::ptrace_platform {

// One syscall queued for a stub's batch page.
struct StubOp {
  uint64_t nr, a[6];
};
static_assert(sizeof(StubOp) == 56);

class PtracePlatform;

class PtraceAddressSpace : public AddressSpace {
 public:
  PtraceAddressSpace(PtracePlatform* p, pid_t pid, uint64_t batch_off);
  ~PtraceAddressSpace() override;

  void MapFile(UserAddr addr, uint64_t off, uint64_t len, Prot prot) override;
  void Unmap(UserAddr addr, uint64_t len) override;
  void Protect(UserAddr addr, uint64_t len, Prot prot) override;
  bool Flush() override;
  bool CanOperate() const override;

  pid_t pid() const { return pid_; }
  // Claims the stub's first thread (parked, untraced). Once.
  pid_t TakeInitialThread() { return initial_tid_.exchange(0); }

  // The stub thread traced by the calling host thread in this address
  // space, if any (set by PtraceContext while it is in this space).
  StubThread* CurrentThread() const;

 private:
  PtracePlatform* const p_;
  const pid_t pid_;
  const uint64_t batch_off_;  // MemoryFile page holding queued ops
  std::atomic<pid_t> initial_tid_;

  absl::Mutex mu_;
  std::vector<StubOp> pending_ ABSL_GUARDED_BY(mu_);
  bool batch_page_mapped_ ABSL_GUARDED_BY(mu_) = false;
};

class PtraceContext : public Context {
 public:
  explicit PtraceContext(PtracePlatform* p) : p_(p) {}
  ~PtraceContext() override;

  SwitchResult Switch(AddressSpace* as, ArchContext& ac) override;
  void Interrupt() override;
  void PullFpState(ArchContext& ac) override;
  Errno PrepareSibling(AddressSpace* as, Context& child) override;
  void Release() override;
  uint64_t AppCpuTimeNs() override;

 private:
  bool EnterAddressSpace(PtraceAddressSpace* as);

  PtracePlatform* const p_;
  PtraceAddressSpace* as_ = nullptr;  // the space thread_ lives in
  StubThread thread_;
  // A parked thread prepared by a sibling's PrepareSibling.
  PtraceAddressSpace* adopt_as_ = nullptr;
  pid_t adopt_tid_ = 0;

  std::atomic<bool> interrupt_{false};
  // Time the application ran (see Context::AppCpuTimeNs).
  uint64_t app_ns_ = 0;
  // The CPU the stub thread is pinned to (our own when we last ran it).
  int pinned_cpu_ = -1;
  bool pin_ = getenv("PTRACE_NOPIN") == nullptr;
  // Packed (pid << 32 | tid) of the running stub thread, for Interrupt().
  std::atomic<uint64_t> target_{0};
};

class PtracePlatform : public Platform {
 public:
  static absl::StatusOr<std::unique_ptr<PtracePlatform>> Create(MemoryFile* mf);

  std::string_view Name() const override { return "ptrace"; }
  ErrorOr<std::unique_ptr<AddressSpace>> NewAddressSpace() override;
  std::unique_ptr<Context> NewContext() override { return std::make_unique<PtraceContext>(this); }
  std::vector<AddrRange> ReservedRanges() const override { return master_->reserved(); }
  uint64_t VdsoAddress() const override { return master_->vdso(); }

  MemoryFile* memory_file() const { return mf_; }

 private:
  explicit PtracePlatform(MemoryFile* mf) : mf_(mf) {}

  MemoryFile* const mf_;
  std::unique_ptr<StubMaster> master_;
};

}  // namespace sentry::ptrace_platform

#endif  // PLATFORM_PTRACE_PTRACE_H_
