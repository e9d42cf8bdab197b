// What the System V IPC objects (shm, sem, msg) share: the caller's
// identity and Linux's ipcperms() and owner checks on an ipc_perm.
#ifndef SENTRY_KERNEL_IPC_PERM_H_
#define SENTRY_KERNEL_IPC_PERM_H_

#include <sys/ipc.h>

#include <cstdint>

#include "fs/vfs/types.h"
#include "sentry/base/error.h"

namespace sentry {

struct IpcCaller {
  vfs::Credentials creds;
  int32_t pid = 0;
};

// ipcperms(): the owner's, group's or others' mode bits for the S_I*USR
// bits in `want`; CAP_IPC_OWNER bypasses. EACCES when refused.
Errno IpcAccess(const IpcCaller& c, const struct ipc_perm& p, int want);
// Owner, creator or CAP_SYS_ADMIN: who may IPC_SET and IPC_RMID.
bool IpcOwner(const IpcCaller& c, const struct ipc_perm& p);

}  // namespace sentry

#endif  // SENTRY_KERNEL_IPC_PERM_H_
