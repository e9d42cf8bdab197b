// Signal numbers, sets and actions as the x86-64 Linux ABI defines them.
#ifndef SENTRY_KERNEL_SIGNAL_TYPES_H_
#define SENTRY_KERNEL_SIGNAL_TYPES_H_

#include <signal.h>

#include <cstdint>
#include <cstring>

namespace sentry {

inline constexpr int kNumSignals = 64;
inline constexpr int kSigRtMin = 32;  // kernel SIGRTMIN; glibc reserves 32-33

// A kernel sigset: bit (sig - 1).
using SigSet = uint64_t;
constexpr SigSet SigBit(int sig) { return SigSet{1} << (sig - 1); }
constexpr SigSet kUnblockableSignals = SigBit(SIGKILL) | SigBit(SIGSTOP);
constexpr bool IsValidSignal(int sig) { return sig >= 1 && sig <= kNumSignals; }
constexpr bool IsRealtime(int sig) { return sig >= kSigRtMin; }

// struct sigaction as the kernel sees it (rt_sigaction with sigsetsize 8).
struct KSigaction {
  uint64_t handler = 0;  // SIG_DFL (0), SIG_IGN (1) or an address
  uint64_t flags = 0;
  uint64_t restorer = 0;
  SigSet mask = 0;
};
static_assert(sizeof(KSigaction) == 32);

inline constexpr uint64_t kSigDfl = 0;
inline constexpr uint64_t kSigIgn = 1;
inline constexpr uint64_t kSaRestorer = 0x04000000;

// What SIG_DFL does for each signal (signal(7)).
enum class DefaultAction { kTerm, kCore, kIgnore, kStop, kCont };
DefaultAction DefaultActionOf(int sig);

// stack_t for sigaltstack.
struct SignalStack {
  uint64_t sp = 0;
  int32_t flags = SS_DISABLE;
  int32_t pad = 0;
  uint64_t size = 0;
  bool Contains(uint64_t addr) const { return flags != SS_DISABLE && addr > sp && addr <= sp + size; }
};
static_assert(sizeof(SignalStack) == 24);

// siginfo_t is 128 bytes; we use glibc's layout (identical to the kernel's).
inline siginfo_t MakeSigInfo(int signo, int code) {
  siginfo_t si;
  memset(&si, 0, sizeof(si));
  si.si_signo = signo;
  si.si_code = code;
  return si;
}

}  // namespace sentry

#endif  // SENTRY_KERNEL_SIGNAL_TYPES_H_
