// The syscall table: every x86-64 Linux syscall, how well the Sentry
// supports it, and how --strace prints it. This table is the
// compatibility documentation: `runsc syscalls` prints it.
#ifndef SYSCALLS_TABLE_H_
#define SYSCALLS_TABLE_H_

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "syscalls/syscalls.h"

namespace sentry {

class Task;
using SyscallHandler = SysRet (*)(Task& t, const SyscallArgs& a);

enum class Support : uint8_t {
  kFull,           // implemented with Linux semantics
  kPartial,        // implemented; the note says what differs
  kError,          // always fails with `error` (Linux's answer when the feature is absent)
  kUnimplemented,  // ENOSYS, logged once
};

// How --strace prints an argument.
enum class Arg : uint8_t {
  kNone,
  kInt,      // signed decimal
  kUInt,     // unsigned decimal
  kHex,      // 0x...
  kOct,      // 0...
  kFd,       // fd, AT_FDCWD by name
  kPath,     // NUL-terminated string in
  kInBuf,    // bytes in; length is the next argument
  kOutBuf,   // bytes out; length is the result
  kPtr,      // an address
  kSignal,   // signal number by name
  kOpenFlags,
  kStrv,     // argv/envp
};

struct SyscallInfo {
  uint16_t nr = 0;
  const char* name = nullptr;
  SyscallHandler fn = nullptr;
  Support support = Support::kUnimplemented;
  int error = 0;
  const char* note = "";
  std::array<Arg, 6> args{};
};

// The entry for `nr`, or null past the end of the table.
const SyscallInfo* LookupSyscall(uint64_t nr);
// All entries, in syscall-number order.
const std::vector<SyscallInfo>& AllSyscalls();

// Formatting for --strace (strace.cc).
std::string FormatSyscallEntry(Task& t, const SyscallInfo& info, const SyscallArgs& a);
std::string FormatSyscallExit(Task& t, const SyscallInfo& info, const SyscallArgs& a, SysRet r);

}  // namespace sentry

#endif  // SYSCALLS_TABLE_H_
