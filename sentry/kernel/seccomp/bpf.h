// Classic BPF as seccomp(2) accepts and runs it: install-time validation
// and the interpreter over `struct seccomp_data`.
//
// Validation is Linux's bpf_check_classic() followed by
// seccomp_check_filter() (kernel/seccomp.c): only the instructions seccomp
// allows, 32-bit aligned in-bounds loads from seccomp_data, jumps inside
// the program, scratch-memory reads only after a store on every path, and a
// RET at the end. A program that passes CheckProgram can be run by
// RunProgram without further checks: nothing it does can read outside
// seccomp_data or its 16 scratch words, and every jump goes forwards, so it
// ends after at most len instructions.
//
// Pure functions over immutable data: no locks, no Task.
#ifndef SENTRY_KERNEL_SECCOMP_BPF_H_
#define SENTRY_KERNEL_SECCOMP_BPF_H_

#include <linux/filter.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "sentry/base/error.h"

namespace sentry::seccomp {

// struct seccomp_data (include/uapi/linux/seccomp.h).
struct SeccompData {
  int32_t nr;
  uint32_t arch;
  uint64_t instruction_pointer;
  uint64_t args[6];
};
static_assert(sizeof(SeccompData) == 64);

// AUDIT_ARCH_X86_64: EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE.
inline constexpr uint32_t kAuditArchX86_64 = 0xc000003e;
// BPF_MAXINSNS: the longest program one filter may have.
inline constexpr size_t kMaxProgramLength = 4096;

// Checks `prog` as Linux does when a filter is installed: 0, or EINVAL
// (including for an empty or over-long program).
Errno CheckProgram(std::span<const sock_filter> prog);

// The length of Linux's eBPF translation of a checked program
// (net/core/filter.c: bpf_convert_filter()): what MAX_INSNS_PER_PATH
// limits, so the sandbox refuses exactly the filter chains Linux refuses.
size_t TranslatedLength(std::span<const sock_filter> prog);

// Runs a program that passed CheckProgram and returns its 32-bit verdict.
uint32_t RunProgram(std::span<const sock_filter> prog, const SeccompData& data);

}  // namespace sentry::seccomp

#endif  // SENTRY_KERNEL_SECCOMP_BPF_H_
