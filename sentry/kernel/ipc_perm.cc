#include "sentry/kernel/ipc_perm.h"

#include <linux/capability.h>

namespace sentry {

Errno IpcAccess(const IpcCaller& c, const struct ipc_perm& p, int want) {
  int granted = p.mode;
  if (c.creds.euid == p.cuid || c.creds.euid == p.uid) {
    granted >>= 6;
  } else if (c.creds.InGroup(p.cgid) || c.creds.InGroup(p.gid)) {
    granted >>= 3;
  }
  int requested = (want | want >> 3 | want >> 6) & 7;
  if ((requested & ~granted & 7) != 0 && !c.creds.HasCap(CAP_IPC_OWNER)) return EACCES;
  return 0;
}

bool IpcOwner(const IpcCaller& c, const struct ipc_perm& p) {
  return c.creds.euid == p.uid || c.creds.euid == p.cuid || c.creds.HasCap(CAP_SYS_ADMIN);
}

}  // namespace sentry
