// The Gofer server: serves host directory trees to one Sentry over the
// protocol in gofer.proto.
//
// Trust: the peer (the Sentry) is assumed compromised. The server accepts
// only single path components, opens every file relative to its parent's
// O_PATH|O_NOFOLLOW fd, never follows a symlink, refuses to open devices,
// and checks after every reopen that it got the file it walked, so no
// name, symlink, or file swapped between two requests leads outside the
// served roots. Malformed requests get EINVAL/EBADF, never a crash.
//
// Threading: one thread runs an event loop over all channels of the
// connection; requests are handled one at a time, so the server has no
// locks. It never blocks on anything but its sockets (fifos are opened
// O_NONBLOCK).
#ifndef GOFER_SERVER_H_
#define GOFER_SERVER_H_

#include <vector>

#include "absl/status/status.h"

namespace gofer {

// One served tree: AttachRequest.mount indexes the list given to
// ServeMounts.
struct ServedMount {
  int root_fd = -1;  // a directory, O_PATH or O_RDONLY; not closed by Serve
  bool read_only = false;
};

struct ServerOptions {
  // Makes every mount read-only, whatever its own flag says.
  bool read_only = false;
  // Channels (the first sockets plus NewChannel ones) served at once.
  int max_channels = 16;
};

// Serves `root_fd` (mount 0) on `sock_fd` (a SOCK_SEQPACKET socket, not
// closed) and on the channels the client adds, until every channel is
// closed by the peer. Returns an error only if it cannot start.
absl::Status Serve(int sock_fd, int root_fd, const ServerOptions& opts);

// The same for several initial sockets and several mounts.
absl::Status ServeMounts(const std::vector<int>& sock_fds, const std::vector<ServedMount>& mounts,
                         const ServerOptions& opts);

}  // namespace gofer

#endif  // GOFER_SERVER_H_
