// pread/pwrite on a donated host fd: the only host I/O the gofer client
// does for file data (no round trip to the Gofer).
#ifndef FS_GOFER_HOST_IO_H_
#define FS_GOFER_HOST_IO_H_

#include <errno.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>

#include "sentry/base/error.h"

namespace sentry::goferfs {

// Transfers all `len` bytes unless the file ends (reads) or the host
// fails part way; returns what was transferred, or the host errno if
// nothing was.
inline ErrorOr<size_t> HostIo(bool write, int fd, uint8_t* p, size_t len, uint64_t off) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = write ? pwrite(fd, p + done, len - done, static_cast<off_t>(off + done))
                      : pread(fd, p + done, len - done, static_cast<off_t>(off + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (done > 0) break;
      return Err(errno);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

}  // namespace sentry::goferfs

#endif  // FS_GOFER_HOST_IO_H_
