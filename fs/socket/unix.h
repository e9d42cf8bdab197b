// Connected pairs of Unix domain sockets: socketpair(AF_UNIX, SOCK_STREAM
// or SOCK_SEQPACKET). Each direction is a pipe ring (fs/pipe): a stream
// socket writes bytes, a seqpacket socket writes packets (the ring's packet
// mode keeps message boundaries and drops what a short read leaves).
// Named sockets (bind/connect/listen/accept), SOCK_DGRAM and ancillary data
// (SCM_RIGHTS, SCM_CREDENTIALS) come with the socket layer of issue 5.
#ifndef FS_SOCKET_UNIX_H_
#define FS_SOCKET_UNIX_H_

#include <sys/socket.h>

#include <memory>
#include <utility>

#include "fs/vfs/file.h"

namespace sentry::vfs {

// The socket-level operations the syscalls need, on top of read/write.
class SocketFile : public FileDescription {
 public:
  virtual int Type() const = 0;  // SOCK_STREAM, SOCK_SEQPACKET
  // send/recv with MSG_* flags; `dontwait`: this call does not block.
  virtual SysRet Send(Task* t, IOSequence& src, int flags) = 0;
  virtual SysRet Recv(Task* t, IOSequence& dst, int flags) = 0;
  virtual Errno Shutdown(int how) = 0;
  // SOL_SOCKET options as integers (ENOPROTOOPT for the rest).
  virtual ErrorOr<int> GetIntOption(int name) = 0;
  virtual Errno SetIntOption(int name, int value) = 0;
  // Credentials of the peer (SO_PEERCRED): those of the creator, as for
  // Linux's socketpair.
  virtual struct ucred PeerCred() const = 0;
};

// A connected pair; `flags` holds SOCK_NONBLOCK (as O_NONBLOCK).
std::pair<std::shared_ptr<FileDescription>, std::shared_ptr<FileDescription>> NewUnixPair(
    int type, uint32_t flags, struct ucred creds);

}  // namespace sentry::vfs

#endif  // FS_SOCKET_UNIX_H_
