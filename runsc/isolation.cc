#include "runsc/isolation.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "sentry/base/error.h"

namespace runsc {

absl::Status PivotToEmptyRoot() {
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return sentry::ErrnoToStatus(errno, "make / private");
  }
  // An empty read-only tmpfs, created detached and moved over "/", becomes
  // the new root. A lookup of "/" would not see a mount stacked on the
  // root directory, so we enter it through the mount's own fd; then
  // pivot_root(".", ".") stacks the old root on top and detaching it
  // leaves only the empty tmpfs.
  int fsfd = static_cast<int>(syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC));
  if (fsfd < 0) return sentry::ErrnoToStatus(errno, "fsopen tmpfs");
  syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, "size", "64k", 0);
  syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, "mode", "0555", 0);
  if (syscall(SYS_fsconfig, fsfd, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) {
    int e = errno;
    close(fsfd);
    return sentry::ErrnoToStatus(e, "create empty root");
  }
  int mfd = static_cast<int>(syscall(SYS_fsmount, fsfd, FSMOUNT_CLOEXEC,
                                     MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                         MOUNT_ATTR_NOEXEC));
  close(fsfd);
  if (mfd < 0) return sentry::ErrnoToStatus(errno, "fsmount");
  if (syscall(SYS_move_mount, mfd, "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH) != 0) {
    int e = errno;
    close(mfd);
    return sentry::ErrnoToStatus(e, "move_mount empty root");
  }
  int rc = fchdir(mfd);
  close(mfd);
  if (rc != 0) return sentry::ErrnoToStatus(errno, "enter new root");
  if (syscall(SYS_pivot_root, ".", ".") != 0) return sentry::ErrnoToStatus(errno, "pivot_root");
  if (umount2(".", MNT_DETACH) != 0) return sentry::ErrnoToStatus(errno, "detach old root");
  if (chdir("/") != 0) return sentry::ErrnoToStatus(errno, "chdir /");
  return absl::OkStatus();
}

absl::Status DropAllCapabilities() {
  for (int cap = 0; cap <= 63; cap++) {
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
      return sentry::ErrnoToStatus(errno, "drop bounding capability");
    }
  }
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capset, &hdr, data) != 0) return sentry::ErrnoToStatus(errno, "capset");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return sentry::ErrnoToStatus(errno, "no_new_privs");
  return absl::OkStatus();
}

void SetUndumpable() { prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); }

std::string ReadHostFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace runsc
