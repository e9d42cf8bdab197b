// Helpers shared by syscall handlers.
#ifndef SYSCALLS_UTIL_H_
#define SYSCALLS_UTIL_H_

#include <fcntl.h>
#include <time.h>

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "fs/vfs/vfs.h"
#include "sentry/base/error.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"

namespace sentry::sys {

using FilePtr = std::shared_ptr<vfs::FileDescription>;

inline constexpr uint64_t kMaxRwCount = 0x7ffff000;  // MAX_RW_COUNT
inline constexpr int kIovMax = 1024;                 // UIO_MAXIOV

// The open file at `fd`, or EBADF.
ErrorOr<FilePtr> GetFile(Task& t, int fd);
// Like GetFile, but O_PATH files are EBADF too (they allow no I/O).
ErrorOr<FilePtr> GetIOFile(Task& t, int fd);

// A path argument (at most PATH_MAX, ENAMETOOLONG / EFAULT).
ErrorOr<std::string> CopyInPath(Task& t, uint64_t addr);

// Where an *at() path starts: the cwd for AT_FDCWD, the directory `dirfd`
// otherwise (ENOTDIR if it is not one). Absolute paths ignore it, but Linux
// still checks dirfd... only when the path is relative; so do we.
// `scoped` (openat2's RESOLVE_BENEATH / RESOLVE_IN_ROOT): the dirfd is the
// start, and the root, even for an absolute path.
ErrorOr<vfs::VirtualDentry> StartDir(Task& t, int dirfd, const std::string& path,
                                     bool scoped = false);
// With AT_EMPTY_PATH and an empty path: the object `dirfd` refers to
// (the cwd for AT_FDCWD).
ErrorOr<vfs::VirtualDentry> FdDentry(Task& t, int dirfd);

// Installs a new file at the lowest free fd (RLIMIT_NOFILE honoured).
SysRet InstallFile(Task& t, FilePtr f, bool cloexec);

// read/write with Linux's rules (syscalls/file.cc): access mode, range
// checks, waiting unless non-blocking or `nowait`, RLIMIT_FSIZE, SIGPIPE,
// inotify events. `off` >= 0 is positional; -1 uses the file position.
SysRet DoRead(Task& t, vfs::FileDescription* f, IOSequence& io, int64_t off, bool nowait = false);
SysRet DoWrite(Task& t, vfs::FileDescription* f, IOSequence& io, int64_t off,
               bool nowait = false);

// The process a pidfd names (EBADF for any other fd); `nonblocking` gets
// the pidfd's O_NONBLOCK (syscalls/pidfd.cc).
ErrorOr<std::shared_ptr<ThreadGroup>> GetPidFdGroup(Task& t, int fd, bool* nonblocking);

// Copies an iovec array in (EINVAL over UIO_MAXIOV or a total over
// SSIZE_MAX; EFAULT).
ErrorOr<std::vector<IoVec>> CopyInIovecs(Task& t, uint64_t addr, uint64_t count);

// timespec <-> absl, with EINVAL for invalid nanoseconds.
ErrorOr<absl::Duration> CopyInTimespecDuration(Task& t, uint64_t addr);
// Sends `sig` to the calling thread from itself, as Linux's send_sig does
// for SIGPIPE and SIGXFSZ.
void RaiseOnSelf(Task& t, int sig);
// Installs the signal mask argument of ppoll/pselect6/epoll_pwait for the
// syscall's duration (restored on return, after signal delivery): `addr`
// 0 leaves the mask alone; `size` must be sizeof(sigset).
Errno ApplySigmask(Task& t, uint64_t addr, uint64_t size, bool* applied);
absl::Time HostClock(clockid_t id);

// stat(2) layout from an Attr.
struct stat ToStat(const vfs::Attr& a);

}  // namespace sentry::sys

#endif  // SYSCALLS_UTIL_H_
