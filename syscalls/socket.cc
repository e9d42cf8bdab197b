// Socket syscalls on file descriptors. Sockets themselves come with the
// network stack (issue 5): socket(2) and socketpair(2) are unimplemented,
// so no fd is ever a socket and every call on one answers as Linux does
// for a non-socket fd.
#include "syscalls/handlers.h"
#include "syscalls/util.h"

namespace sentry::sys {

SysRet NotASocket(Task& t, const SyscallArgs& a) {
  TRY_ASSIGN(GetFile(t, static_cast<int>(a[0])));
  return SysRet::Err(ENOTSOCK);
}

}  // namespace sentry::sys
