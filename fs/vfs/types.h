// Plain types shared by the VFS and every file system.
#ifndef FS_VFS_TYPES_H_
#define FS_VFS_TYPES_H_

#include <sys/stat.h>
#include <time.h>

#include <cstdint>
#include <string>
#include <vector>

namespace sentry::vfs {

// The kernel's __O_TMPFILE bit alone. glibc's __O_TMPFILE also holds
// O_DIRECTORY (so that O_TMPFILE can be tested as one mask), which makes
// `flags & __O_TMPFILE` true for any O_DIRECTORY open.
inline constexpr uint32_t kOTmpfileBit = 020000000;

// Capability numbers (linux/capability.h) the VFS checks.
inline constexpr int kCapChown = 0;
inline constexpr int kCapDacOverride = 1;
inline constexpr int kCapDacReadSearch = 2;
inline constexpr int kCapFowner = 3;
inline constexpr int kCapFsetid = 4;
inline constexpr int kCapSysAdmin = 21;
inline constexpr int kCapMknod = 27;

// Who is asking: a snapshot of a task's credentials.
struct Credentials {
  uint32_t uid = 0, euid = 0, suid = 0, fsuid = 0;
  uint32_t gid = 0, egid = 0, sgid = 0, fsgid = 0;
  std::vector<uint32_t> groups;
  uint64_t cap_effective = ~0ull;
  uint64_t cap_permitted = ~0ull;
  uint64_t cap_inheritable = 0;
  bool HasCap(int cap) const { return (cap_effective >> cap) & 1; }
  bool InGroup(uint32_t g) const {
    if (g == fsgid) return true;
    for (uint32_t x : groups)
      if (x == g) return true;
    return false;
  }
};

// MAY_* access bits (include/linux/fs.h).
inline constexpr int kMayExec = 1;
inline constexpr int kMayWrite = 2;
inline constexpr int kMayRead = 4;

// What stat(2) shows, plus btime for statx.
struct Attr {
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint32_t mode = 0;  // S_IFMT bits | permission bits
  uint32_t nlink = 1;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t rdev = 0;
  uint64_t size = 0;
  uint64_t blocks = 0;  // 512-byte units
  uint32_t blksize = 4096;
  struct timespec atime {}, mtime{}, ctime{}, btime{};

  uint32_t type() const { return mode & S_IFMT; }
  bool IsDir() const { return type() == S_IFDIR; }
  bool IsRegular() const { return type() == S_IFREG; }
  bool IsSymlink() const { return type() == S_IFLNK; }
};

// A change of attributes (chmod, chown, truncate, utimensat). Only the
// fields named in `mask` apply. Permission checks are the VFS's job; file
// systems apply what they are given (and update ctime themselves).
struct SetAttr {
  enum : uint32_t {
    kMode = 1 << 0,
    kUid = 1 << 1,
    kGid = 1 << 2,
    kSize = 1 << 3,
    kAtime = 1 << 4,
    kMtime = 1 << 5,
    kCtime = 1 << 6,
  };
  uint32_t mask = 0;
  uint32_t mode = 0;  // permission bits only (with S_ISUID/S_ISGID/S_ISVTX)
  uint32_t uid = 0, gid = 0;
  uint64_t size = 0;
  struct timespec atime {}, mtime{}, ctime{};
};

struct DirEntry {
  std::string name;
  uint64_t ino = 0;
  uint8_t type = 0;  // DT_*
};

// S_IFMT -> DT_* (fs/dirent: d_type is the file type >> 12).
inline uint8_t DirentType(uint32_t mode) { return static_cast<uint8_t>((mode & S_IFMT) >> 12); }

// Current time for timestamps.
struct timespec Now();

}  // namespace sentry::vfs

#endif  // FS_VFS_TYPES_H_
