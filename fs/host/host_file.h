// Host files: FileDescriptions over host file descriptors the Sentry was
// given at start (the sandbox's stdin/stdout/stderr).
//
// The fds are non-blocking on the host side (runsc hands the Sentry fresh
// open file descriptions where it can, so this never affects the user's
// shell); readiness comes from one host epoll instance watched by a
// notifier thread, so a task waiting for input can be interrupted by a
// signal like any other wait.
#ifndef FS_HOST_HOST_FILE_H_
#define FS_HOST_HOST_FILE_H_

#include <memory>

#include "fs/vfs/file.h"

namespace sentry::vfs {

// Wraps host fd `fd` (ownership passes to the file). `flags` is the
// access mode as the application should see it.
ErrorOr<std::shared_ptr<FileDescription>> NewHostFile(int fd, uint32_t flags);

// ioctl requests forwarded to a host terminal (the Sentry's seccomp filter
// allows exactly these).
const std::vector<unsigned long>& HostTtyIoctls();

}  // namespace sentry::vfs

#endif  // FS_HOST_HOST_FILE_H_
