// The text formats of /proc files, as pure functions of plain data, so
// they can be checked without a running kernel. Gathering the data from
// tasks (under the kernel's locks) is task_info.cc's job.
#ifndef FS_PROC_FORMAT_H_
#define FS_PROC_FORMAT_H_

#include <signal.h>
#include <sys/resource.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fs/vfs/types.h"
#include "sentry/kernel/signal_types.h"
#include "sentry/mm/mm.h"

namespace sentry::proc {

// USER_HZ: the unit of times in /proc/<pid>/stat and /proc/stat.
inline constexpr uint64_t kClockTicksPerSec = 100;
inline constexpr uint64_t kNsPerTick = 1000000000ull / kClockTicksPerSec;
// CAP_LAST_CAP of Linux 6.1 (CAP_CHECKPOINT_RESTORE).
inline constexpr int kCapLastCap = 40;
inline constexpr uint64_t kCapFullSet = (uint64_t{1} << (kCapLastCap + 1)) - 1;

// Memory figures of one address space, in bytes (status, stat, statm).
struct MemSummary {
  uint64_t vm_size = 0;
  uint64_t vm_rss = 0;
  uint64_t vm_data = 0;   // private writable, not stack
  uint64_t vm_stk = 0;
  uint64_t vm_exe = 0;    // executable mappings of the program itself
  uint64_t vm_lib = 0;    // other executable mappings
  uint64_t rss_anon = 0;
  uint64_t rss_file = 0;
  uint64_t rss_shmem = 0;
  // Addresses for /proc/<pid>/stat fields 26-28 and 45-51.
  uint64_t start_code = 0, end_code = 0, start_data = 0, end_data = 0;
  uint64_t start_stack = 0, start_brk = 0;
  uint64_t arg_start = 0, arg_end = 0, env_start = 0, env_end = 0;
};

// Folds the VMAs of an mm into a MemSummary; `exe` is the executable's
// path as the VMAs name it.
MemSummary SummarizeVmas(const std::vector<VmaStat>& vmas, std::string_view exe);

// Everything /proc/<pid>/{stat,status,statm} show about one task.
struct TaskInfo {
  int32_t pid = 0, tgid = 0, ppid = 0, pgrp = 0, sid = 0;
  // The controlling terminal, new_encode_dev()d (0: none), and its
  // foreground group (-1 without a terminal).
  uint32_t tty_nr = 0;
  int32_t tpgid = -1;
  std::string comm;
  char state = 'S';  // R S D T Z X
  vfs::Credentials creds;
  uint32_t umask = 022;
  bool no_new_privs = false;
  int seccomp_mode = 0;     // SECCOMP_MODE_*
  int seccomp_filters = 0;  // filters in the thread's chain
  int threads = 1;
  int fd_slots = 64;
  MemSummary mem;
  SigSet sig_pnd = 0, shd_pnd = 0, sig_blk = 0, sig_ign = 0, sig_cgt = 0;
  uint64_t sigq = 0, sigq_limit = 0;
  uint64_t utime_ns = 0, stime_ns = 0, cutime_ns = 0, cstime_ns = 0;
  uint64_t start_ns = 0;  // since boot
  int nice = 0;
  int exit_signal = SIGCHLD;
  int exit_code = 0;      // wait status of a zombie
  uint64_t rss_limit = RLIM_INFINITY;
  int num_cpus = 1;
};

// /proc/<pid>/stat: the 52 space-separated fields of proc(5).
std::string FormatStat(const TaskInfo& t);
// /proc/<pid>/status: "Key:\tvalue" lines in Linux 6.1's order.
std::string FormatStatus(const TaskInfo& t);
// /proc/<pid>/statm: size resident shared text lib data dt, in pages.
std::string FormatStatm(const TaskInfo& t);
// The long name of a state letter: "R (running)".
std::string_view StateName(char state);

// /proc/<pid>/limits.
std::string FormatLimits(const std::array<struct rlimit, RLIM_NLIMITS>& l);

// /proc/<pid>/maps and smaps from an mm's VMAs.
std::string FormatMaps(const std::vector<VmaStat>& vmas);
std::string FormatSmaps(const std::vector<VmaStat>& vmas);

// One mount as /proc/<pid>/mounts and mountinfo show it.
struct MountRow {
  uint64_t id = 0, parent_id = 0;
  uint64_t dev = 0;
  std::string root = "/";  // the mount's root within its file system
  std::string mount_point;
  std::string fstype;
  std::string source;
  uint32_t flags = 0;      // MS_*
  std::string fs_options;  // Filesystem::MountOptions()
};
std::string FormatMounts(const std::vector<MountRow>& rows);
std::string FormatMountinfo(const std::vector<MountRow>& rows);
// Octal escapes for ' ', '\t', '\n' and '\\' (Linux's mangle()).
std::string MangleMountField(std::string_view s);

// Cpus_allowed's hex bitmap ("3", "ff,ffffffff") for CPUs 0..n-1.
std::string CpuMask(int n);

}  // namespace sentry::proc

#endif  // FS_PROC_FORMAT_H_
