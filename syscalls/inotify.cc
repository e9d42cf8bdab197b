// inotify_init(2), inotify_init1, inotify_add_watch, inotify_rm_watch
// (the instances are fs/anon/inotify.h, the events fs/vfs/notify.h).
#include <fcntl.h>
#include <sys/inotify.h>

#include "fs/anon/inotify.h"
#include "syscalls/handlers.h"
#include "syscalls/util.h"

namespace sentry::sys {
namespace {

SysRet InitCommon(Task& t, uint64_t flags) {
  if (flags & ~uint64_t{IN_NONBLOCK | IN_CLOEXEC}) return SysRet::Err(EINVAL);
  return InstallFile(t, vfs::NewInotify((flags & IN_NONBLOCK) ? O_NONBLOCK : 0),
                     flags & IN_CLOEXEC);
}

ErrorOr<std::pair<FilePtr, vfs::InotifyFile*>> GetInotify(Task& t, int fd) {
  FilePtr f = TRY_ASSIGN(GetFile(t, fd));
  auto* in = dynamic_cast<vfs::InotifyFile*>(f.get());
  if (in == nullptr) return Err(EINVAL);  // not an inotify instance
  return std::make_pair(std::move(f), in);
}

}  // namespace

SysRet InotifyInit(Task& t, const SyscallArgs& a) { return InitCommon(t, 0); }
SysRet InotifyInit1(Task& t, const SyscallArgs& a) { return InitCommon(t, a[0]); }

SysRet InotifyAddWatch(Task& t, const SyscallArgs& a) {
  auto [f, in] = TRY_ASSIGN(GetInotify(t, static_cast<int>(a[0])));
  uint32_t mask = static_cast<uint32_t>(a[2]);
  if (!(mask & IN_ALL_EVENTS)) return SysRet::Err(EINVAL);
  if ((mask & IN_MASK_ADD) && (mask & IN_MASK_CREATE)) return SysRet::Err(EINVAL);
  std::string path = TRY_ASSIGN(CopyInPath(t, a[1]));
  vfs::VirtualDentry start = TRY_ASSIGN(StartDir(t, AT_FDCWD, path));
  uint32_t rf = (mask & IN_DONT_FOLLOW) ? 0 : vfs::kFollow;
  if (mask & IN_ONLYDIR) rf |= vfs::kMustBeDir;
  vfs::VirtualDentry vd = TRY_ASSIGN(t.kernel().vfs()->Resolve(t.PathCtx(), start, path, rf));
  const std::shared_ptr<vfs::Inode>& inode = vd.dentry->inode();
  vfs::Attr attr = TRY_ASSIGN(inode->GetAttr());
  if ((mask & IN_ONLYDIR) && !attr.IsDir()) return SysRet::Err(ENOTDIR);
  // inotify_find_inode: watching needs read permission.
  TRY(vfs::VFS::CheckPermission(t.creds(), attr, vfs::kMayRead));
  return TRY_ASSIGN(in->AddWatch(inode, mask));
}

SysRet InotifyRmWatch(Task& t, const SyscallArgs& a) {
  auto [f, in] = TRY_ASSIGN(GetInotify(t, static_cast<int>(a[0])));
  return in->RemoveWatch(static_cast<int>(a[1]));
}

}  // namespace sentry::sys
