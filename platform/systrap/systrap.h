// The systrap platform: seccomp-trap interception without ptrace stops.
//
// Stub processes come from the same master stub as on ptrace, but their
// filter makes every syscall from outside the stub code raise SIGSYS, and a
// handler in the stub (stub.S) hands the thread's registers to the Sentry
// through the thread's context page (context.h) and a futex: no ptrace stop
// on the hot path. Faults arrive the same way (SIGSEGV, SIGBUS, ...).
// The stub thread also runs the Sentry's mapping operations (mmap, munmap,
// mprotect) and clones new threads on request, so ptrace is only used
// once per new stub process, by the factory thread, to install the
// handlers.
//
// Each side spins briefly before sleeping on the futex: a syscall-heavy
// loop hands over without waking a sleeping CPU, while an idle sandbox
// sleeps.
//
// Lock order: SystrapAddressSpace::mu_ is a leaf, taken under the
// MemoryManager's lock.
#ifndef PLATFORM_SYSTRAP_SYSTRAP_H_
#define PLATFORM_SYSTRAP_SYSTRAP_H_

#include <atomic>
#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "platform/platform.h"
#include "platform/ptrace/stub_master.h"
#include "platform/systrap/context.h"

namespace sentry::systrap {

class SystrapPlatform;

// A stub thread in systrap mode, as the Sentry sees it.
struct SysThread {
  pid_t pid = 0;
  pid_t tid = 0;
  int slot = -1;
  uint64_t slot_off = 0;      // MemoryFile offset of the slot's pages
  ContextPage* ctx = nullptr;  // the Sentry's view of the context page
  uint8_t* fp = nullptr;       // ... and of the FP page
  bool valid() const { return tid > 0; }
};

class SystrapAddressSpace : public AddressSpace {
 public:
  SystrapAddressSpace(SystrapPlatform* p, pid_t pid, uint64_t slot0_off);
  ~SystrapAddressSpace() override;

  void MapFile(UserAddr addr, uint64_t off, uint64_t len, Prot prot) override;
  void Unmap(UserAddr addr, uint64_t len) override;
  void Protect(UserAddr addr, uint64_t len, Prot prot) override;
  bool Flush() override;
  bool CanOperate() const override;

  pid_t pid() const { return pid_; }
  // The process's first thread (slot 0), once.
  SysThread TakeInitialThread();
  // A new slot for a thread: its index and MemoryFile pages (initialized).
  ErrorOr<SysThread> AllocSlot();
  void FreeSlot(const SysThread& t);
  SysThread* CurrentThread() const;

 private:
  SystrapPlatform* const p_;
  const pid_t pid_;
  std::atomic<bool> initial_taken_{false};
  const uint64_t slot0_off_;

  absl::Mutex mu_;
  std::vector<ptrace_platform::StubOp> pending_ ABSL_GUARDED_BY(mu_);
  std::vector<bool> slots_ ABSL_GUARDED_BY(mu_);
};

class SystrapContext : public Context {
 public:
  explicit SystrapContext(SystrapPlatform* p) : p_(p) {}
  ~SystrapContext() override;

  SwitchResult Switch(AddressSpace* as, ArchContext& ac) override;
  void Interrupt() override;
  void WillBlock() override;
  void PullFpState(ArchContext& ac) override;
  Errno PrepareSibling(AddressSpace* as, Context& child) override;
  void Release() override;
  uint64_t AppCpuTimeNs() override;

 private:
  bool Enter(SystrapAddressSpace* as);

  SystrapPlatform* const p_;
  SystrapAddressSpace* as_ = nullptr;
  SysThread thread_;
  SystrapAddressSpace* adopt_as_ = nullptr;
  SysThread adopt_;
  std::atomic<bool> interrupt_{false};
  std::atomic<uint64_t> target_{0};  // (pid << 32 | tid) for Interrupt
  uint64_t app_ns_ = 0;  // time the application ran (Context::AppCpuTimeNs)
  uint64_t csgsfs_ = 0;  // segment word of the last stop, written back as is
};

class SystrapPlatform : public Platform {
 public:
  static absl::StatusOr<std::unique_ptr<SystrapPlatform>> Create(MemoryFile* mf);
  // Whether this host can run it (FSGSBASE instructions, seccomp traps).
  static absl::Status Probe();

  std::string_view Name() const override { return "systrap"; }
  ErrorOr<std::unique_ptr<AddressSpace>> NewAddressSpace() override;
  std::unique_ptr<Context> NewContext() override { return std::make_unique<SystrapContext>(this); }
  std::vector<AddrRange> ReservedRanges() const override { return master_->reserved(); }
  uint64_t VdsoAddress() const override { return master_->vdso(); }

  MemoryFile* memory_file() const { return mf_; }
  ptrace_platform::StubMaster* master() const { return master_.get(); }

  // Threads per stub process (slots in the stub region).
  static constexpr size_t kSlots = 512;

 private:
  explicit SystrapPlatform(MemoryFile* mf) : mf_(mf) {}
  // Turns a fresh stub process into a systrap one (factory thread).
  ErrorOr<uint64_t> PrepareStub(pid_t pid);

  MemoryFile* const mf_;
  std::unique_ptr<ptrace_platform::StubMaster> master_;
};

}  // namespace sentry::systrap

#endif  // PLATFORM_SYSTRAP_SYSTRAP_H_
