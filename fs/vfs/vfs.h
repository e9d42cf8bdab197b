// The VFS: the sandbox's mount tree, path resolution and the file
// operations behind the path-based syscalls.
//
// Path resolution is done here, in the Sentry, one component at a time:
// "." and "..", symlinks (at most 40, ELOOP), mount crossings, permission
// to search each directory, and openat2's RESOLVE_* restrictions. File
// systems (including the gofer client) only ever see single names.
//
// Every operation takes a PathContext: the caller's credentials, root
// (chroot) and working directory, and a start directory (the dirfd of an
// *at syscall, or the cwd). Errors follow Linux (path_resolution(7),
// open(2), rename(2), ...).
//
// Lock order: tree_mu_ > mounts_mu_ > Dentry::mu_ > inode locks.
#ifndef FS_VFS_VFS_H_
#define FS_VFS_VFS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "fs/vfs/file.h"
#include "fs/vfs/inode.h"
#include "fs/vfs/mount.h"

namespace sentry::vfs {

struct PathContext {
  Credentials creds;
  // The calling task, or null when the Sentry resolves for itself. Only
  // names whose meaning depends on the caller use it (/proc/self).
  Task* task = nullptr;
  VirtualDentry root;  // chroot directory
  VirtualDentry cwd;
  uint32_t umask = 022;
};

// Resolution flags.
inline constexpr uint32_t kFollow = 1u << 0;       // follow a symlink in the last component
inline constexpr uint32_t kMustBeDir = 1u << 1;    // last component must be a directory
inline constexpr uint32_t kNoSymlinks = 1u << 2;   // RESOLVE_NO_SYMLINKS
inline constexpr uint32_t kNoMagicLinks = 1u << 3; // RESOLVE_NO_MAGICLINKS
inline constexpr uint32_t kNoXdev = 1u << 4;       // RESOLVE_NO_XDEV
inline constexpr uint32_t kBeneath = 1u << 5;      // RESOLVE_BENEATH: never leave `start`
inline constexpr uint32_t kInRoot = 1u << 6;       // RESOLVE_IN_ROOT: `start` acts as the root
inline constexpr uint32_t kEmptyPathOk = 1u << 7;  // AT_EMPTY_PATH: "" means `start` itself

inline constexpr int kMaxSymlinks = 40;
inline constexpr size_t kNameMax = 255;
inline constexpr size_t kPathMax = 4096;

class VFS {
 public:
  VFS();
  // Breaks the parent <-> child reference cycles of the dentry trees.
  ~VFS();
  VFS(const VFS&) = delete;

  // --- mounts ---
  std::shared_ptr<Mount> NewMount(std::shared_ptr<Filesystem> fs, std::shared_ptr<Inode> root,
                                  uint32_t flags, std::string source);
  // Makes `m` the root of the mount tree.
  void SetRoot(std::shared_ptr<Mount> m);
  VirtualDentry Root();
  // Mounts `m` on the directory `at` (stacking on any mount already there).
  Errno Attach(std::shared_ptr<Mount> m, const VirtualDentry& at);
  // Mounts in tree order, for /proc/mounts and /proc/self/mountinfo.
  std::vector<std::shared_ptr<Mount>> Mounts();

  // Drops cached dentries nothing else uses (no open file, cwd, mount or
  // cached child refers to them), for memory pressure. Returns how many.
  size_t TrimDentryCache();

  // --- resolution ---
  ErrorOr<VirtualDentry> Resolve(const PathContext& ctx, const VirtualDentry& start,
                                 std::string_view path, uint32_t flags);

  // --- operations (path-based syscalls) ---
  // open/openat/openat2/creat. `resolve` holds kBeneath/kNoSymlinks/...
  ErrorOr<std::shared_ptr<FileDescription>> Open(const PathContext& ctx, const VirtualDentry& start,
                                                 std::string_view path, uint32_t flags,
                                                 uint32_t mode, uint32_t resolve = 0);
  // Opens an already-resolved object (magic links, execveat(AT_EMPTY_PATH)).
  ErrorOr<std::shared_ptr<FileDescription>> OpenAt(const PathContext& ctx, const VirtualDentry& vd,
                                                   uint32_t flags);
  // memfd_create: an O_TMPFILE file in `dir` whose unhashed dentry is
  // called `name`, which /proc/<pid>/fd shows as "/<name> (deleted)".
  ErrorOr<std::shared_ptr<FileDescription>> OpenNamedTmpfile(const PathContext& ctx,
                                                             const VirtualDentry& dir,
                                                             std::string_view name, uint32_t flags,
                                                             uint32_t mode);
  // mknod (mode has S_IFREG/S_IFCHR/S_IFBLK/S_IFIFO/S_IFSOCK; 0 means S_IFREG).
  Errno Mknod(const PathContext& ctx, const VirtualDentry& start, std::string_view path,
              uint32_t mode, uint64_t dev);
  Errno Mkdir(const PathContext& ctx, const VirtualDentry& start, std::string_view path,
              uint32_t mode);
  Errno Symlink(const PathContext& ctx, std::string_view target, const VirtualDentry& start,
                std::string_view path);
  // linkat; `follow` = AT_SYMLINK_FOLLOW, `empty_path` = AT_EMPTY_PATH.
  Errno Link(const PathContext& ctx, const VirtualDentry& old_start, std::string_view old_path,
             const VirtualDentry& new_start, std::string_view new_path, bool follow,
             bool empty_path);
  Errno Unlink(const PathContext& ctx, const VirtualDentry& start, std::string_view path);
  Errno Rmdir(const PathContext& ctx, const VirtualDentry& start, std::string_view path);
  // renameat2; flags: RENAME_NOREPLACE, RENAME_EXCHANGE (RENAME_WHITEOUT: EINVAL).
  Errno Rename(const PathContext& ctx, const VirtualDentry& old_start, std::string_view old_path,
               const VirtualDentry& new_start, std::string_view new_path, uint32_t flags);
  ErrorOr<std::string> ReadLink(const PathContext& ctx, const VirtualDentry& start,
                                std::string_view path, uint32_t flags);
  // access/faccessat2: `mode` is F_OK or R_OK|W_OK|X_OK; `use_effective`
  // for AT_EACCESS (else the real uid/gid are checked).
  Errno Access(const PathContext& ctx, const VirtualDentry& start, std::string_view path,
               int mode, uint32_t flags, bool use_effective);
  // chmod/chown/truncate/utimensat on a resolved object, with Linux's
  // permission rules (owner or CAP_FOWNER for mode and times, CAP_CHOWN,
  // write access for truncate and UTIME_NOW, suid/sgid clearing).
  // Times: tv_nsec == UTIME_NOW means "now" (the weaker permission rule
  // applies); callers leave UTIME_OMIT fields out of the mask.
  // `opened_for_write`: the change comes through a writable fd
  // (ftruncate), so truncation needs no write permission on the inode.
  Errno SetAttrs(const PathContext& ctx, const VirtualDentry& vd, const SetAttr& a,
                 bool opened_for_write = false);

  // Extended attributes of a resolved object with Linux's
  // xattr_permission(): trusted.* needs CAP_SYS_ADMIN (else EPERM to
  // change, ENODATA to read), user.* only exists on regular files and
  // directories (and a sticky directory's user.* only changes for its
  // owner), everything else needs read or write permission; changes need
  // a writable mount. ListXattr hides trusted.* from the unprivileged.
  ErrorOr<std::string> GetXattr(const PathContext& ctx, const VirtualDentry& vd,
                                std::string_view name);
  Errno SetXattr(const PathContext& ctx, const VirtualDentry& vd, std::string_view name,
                 std::string_view value, int flags);
  ErrorOr<std::vector<std::string>> ListXattr(const PathContext& ctx, const VirtualDentry& vd);
  Errno RemoveXattr(const PathContext& ctx, const VirtualDentry& vd, std::string_view name);

  // The path of `vd` as seen from `root`, for getcwd, /proc/<pid>/fd and
  // maps. Unlinked files get " (deleted)" appended. `reachable` is set to
  // false when vd is not under root (getcwd then fails with ENOENT... or
  // Linux prefixes "(unreachable)").
  std::string PathOf(const VirtualDentry& vd, const VirtualDentry& root, bool* reachable = nullptr);

  // Linux's generic_permission(): may `c` access an object with `a` for
  // MAY_* bits `may`?
  static Errno CheckPermission(const Credentials& c, const Attr& a, int may);

 private:
  // Implementation helpers live in the .cc files.
  friend class VfsInternal;
  // Opens `vd` after the checks passed (devices, FIFOs, O_TRUNC).
  ErrorOr<std::shared_ptr<FileDescription>> OpenChecked(const PathContext& ctx,
                                                        const VirtualDentry& vd, const Attr& a,
                                                        uint32_t flags, bool trunc);
  // open(O_TMPFILE): an unnamed file in the directory `path` names.
  ErrorOr<std::shared_ptr<FileDescription>> OpenTmpfile(const PathContext& ctx,
                                                        const VirtualDentry& start,
                                                        std::string_view path, uint32_t flags,
                                                        uint32_t mode, uint32_t rflags,
                                                        std::string_view dentry_name = "");
  absl::Mutex tree_mu_;
  absl::Mutex mounts_mu_;
  std::shared_ptr<Mount> root_ ABSL_GUARDED_BY(mounts_mu_);
  // (parent mount, mountpoint dentry) -> mounts stacked there, top last.
  absl::flat_hash_map<std::pair<Mount*, Dentry*>, std::vector<std::shared_ptr<Mount>>> mounted_
      ABSL_GUARDED_BY(mounts_mu_);
  std::vector<std::shared_ptr<Mount>> all_mounts_ ABSL_GUARDED_BY(mounts_mu_);
  uint64_t next_mount_id_ ABSL_GUARDED_BY(mounts_mu_) = 1;
};

}  // namespace sentry::vfs

#endif  // FS_VFS_VFS_H_
