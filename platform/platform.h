// The platform: how application code runs and how control comes back.
//
// A Platform creates AddressSpaces (one per application memory manager) and
// Contexts (one per task; a task's host thread owns its Context). The
// Sentry runs a task by calling Context::Switch, which executes application
// instructions until the application makes a syscall, faults, receives a
// synchronous signal, or is interrupted by another Sentry thread.
//
// Implementations: platform/ptrace (PTRACE_SYSEMU on stub processes);
// systrap and kvm follow the same contract.
//
// Memory: AddressSpace maps ranges of the MemoryFile; it never owns pages.
// The MemoryManager decides what is mapped and keeps the pages referenced
// for as long as they are mapped.
#ifndef PLATFORM_PLATFORM_H_
#define PLATFORM_PLATFORM_H_

#include <signal.h>
#include <time.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "sentry/arch/arch.h"
#include "sentry/base/error.h"
#include "sentry/usermem/addr.h"

namespace sentry {

// CLOCK_MONOTONIC in nanoseconds (vDSO: no host syscall).
inline uint64_t MonotonicNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

class MemoryFile;

// Host protection bits for mappings (PROT_READ/WRITE/EXEC).
using Prot = int;

class AddressSpace {
 public:
  virtual ~AddressSpace() = default;

  // Queues a mapping of MemoryFile range [off, off+len) at `addr`, replacing
  // whatever was there. Queued operations take effect at Flush(), which
  // the platform also does before application code runs again.
  virtual void MapFile(UserAddr addr, uint64_t off, uint64_t len, Prot prot) = 0;
  virtual void Unmap(UserAddr addr, uint64_t len) = 0;
  virtual void Protect(UserAddr addr, uint64_t len, Prot prot) = 0;

  // Applies queued operations. Must be called from a thread that can act
  // on this address space (CanOperate()); returns false if it can't.
  [[nodiscard]] virtual bool Flush() = 0;

  // Whether the calling Sentry thread can change this address space now.
  // On ptrace only a thread with a stopped stub thread in it can; the
  // MemoryManager defers changes to other address spaces until one of
  // their own tasks applies them.
  virtual bool CanOperate() const = 0;
};

enum class StopReason {
  kSyscall,      // regs hold the syscall (orig_rax) and its arguments
  kFault,        // a page fault at fault_addr
  kSignal,       // a synchronous signal (SIGILL, SIGFPE, SIGTRAP, ...), in info
  kInterrupted,  // Context::Interrupt() was called
  kDead,         // the platform lost the thread (e.g. the host killed it)
};

struct SwitchResult {
  StopReason reason = StopReason::kInterrupted;
  siginfo_t info{};          // for kFault and kSignal
  uint64_t fault_addr = 0;   // for kFault
};

class Context {
 public:
  virtual ~Context() = default;

  // Runs the application in `as` with `ac` until it stops. On return the
  // general registers in `ac` are current. If ac.fp_dirty, the FP state
  // is pushed first. Called only from the thread that created the Context.
  virtual SwitchResult Switch(AddressSpace* as, ArchContext& ac) = 0;

  // Makes the current or next Switch return kInterrupted soon. Thread-safe.
  virtual void Interrupt() = 0;

  // The task is about to sleep in the Sentry (a blocking syscall): a
  // platform whose application thread busy-waits for the Sentry's answer
  // lets it sleep now instead of burning a CPU others need. Called from
  // the task's own thread.
  virtual void WillBlock() {}

  // Copies the platform's FP state into ac.fp (sets ac.fp_valid).
  virtual void PullFpState(ArchContext& ac) = 0;

  // Prepares `child` (a Context of another task, not yet switched) to run
  // in `as`, which this Context is currently in: on ptrace this creates
  // the child's stub thread by cloning ours. Used for clone(CLONE_VM).
  virtual Errno PrepareSibling(AddressSpace* as, Context& child) = 0;

  // Leaves the current address space (e.g. on exec or exit), releasing the
  // host resources that belong to this task.
  virtual void Release() = 0;

  // CPU time the application has spent running in this context (the
  // Sentry's own time handling its syscalls is not included). Linux lets
  // no process read another process's thread CPU clock, so platforms whose
  // application threads are host threads of other processes count the
  // wall time between resuming the application and its next stop: what
  // gVisor does too, and exact while the thread is not preempted. (The
  // Sentry's own CPU during Switch is then not system time: Task.)
  virtual uint64_t AppCpuTimeNs() = 0;
};

class Platform {
 public:
  virtual ~Platform() = default;
  virtual std::string_view Name() const = 0;
  virtual ErrorOr<std::unique_ptr<AddressSpace>> NewAddressSpace() = 0;
  virtual std::unique_ptr<Context> NewContext() = 0;
  // Application address ranges the platform needs for itself (stub code,
  // the host vDSO); the MemoryManager never maps over them.
  virtual std::vector<AddrRange> ReservedRanges() const = 0;
  // Address of a vDSO image the application may use (AT_SYSINFO_EHDR), or 0.
  virtual uint64_t VdsoAddress() const = 0;
};

// Names of the platforms compiled in, in order of preference.
std::vector<std::string> PlatformNames();

// Creates the named platform. Must run before the Sentry installs its
// seccomp filter (platforms fork their stubs from a clean state).
absl::StatusOr<std::unique_ptr<Platform>> CreatePlatform(std::string_view name,
                                                         MemoryFile* mf);

}  // namespace sentry

#endif  // PLATFORM_PLATFORM_H_
