// TEMPORARY (branch `gofer` only; delete at merge): minimal definitions of
// VFS defaults whose real implementations live in the fs-core branch, so
// the gofer client links and its tests run in this branch. Nothing here is
// meant to be kept.
#include "fs/vfs/file.h"
#include "fs/vfs/inode.h"

namespace sentry::vfs {

Filesystem::Filesystem() : dev_(0) {}
Errno Filesystem::StatFS(struct statfs*) { return ENOSYS; }
ErrorOr<VirtualDentry> Inode::MagicLinkTarget() { return Err(EINVAL); }
ErrorOr<std::shared_ptr<FileDescription>> Inode::Open(const OpenOptions&) { return Err(ENOSYS); }

void FileDescription::Init(VirtualDentry vd, uint32_t flags) {
  vd_ = std::move(vd);
  flags_.store(flags);
}
Errno FileDescription::SetStatusFlags(uint32_t) { return ENOSYS; }
SysRet FileDescription::Read(Task*, IOSequence&) { return SysRet::Err(ENOSYS); }
SysRet FileDescription::Write(Task*, IOSequence&) { return SysRet::Err(ENOSYS); }
SysRet FileDescription::PRead(Task*, IOSequence&, int64_t) { return SysRet::Err(ESPIPE); }
SysRet FileDescription::PWrite(Task*, IOSequence&, int64_t) { return SysRet::Err(ESPIPE); }
ErrorOr<int64_t> FileDescription::Seek(int64_t, int) { return Err(ESPIPE); }
SysRet FileDescription::IterDirents(Task*, DirentSink&) { return SysRet::Err(ENOTDIR); }
SysRet FileDescription::Ioctl(Task*, uint32_t, uint64_t) { return SysRet::Err(ENOTTY); }
ErrorOr<Attr> FileDescription::Stat() { return Err(ENOSYS); }
Errno FileDescription::Allocate(int, uint64_t, uint64_t) { return ENODEV; }
uint32_t FileDescription::Readiness(uint32_t mask) { return mask; }

}  // namespace sentry::vfs
