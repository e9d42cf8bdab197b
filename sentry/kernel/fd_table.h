// FDTable: a process's file descriptors (Linux's files_struct), shared
// between tasks created with CLONE_FILES.
#ifndef SENTRY_KERNEL_FD_TABLE_H_
#define SENTRY_KERNEL_FD_TABLE_H_

#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "fs/vfs/file.h"
#include "sentry/base/error.h"

namespace sentry {

class FDTable {
 public:
  using FilePtr = std::shared_ptr<vfs::FileDescription>;

  // Installs `f` at the lowest free fd >= min_fd. EMFILE past `limit`
  // (RLIMIT_NOFILE).
  ErrorOr<int> Add(FilePtr f, bool cloexec, int min_fd, uint64_t limit);
  // dup2/dup3: installs at `fd`, returning what was there (closed by the
  // caller outside the lock). EBADF if fd >= limit.
  ErrorOr<FilePtr> Set(int fd, FilePtr f, bool cloexec, uint64_t limit);
  // The file at fd, or null.
  FilePtr Get(int fd, bool* cloexec = nullptr);
  // Removes fd; returns the file (null if none).
  FilePtr Remove(int fd);
  // close_range(2): removes [first, last]; with `cloexec_only`, marks them.
  std::vector<FilePtr> RemoveRange(unsigned first, unsigned last, bool cloexec_only);
  Errno SetCloexec(int fd, bool on);
  // Drops every close-on-exec fd (execve).
  std::vector<FilePtr> RemoveCloexec();
  std::shared_ptr<FDTable> Fork();
  // Lowest-first list of open fds (for /proc/<pid>/fd).
  std::vector<int> Fds();
  size_t Count();

 private:
  struct Entry {
    FilePtr file;
    bool cloexec = false;
  };
  absl::Mutex mu_;  // leaf (files are closed by callers after unlocking)
  std::vector<Entry> fds_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sentry

#endif  // SENTRY_KERNEL_FD_TABLE_H_
