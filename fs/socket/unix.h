// Unix domain sockets (unix(7)): stream, seqpacket and datagram; unnamed
// (socketpair), path and abstract names; listen/accept/connect;
// SCM_RIGHTS and SCM_CREDENTIALS. The state lives in unix_endpoint.h; the
// file, the names and the options in unix_socket.cc.
#ifndef FS_SOCKET_UNIX_H_
#define FS_SOCKET_UNIX_H_

#include <sys/socket.h>

#include <memory>
#include <utility>

#include "fs/socket/socket.h"

namespace sentry::vfs {

// socket(AF_UNIX, type, 0); `flags` holds O_NONBLOCK.
std::shared_ptr<FileDescription> NewUnixSocket(int type, uint32_t flags, struct ucred creds);

// A connected pair (socketpair); each end's SO_PEERCRED is `creds`.
std::pair<std::shared_ptr<FileDescription>, std::shared_ptr<FileDescription>> NewUnixPair(
    int type, uint32_t flags, struct ucred creds);

}  // namespace sentry::vfs

#endif  // FS_SOCKET_UNIX_H_
