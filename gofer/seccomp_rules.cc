// The Gofer's seccomp allowlist, one rule per line with its reason.
// Printed by `runsc seccomp-allowlist gofer`; tested in gofer_test.cc.
//
// Only what Serve() needs after start-up is here: namespace, mount and
// capability set-up happen before the filter is installed. Argument
// filters pin syscalls to the one way the Gofer uses them.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "gofer/seccomp.h"

namespace gofer {
namespace {
using Op = SeccompArg::Op;
constexpr int kSysFchmodat2 = 452;  // Linux 6.6; not in glibc 2.36's list
}  // namespace

std::vector<SeccompRule> GoferSeccompRules(bool read_only) {
  std::vector<SeccompRule> r = {
      // --- the protocol ---
      {SYS_ppoll, "ppoll", {}, "event loop: waits for requests on every channel"},
      {SYS_recvmsg, "recvmsg", {{2, Op::kEq, MSG_CMSG_CLOEXEC}}, "reads one request datagram"},
      {SYS_sendmsg, "sendmsg", {{2, Op::kEq, MSG_NOSIGNAL | MSG_DONTWAIT}},
       "sends responses and donated fds"},
      {SYS_socketpair, "socketpair",
       {{0, Op::kEq, AF_UNIX}, {1, Op::kEq, SOCK_SEQPACKET | SOCK_CLOEXEC}},
       "NewChannel: one more channel to the Sentry"},
      {SYS_close, "close", {}, "clunked fids and per-request fds"},
      {SYS_shutdown, "shutdown", {{1, Op::kEq, SHUT_RDWR}}, "hangs up on a misbehaving channel"},
      // --- looking at files ---
      {SYS_openat, "openat",
       {{2, Op::kMaskedEq, 0,
         static_cast<uint64_t>(read_only ? (O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND) : O_TRUNC)}},
       read_only ? "walk (O_PATH|O_NOFOLLOW) and read-only reopen for Open/ReadDir/xattrs"
                 : "walk (O_PATH|O_NOFOLLOW), reopen for Open/ReadDir/xattrs, Create"},
      {SYS_newfstatat, "newfstatat", {{3, Op::kMaskedEq, AT_EMPTY_PATH, AT_EMPTY_PATH}},
       "fstat(2) of walked and reopened files (glibc's fstat)"},
      {SYS_fstatfs, "fstatfs", {}, "StatFS request"},
      {SYS_getdents64, "getdents64", {}, "ReadDir request"},
      {SYS_lseek, "lseek", {{2, Op::kEq, SEEK_SET}}, "ReadDir resumes at a cookie"},
      {SYS_readlinkat, "readlinkat", {}, "ReadLink of a fid itself (empty path)"},
      {SYS_fgetxattr, "fgetxattr", {}, "GetXattr (user.* only)"},
      {SYS_flistxattr, "flistxattr", {}, "ListXattr"},
      // --- the C/C++ runtime ---
      {SYS_mmap, "mmap", {{2, Op::kMaskedEq, 0, PROT_EXEC}}, "malloc (never executable memory)"},
      {SYS_munmap, "munmap", {}, "free returns large blocks"},
      {SYS_mremap, "mremap", {}, "realloc of large buffers"},
      {SYS_brk, "brk", {}, "malloc grows the heap"},
      {SYS_madvise, "madvise", {{2, Op::kEq, MADV_DONTNEED}}, "free returns memory"},
      {SYS_futex, "futex", {}, "glibc and protobuf one-time initialization locks"},
      {SYS_write, "write", {}, "log lines to the log fd"},
      {SYS_gettid, "gettid", {}, "log lines name the thread"},
      {SYS_clock_gettime, "clock_gettime", {}, "log timestamps without a vDSO"},
      {SYS_restart_syscall, "restart_syscall", {}, "ppoll restarted after SIGSTOP/SIGCONT"},
      {SYS_exit, "exit", {}, "thread exit"},
      {SYS_exit_group, "exit_group", {}, "process exit when the Sentry hangs up"},
  };
  if (read_only) return r;
  std::vector<SeccompRule> w = {
      {SYS_mkdirat, "mkdirat", {}, "Mkdir request"},
      {SYS_symlinkat, "symlinkat", {}, "Symlink request"},
      {SYS_mknodat, "mknodat", {{2, Op::kMaskedEq, S_IFREG, S_IFMT}}, "Mknod of a regular file"},
      {SYS_mknodat, "mknodat", {{2, Op::kMaskedEq, S_IFIFO, S_IFMT}}, "Mknod of a fifo"},
      {SYS_mknodat, "mknodat", {{2, Op::kMaskedEq, S_IFSOCK, S_IFMT}},
       "Mknod of a socket (never a device)"},
      {SYS_linkat, "linkat", {{4, Op::kEq, 0}}, "Link, never following a symlink"},
      {SYS_unlinkat, "unlinkat", {}, "Unlink/Rmdir, and undoing a half-made Create"},
      {SYS_renameat2, "renameat2", {}, "Rename request (renameat2 flags)"},
      {SYS_fchownat, "fchownat", {{4, Op::kMaskedEq, AT_EMPTY_PATH, AT_EMPTY_PATH}},
       "SetAttr uid/gid and new files' owner, through the fid's fd"},
      {SYS_utimensat, "utimensat", {{3, Op::kMaskedEq, AT_EMPTY_PATH, AT_EMPTY_PATH}},
       "SetAttr times through the fid's fd"},
      {kSysFchmodat2, "fchmodat2", {{3, Op::kEq, AT_EMPTY_PATH}},
       "SetAttr mode through an O_PATH fd"},
      {SYS_fchmod, "fchmod", {}, "SetAttr mode on kernels without fchmodat2"},
      {SYS_ftruncate, "ftruncate", {}, "SetAttr size, Open with O_TRUNC"},
      {SYS_fsetxattr, "fsetxattr", {}, "SetXattr (user.* only)"},
      {SYS_fremovexattr, "fremovexattr", {}, "RemoveXattr (user.* only)"},
  };
  r.insert(r.end(), w.begin(), w.end());
  return r;
}

}  // namespace gofer
