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

// eventfd2(2): `flags` are EFD_* (validated by the caller).
std::shared_ptr<FileDescription> NewEventFd(uint64_t initval, uint32_t flags);

}  // namespace sentry::vfs

#endif  // FS_ANON_ANON_H_
