// signalfd, signalfd4 (reads go through the file: fs/anon/signalfd.h).
#include <sys/signalfd.h>

#include "fs/anon/signalfd.h"
#include "syscalls/handlers.h"
#include "syscalls/util.h"

namespace sentry::sys {
namespace {

SysRet DoSignalfd(Task& t, int fd, uint64_t mask_addr, uint64_t size, uint64_t flags) {
  if (size != sizeof(SigSet)) return SysRet::Err(EINVAL);
  if (flags & ~uint64_t{SFD_CLOEXEC | SFD_NONBLOCK}) return SysRet::Err(EINVAL);
  SigSet mask;
  TRY(t.CopyIn(UserPtr<SigSet>(mask_addr), &mask));
  if (fd == -1) {
    return InstallFile(t, vfs::NewSignalFd(mask, static_cast<uint32_t>(flags)),
                       flags & SFD_CLOEXEC);
  }
  FilePtr f = TRY_ASSIGN(GetFile(t, fd));
  auto* sfd = dynamic_cast<vfs::SignalFd*>(f.get());
  if (sfd == nullptr) return SysRet::Err(EINVAL);
  sfd->SetMask(mask);
  return fd;
}

}  // namespace

SysRet Signalfd(Task& t, const SyscallArgs& a) {
  return DoSignalfd(t, static_cast<int>(a[0]), a[1], a[2], 0);
}
SysRet Signalfd4(Task& t, const SyscallArgs& a) {
  return DoSignalfd(t, static_cast<int>(a[0]), a[1], a[2], a[3]);
}

}  // namespace sentry::sys
