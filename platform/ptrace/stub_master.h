// The stub region and the master stub, shared by the ptrace and systrap
// platforms.
//
// The stub region is a range of addresses, the same in the Sentry and in
// every stub process, holding the stub code, a data page, the ptrace batch
// page and (systrap) one slot per stub thread. The master stub is forked
// from the Sentry before its seccomp filter exists, unmaps everything but
// the stub region and the host vDSO, drops its capabilities, installs the
// stub seccomp filter and parks. A factory thread, the master's tracer,
// clones fresh stub processes from it into a small pool, optionally
// preparing each one (systrap installs its signal handlers) so that
// fork and exec rarely wait.
//
// Lock order: StubMaster::mu_ is a leaf.
#ifndef PLATFORM_PTRACE_STUB_MASTER_H_
#define PLATFORM_PTRACE_STUB_MASTER_H_

#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "platform/platform.h"
#include "platform/ptrace/stub_thread.h"

namespace sentry::ptrace_platform {

enum class StubMode {
  kPtrace,   // every application syscall stops under PTRACE_SYSEMU
  kSystrap,  // application syscalls raise SIGSYS (seccomp SECCOMP_RET_TRAP)
};

// A stub process ready for use. `prepared` is whatever the prepare hook
// recorded for it (systrap: the MemoryFile offset of its first slot).
struct PooledStub {
  pid_t pid = 0;
  uint64_t prepared = 0;
};

class StubMaster {
 public:
  // Runs in the factory thread on each new stub process (parked, untraced)
  // before it enters the pool; returns what to record in PooledStub.
  using Prepare = std::function<ErrorOr<uint64_t>(pid_t pid)>;

  static absl::StatusOr<std::unique_ptr<StubMaster>> Create(MemoryFile* mf, StubMode mode,
                                                            size_t thread_slots, Prepare prepare);
  ~StubMaster();

  // Takes a stub process from the pool (waits for the factory if empty).
  ErrorOr<PooledStub> Take();

  const std::vector<AddrRange>& reserved() const { return reserved_; }
  uint64_t vdso() const { return vdso_; }
  // First thread slot and the number of slots (systrap).
  uint64_t slots_base() const { return slots_base_; }
  size_t thread_slots() const { return thread_slots_; }

 private:
  StubMaster(MemoryFile* mf, StubMode mode, size_t slots, Prepare prepare)
      : mf_(mf), mode_(mode), thread_slots_(slots), prepare_(std::move(prepare)) {}
  absl::Status Init();
  void FactoryLoop(pid_t master);

  MemoryFile* const mf_;
  const StubMode mode_;
  const size_t thread_slots_;
  const Prepare prepare_;
  std::vector<AddrRange> reserved_;
  uint64_t vdso_ = 0;
  uint64_t slots_base_ = 0;
  pid_t master_ = 0;

  absl::Mutex mu_;
  std::deque<PooledStub> pool_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool failed_ ABSL_GUARDED_BY(mu_) = false;
  std::thread factory_;
};

// Bytes of one systrap thread slot: context page, FP page, signal stack.
inline constexpr uint64_t kSlotCtxBytes = 8192;
inline constexpr uint64_t kSlotStackBytes = 16384;
inline constexpr uint64_t kSlotBytes = kSlotCtxBytes + kSlotStackBytes;

}  // namespace sentry::ptrace_platform

#endif  // PLATFORM_PTRACE_STUB_MASTER_H_
