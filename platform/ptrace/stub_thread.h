// One host thread of a stub process, traced by exactly one Sentry thread.
//
// Everything here must be called from the tracer thread (ptrace requests
// are only accepted from it). A StubThread is plain data so a Context can
// hand a freshly cloned, parked thread to another task's Context, which
// then Seize()s it from its own host thread.
#ifndef PLATFORM_PTRACE_STUB_THREAD_H_
#define PLATFORM_PTRACE_STUB_THREAD_H_

#include <signal.h>
#include <sys/types.h>

#include <cstdint>

#include "sentry/arch/arch.h"
#include "sentry/base/error.h"

namespace sentry::ptrace_platform {

// The host signal another Sentry thread sends to a running stub thread to
// make its tracer regain control. SIGCHLD because stub processes ignore it
// when untraced (a stray one can never kill a parked thread).
inline constexpr int kInterruptSignal = SIGCHLD;

// Where the stub code lives in every stub process (set once at start).
struct StubLayout {
  uint64_t region_start = 0;  // code page, data page, batch page
  uint64_t region_len = 0;
  uint64_t code_start = 0, code_end = 0;
  uint64_t init = 0, park = 0, syscall = 0, clone = 0, batch = 0;
  // systrap entry points.
  uint64_t sys_handler = 0, sys_restorer = 0, sys_thread_start = 0;
  uint64_t data_page = 0;   // StubParams during init
  uint64_t batch_page = 0;  // per-address-space op buffer (read-only)
  uint64_t slots_base = 0;  // first systrap thread slot
  int memfd = -1;           // the MemoryFile's fd number inside stubs
};
const StubLayout& Layout();
void SetLayout(const StubLayout& l);

enum class WaitOutcome { kStopped, kExited };

class StubThread {
 public:
  StubThread() = default;
  StubThread(pid_t pid, pid_t tid) : pid_(pid), tid_(tid) {}
  pid_t pid() const { return pid_; }
  pid_t tid() const { return tid_; }
  bool valid() const { return tid_ > 0; }

  // PTRACE_SEIZE a parked thread and stop it. Fails if it died.
  Errno Seize();

  // Injections below run stub code with the thread's registers replaced;
  // an interrupt signal that arrives meanwhile is suppressed and
  // remembered (TakeInterrupted) so the caller does not lose it.

  // Runs one syscall in the stub; returns its result (-errno on failure).
  int64_t Syscall(uint64_t nr, uint64_t a0 = 0, uint64_t a1 = 0, uint64_t a2 = 0,
                  uint64_t a3 = 0, uint64_t a4 = 0, uint64_t a5 = 0);
  // Clones the stub (thread or process, by `flags`); the child parks.
  // Returns the child's tid or -errno.
  int64_t Clone(uint64_t flags);
  // Runs `count` ops at `ops_addr` (stub batch page). Returns 0, or
  // -errno of the first op that failed.
  int64_t Batch(uint64_t ops_addr, uint64_t count);
  bool TakeInterrupted() {
    bool i = interrupted_;
    interrupted_ = false;
    return i;
  }

  // Makes the thread exit (exit(2) of this thread only) and reaps it.
  void Exit();
  // Waits for the next stop; fills *status.
  WaitOutcome Wait(int* status);

  bool GetRegs(Regs* r);
  bool SetRegs(const Regs& r);
  bool GetFp(FpState* fp);
  bool SetFp(const FpState& fp);

 private:
  // Sets regs, resumes with PTRACE_CONT and waits for the int3 trap.
  int64_t Run(const Regs& r, Regs* out);

  pid_t pid_ = 0;
  pid_t tid_ = 0;
  Regs scratch_{};  // a valid register template for injections
  bool have_scratch_ = false;
  bool interrupted_ = false;
};

}  // namespace sentry::ptrace_platform

#endif  // PLATFORM_PTRACE_STUB_THREAD_H_
