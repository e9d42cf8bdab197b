// Files without a path that Linux backs with its single anonymous inode
// (anon_inode_getfile): eventfd and epoll instances. Their fstat shows the
// anon_inodefs device, one shared inode and mode 0600 with no file type.
#ifndef FS_ANON_ANON_H_
#define FS_ANON_ANON_H_

#include <cstdint>
#include <memory>

#include "fs/vfs/file.h"

namespace sentry::vfs {

// stat of the anonymous inode.
Attr AnonInodeAttr();

// What every anonymous-inode file shares: no positional I/O, Linux's
// noop_llseek (succeeds, stays at 0), the anonymous inode's stat, and no
// write unless the type has one (EINVAL, as a file without ->write).
class AnonFile : public FileDescription {
 public:
  SysRet Write(Task*, IOSequence&) override { return SysRet::Err(EINVAL); }
  SysRet PRead(Task*, IOSequence&, int64_t) override { return SysRet::Err(ESPIPE); }
  SysRet PWrite(Task*, IOSequence&, int64_t) override { return SysRet::Err(ESPIPE); }
  ErrorOr<int64_t> Seek(int64_t, int) override { return int64_t{0}; }
  bool seekable() const override { return false; }
  ErrorOr<Attr> Stat() override { return AnonInodeAttr(); }
};

// eventfd2(2): `flags` are EFD_* (validated by the caller).
std::shared_ptr<FileDescription> NewEventFd(uint64_t initval, uint32_t flags);

}  // namespace sentry::vfs

#endif  // FS_ANON_ANON_H_
