// The context page shared by a systrap stub thread and the Sentry.
//
// Offsets are fixed: the stub's assembly (platform/ptrace/stub.S) uses the
// same numbers. Everything here is writable by the application (it shares
// the stub's address space), so the Sentry treats every field it reads as
// untrusted input and never lets one size or steer its own memory access.
#ifndef PLATFORM_SYSTRAP_CONTEXT_H_
#define PLATFORM_SYSTRAP_CONTEXT_H_

#include <signal.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "platform/ptrace/ptrace.h"

namespace sentry::systrap {

// state: who holds the ball.
inline constexpr uint32_t kStateSentry = 1;  // the stub stopped; the Sentry decides
inline constexpr uint32_t kStateStub = 2;    // a command for the stub is waiting

inline constexpr uint32_t kCmdResume = 1;
inline constexpr uint32_t kCmdBatch = 2;
inline constexpr uint32_t kCmdExit = 3;
inline constexpr uint32_t kCmdClone = 4;

inline constexpr size_t kMaxOps = (4096 - 512) / sizeof(ptrace_platform::StubOp);

struct ContextPage {
  std::atomic<uint32_t> state;  // 0
  uint32_t cmd;                 // 4
  uint32_t fp_size;             // 8
  uint32_t fp_dirty;            // 12
  uint64_t nops;                // 16
  uint64_t result;              // 24
  uint64_t remain;              // 32
  uint64_t fs_base;             // 40
  uint64_t gs_base;             // 48
  std::atomic<uint32_t> stub_sleeping;    // 56: the stub is (about to be) in FUTEX_WAIT
  std::atomic<uint32_t> sentry_sleeping;  // 60: the Sentry is (about to be) in FUTEX_WAIT
  uint64_t spin;                // 64
  // 72: the Sentry will not answer soon (its task blocks): the stub stops
  // spinning and sleeps. Cleared with each new command.
  std::atomic<uint32_t> sentry_blocked;
  uint8_t pad1[128 - 76];
  siginfo_t info;               // 128
  uint64_t gregs[23];           // 256: mcontext gregs (REG_R8 ... REG_CR2)
  uint8_t pad2[512 - 256 - 23 * 8];
  ptrace_platform::StubOp ops[kMaxOps];  // 512
};
static_assert(offsetof(ContextPage, cmd) == 4);
static_assert(offsetof(ContextPage, fp_size) == 8);
static_assert(offsetof(ContextPage, fp_dirty) == 12);
static_assert(offsetof(ContextPage, nops) == 16);
static_assert(offsetof(ContextPage, result) == 24);
static_assert(offsetof(ContextPage, remain) == 32);
static_assert(offsetof(ContextPage, fs_base) == 40);
static_assert(offsetof(ContextPage, gs_base) == 48);
static_assert(offsetof(ContextPage, stub_sleeping) == 56);
static_assert(offsetof(ContextPage, sentry_sleeping) == 60);
static_assert(offsetof(ContextPage, spin) == 64);
static_assert(offsetof(ContextPage, sentry_blocked) == 72);
static_assert(offsetof(ContextPage, info) == 128);
static_assert(offsetof(ContextPage, gregs) == 256);
static_assert(offsetof(ContextPage, ops) == 512);
static_assert(sizeof(ContextPage) <= 4096);

// The FP page (XSAVE area as in a signal frame) follows the context page.
inline constexpr size_t kFpOffset = 4096;

}  // namespace sentry::systrap

#endif  // PLATFORM_SYSTRAP_CONTEXT_H_
