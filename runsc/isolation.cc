#include "runsc/isolation.h"

#include <fcntl.h>
#include <linux/capability.h>
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
  // An empty tmpfs stacked on "/" becomes the new root; pivot_root(".", ".")
  // puts the old root on top of it, and detaching that leaves only the
  // empty tmpfs.
  if (mount("sandbox-root", "/", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=64k,mode=0555") != 0) {
    return sentry::ErrnoToStatus(errno, "mount empty root");
  }
  if (chdir("/") != 0) return sentry::ErrnoToStatus(errno, "chdir new root");
  if (syscall(SYS_pivot_root, ".", ".") != 0) return sentry::ErrnoToStatus(errno, "pivot_root");
  if (umount2(".", MNT_DETACH) != 0) return sentry::ErrnoToStatus(errno, "detach old root");
  if (chdir("/") != 0) return sentry::ErrnoToStatus(errno, "chdir /");
  if (mount(nullptr, "/", nullptr, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
            nullptr) != 0) {
    return sentry::ErrnoToStatus(errno, "remount root read-only");
  }
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
