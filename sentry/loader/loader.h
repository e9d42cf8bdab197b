// The program loader: ELF executables (static and dynamic, via PT_INTERP),
// "#!" scripts, the initial stack (argv, envp, auxv) and the vDSO.
#ifndef SENTRY_LOADER_LOADER_H_
#define SENTRY_LOADER_LOADER_H_

#include <memory>
#include <string>
#include <vector>

#include "fs/vfs/vfs.h"
#include "sentry/base/error.h"
#include "sentry/mm/mm.h"

namespace sentry {

class Platform;

struct LoadRequest {
  vfs::PathContext ctx;
  vfs::VirtualDentry start;  // directory relative paths start from
  std::string path;          // as given to execve
  std::vector<std::string> argv;
  std::vector<std::string> envv;
  uint32_t resolve_flags = 0;  // vfs::kFollow etc. (AT_SYMLINK_NOFOLLOW clears kFollow)
  uint64_t stack_limit = 8 << 20;  // RLIMIT_STACK
  uint64_t vdso = 0;           // AT_SYSINFO_EHDR (0: none)
};

struct LoadResult {
  std::shared_ptr<MemoryManager> mm;
  uint64_t entry = 0;  // where the first instruction runs (interpreter's entry if any)
  uint64_t sp = 0;
  std::string exe_path;          // for /proc/<pid>/exe and maps
  vfs::VirtualDentry exe;        // the executable file
  std::string comm;              // basename of the file run (after #! processing)
};

// Loads the program into a new MemoryManager. Errors are execve's: ENOENT,
// EACCES (not a regular file, no x permission, noexec mount), ENOEXEC (bad
// format), ELOOP (too many #! levels), E2BIG, ENOMEM, ...
ErrorOr<LoadResult> LoadProgram(Platform* platform, MemoryFile* mf, vfs::VFS* vfs,
                                LoadRequest req);

}  // namespace sentry

#endif  // SENTRY_LOADER_LOADER_H_
