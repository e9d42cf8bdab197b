#include "gofer/process.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string_view>

#include "absl/strings/str_format.h"
#include "gofer/seccomp.h"
#include "gofer/server.h"
#include "sentry/base/error.h"
#include "sentry/base/log.h"

namespace gofer {
namespace {

absl::Status Fail(const char* what) { return sentry::ErrnoToStatus(errno, what); }

// File systems that show the host itself (its processes, devices, kernel
// knobs, cgroups) rather than files. A recursive bind of "/" (`runsc do`)
// brings them along; the Sentry has its own /proc, /sys and /dev, so the
// Gofer hides these instead of serving them.
constexpr std::string_view kHostOnlyFs[] = {
    "proc",     "sysfs",    "devtmpfs", "devpts",    "cgroup",      "cgroup2",
    "debugfs",  "tracefs",  "securityfs", "bpf",     "pstore",      "efivarfs",
    "configfs", "fusectl",  "mqueue",   "hugetlbfs", "binfmt_misc", "autofs",
    "rpc_pipefs", "nsfs",   "selinuxfs"};

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '7') {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Detaches every host-only mount of the tree whose root is our cwd.
// Runs before the pivot, while /proc still shows the mount table; the old
// tree's mounts at the same paths are told apart by mount id.
absl::Status DetachHostOnlyMounts() {
  struct statx stx = {};
  if (statx(AT_FDCWD, ".", 0, STATX_MNT_ID, &stx) < 0 || !(stx.stx_mask & STATX_MNT_ID)) {
    return Fail("statx(STATX_MNT_ID) of the new root");
  }
  int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Fail("open /proc/self/mountinfo");
  std::string table;
  char buf[8192];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) table.append(buf, static_cast<size_t>(n));
  close(fd);
  if (n < 0) return Fail("read mountinfo");

  struct Entry {
    uint64_t id, parent;
    std::string mount_point;
    bool host_only;
  };
  std::vector<Entry> mounts;
  std::string_view rest = table;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    // Fields: id parent major:minor root mount-point options [tags] - type ...
    std::vector<std::string_view> f;
    for (size_t p = 0; p <= line.size();) {
      size_t sp = line.find(' ', p);
      if (sp == std::string_view::npos) sp = line.size();
      f.push_back(line.substr(p, sp - p));
      p = sp + 1;
    }
    auto dash = std::find(f.begin(), f.end(), "-");
    if (f.size() < 5 || dash == f.end() || dash + 1 == f.end()) continue;
    std::string_view fstype = *(dash + 1);
    mounts.push_back({std::strtoull(std::string(f[0]).c_str(), nullptr, 10),
                      std::strtoull(std::string(f[1]).c_str(), nullptr, 10), Unescape(f[4]),
                      std::find(std::begin(kHostOnlyFs), std::end(kHostOnlyFs), fstype) !=
                          std::end(kHostOnlyFs)});
  }
  // Our tree: the cwd's mount and everything stacked below it.
  std::string top;
  std::vector<uint64_t> ours = {stx.stx_mnt_id};
  for (const Entry& m : mounts) {
    if (m.id == stx.stx_mnt_id) top = m.mount_point;
  }
  if (top.empty()) return absl::InternalError("new root not in mountinfo");
  for (bool grew = true; grew;) {
    grew = false;
    for (const Entry& m : mounts) {
      bool in = std::find(ours.begin(), ours.end(), m.id) != ours.end();
      bool parent_in = std::find(ours.begin(), ours.end(), m.parent) != ours.end();
      if (!in && parent_in) {
        ours.push_back(m.id);
        grew = true;
      }
    }
  }
  std::vector<std::string> doomed;  // relative to the new root (our cwd)
  for (const Entry& m : mounts) {
    if (!m.host_only || m.id == stx.stx_mnt_id) continue;
    if (std::find(ours.begin(), ours.end(), m.id) == ours.end()) continue;
    size_t skip = top == "/" ? 1 : top.size() + 1;
    if (m.mount_point.size() <= skip) continue;
    doomed.push_back("./" + m.mount_point.substr(skip));
  }
  // Deepest first; a mount that went with its parent answers EINVAL.
  std::sort(doomed.begin(), doomed.end(), [](const std::string& a, const std::string& b) {
    return std::count(a.begin(), a.end(), '/') > std::count(b.begin(), b.end(), '/');
  });
  for (const std::string& path : doomed) {
    if (umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL &&
        errno != ENOENT) {
      return Fail("detach host-only mount");
    }
  }
  return absl::OkStatus();
}

// Makes `root` the whole file system view of this process.
absl::Status PivotInto(const std::string& root, bool read_only) {
  if (unshare(CLONE_NEWNS) < 0) return Fail("unshare(CLONE_NEWNS)");
  // Nothing we do below may propagate back to the host's mounts.
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) {
    return Fail("make mounts private");
  }
  // A detached recursive copy of root (open_tree), flagged as a whole, then
  // attached over root itself. Holding its fd lets us chdir into the new
  // mount even when root is "/", where a path lookup of "/" would still
  // find the old mount underneath.
  int tree = static_cast<int>(syscall(SYS_open_tree, AT_FDCWD, root.c_str(),
                                      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE));
  if (tree < 0) return Fail("open_tree(root)");
  struct mount_attr attr = {};
  attr.attr_set = MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID | (read_only ? MOUNT_ATTR_RDONLY : 0);
  // nodev matters most: even a file swapped for a device node between
  // walk and open can never be opened as a device.
  if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0) {
    int e = errno;
    close(tree);
    return sentry::ErrnoToStatus(e, "mount_setattr(nodev,nosuid[,rdonly])");
  }
  if (syscall(SYS_move_mount, tree, "", AT_FDCWD, root.c_str(), MOVE_MOUNT_F_EMPTY_PATH) < 0) {
    int e = errno;
    close(tree);
    return sentry::ErrnoToStatus(e, "move_mount(root)");
  }
  int rc = fchdir(tree);
  close(tree);
  if (rc < 0) return Fail("fchdir(new root)");
  if (absl::Status s = DetachHostOnlyMounts(); !s.ok()) return s;
  // pivot_root(".", "."): the old root ends up stacked on the new one and
  // is detached at once, so no path leads back to it.
  if (syscall(SYS_pivot_root, ".", ".") < 0) return Fail("pivot_root");
  if (umount2(".", MNT_DETACH) < 0) return Fail("detach old root");
  if (chdir("/") < 0) return Fail("chdir(/)");
  return absl::OkStatus();
}

// Closes every fd but `keep` (sorted), so nothing the parent leaked can be
// reached from a compromised Gofer.
void CloseOtherFds(std::vector<int> keep) {
  std::sort(keep.begin(), keep.end());
  unsigned lo = 0;
  for (int k : keep) {
    if (k < 0 || static_cast<unsigned>(k) < lo) continue;
    if (static_cast<unsigned>(k) > lo) syscall(SYS_close_range, lo, static_cast<unsigned>(k) - 1, 0);
    lo = static_cast<unsigned>(k) + 1;
  }
  syscall(SYS_close_range, lo, ~0u, 0);
}

absl::Status DropCapabilities(uint64_t keep) {
  // Bounding set first: dropping from it needs CAP_SETPCAP, which goes
  // with the effective set below. EINVAL marks the end of known caps.
  for (int cap = 0; cap < 64; cap++) {
    if (keep & (1ull << cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno == EINVAL) break;
  }
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &hdr, data) < 0) return Fail("capget");
  uint64_t permitted = (uint64_t{data[1].permitted} << 32) | data[0].permitted;
  uint64_t now = permitted & keep;
  for (int i = 0; i < 2; i++) {
    data[i].effective = data[i].permitted = static_cast<uint32_t>(now >> (32 * i));
    data[i].inheritable = 0;
  }
  if (syscall(SYS_capset, &hdr, data) < 0) return Fail("capset");
  return absl::OkStatus();
}

}  // namespace

uint64_t GoferCapabilities(bool read_only) {
  // Serve the container's files as its root would see them.
  uint64_t caps = (1ull << CAP_DAC_OVERRIDE) | (1ull << CAP_DAC_READ_SEARCH);
  if (!read_only) {
    // New files get the sandbox user's owner; chmod/utimens of files the
    // Gofer does not own; keeping set-id bits on chown+chmod.
    caps |= (1ull << CAP_CHOWN) | (1ull << CAP_FOWNER) | (1ull << CAP_FSETID);
  }
  return caps;
}

absl::Status RunGoferProcess(const GoferProcessOptions& opts) {
  if (opts.root.empty() || opts.root[0] != '/') return absl::InvalidArgumentError("root must be absolute");
  if (opts.sock_fds.empty()) return absl::InvalidArgumentError("no gofer socket");
  sentry::SetLogPrefix("gofer");
  // Die with the Sentry's launcher rather than linger as a stray.
  if (opts.die_with_parent && prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) {
    return Fail("PR_SET_PDEATHSIG");
  }
  // Bind sources are opened while the host is still in view; the fds keep
  // them reachable after the pivot, and nothing else outside the root is.
  std::vector<ServedMount> mounts(1);
  bool all_read_only = opts.read_only;
  for (const auto& b : opts.binds) {
    int fd = open(b.source.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Fail(("open bind mount source " + b.source).c_str());
    mounts.push_back(ServedMount{fd, b.read_only});
    all_read_only = all_read_only && b.read_only;
  }
  if (absl::Status s = PivotInto(opts.root, opts.read_only); !s.ok()) return s;
  int root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) return Fail("open new root");
  mounts[0] = ServedMount{root_fd, opts.read_only};
  // Modes of created files are exactly what the Sentry asks (it applied
  // the sandbox's umask already).
  umask(0);
  std::vector<int> keep = opts.sock_fds;
  keep.insert(keep.end(), {0, 1, 2, sentry::LogFd()});
  for (const ServedMount& m : mounts) keep.push_back(m.root_fd);
  CloseOtherFds(keep);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return Fail("PR_SET_NO_NEW_PRIVS");
  // Only a writable mount needs the capabilities and syscalls to change files.
  if (absl::Status s = DropCapabilities(GoferCapabilities(all_read_only)); !s.ok()) return s;
  if (opts.seccomp) {
    if (absl::Status s = InstallSeccompFilter(GoferSeccompRules(all_read_only)); !s.ok()) return s;
  }
  SLOG(kInfo, "serving %s (%s) on %d channel(s)", opts.root, opts.read_only ? "ro" : "rw",
       static_cast<int>(opts.sock_fds.size()));
  ServerOptions so;
  so.read_only = all_read_only;  // each mount's own flag decides otherwise
  so.max_channels = opts.max_channels;
  absl::Status s = ServeMounts(opts.sock_fds, mounts, so);
  for (const ServedMount& m : mounts) close(m.root_fd);
  return s;
}

}  // namespace gofer
