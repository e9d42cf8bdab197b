// Filesystem and Inode: what a file system implements.
//
// An Inode is one file system object (file, directory, symlink, device,
// fifo, socket). The VFS keeps names, parents and mounts in its own dentry
// tree (dentry.h) and calls Inode methods for everything the object itself
// knows. Directory methods take a child *name*; the VFS has already
// checked permissions, mount flags and name validity ("." / ".." / empty /
// too long / contains '/') before calling, and updates its dentry cache
// after a successful call.
//
// Errors are Linux's: a method a file system does not support returns what
// Linux returns for that file type (ENOTDIR, EPERM, EINVAL, ...).
//
// Thread safety: methods may be called concurrently from many tasks; each
// implementation documents its own locks.
#ifndef FS_VFS_INODE_H_
#define FS_VFS_INODE_H_

#include <sys/statfs.h>

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fs/vfs/notify.h"
#include "fs/vfs/types.h"
#include "sentry/base/error.h"

namespace sentry {
class Mappable;
}

namespace sentry::vfs {

class FileDescription;
class Inode;
struct PathContext;
struct VirtualDentry;

class Filesystem {
 public:
  Filesystem();
  virtual ~Filesystem() = default;
  virtual std::string_view Name() const = 0;  // "tmpfs", "overlay", "9p", "proc", ...
  // st_dev of every inode in this file system: a fresh anonymous device
  // number (0:N) unless the implementation overrides it.
  virtual uint64_t dev() const { return dev_; }
  virtual Errno StatFS(struct statfs* out);
  // Extra text for /proc/mounts options (after rw/ro).
  virtual std::string MountOptions() const { return ""; }
  // Whether the VFS may cache lookups (positive and negative). False for
  // file systems whose names change behind the VFS's back (/proc).
  virtual bool CacheDentries() const { return true; }

 private:
  uint64_t dev_;
};

// Flags passed to Inode::Open: the open(2) flags after the VFS resolved the
// path (O_CREAT/O_EXCL/O_NOFOLLOW are already handled) and checked access.
struct OpenOptions {
  uint32_t flags = 0;
};

class Inode : public std::enable_shared_from_this<Inode> {
 public:
  explicit Inode(Filesystem* fs) : fs_(fs) {}
  virtual ~Inode() = default;
  Filesystem* fs() const { return fs_; }
  // inotify watches on this inode (fs/vfs/notify.h).
  InodeWatches& watches() { return watches_; }

  // --- attributes ---
  virtual ErrorOr<Attr> GetAttr() = 0;
  // Applies `a` (permission checks already done by the VFS). kSize on a
  // directory is EISDIR, on a non-regular file EINVAL.
  virtual Errno SetAttrs(const SetAttr& a) { return EPERM; }

  // --- directories (defaults: ENOTDIR) ---
  // Returns the child, or ENOENT.
  virtual ErrorOr<std::shared_ptr<Inode>> Lookup(std::string_view name) { return Err(ENOTDIR); }
  // Creates a regular file, directory, symlink or node (mode has S_IFMT);
  // EEXIST if the name exists. uid/gid are the new owner (fsuid/fsgid, or
  // the directory's gid when it is set-group-ID).
  virtual ErrorOr<std::shared_ptr<Inode>> CreateChild(std::string_view name, uint32_t mode,
                                                      uint64_t rdev, uint32_t uid, uint32_t gid) {
    return Err(ENOTDIR);
  }
  virtual ErrorOr<std::shared_ptr<Inode>> CreateSymlink(std::string_view name,
                                                        std::string_view target, uint32_t uid,
                                                        uint32_t gid) {
    return Err(ENOTDIR);
  }
  // O_TMPFILE: a regular file with no name (nlink 0) on this directory's
  // file system. EOPNOTSUPP where the file system has no such files.
  virtual ErrorOr<std::shared_ptr<Inode>> CreateTmpfile(uint32_t mode, uint32_t uid,
                                                        uint32_t gid) {
    return Err(EOPNOTSUPP);
  }
  // Adds a hard link `name` to `target` (same file system, not a directory).
  // A target with no links left is ENOENT unless it is linkable().
  virtual Errno Link(std::string_view name, const std::shared_ptr<Inode>& target) { return ENOTDIR; }
  // Removes a non-directory child (EISDIR for a directory).
  virtual Errno Unlink(std::string_view name) { return ENOTDIR; }
  // Removes an empty directory child (ENOTEMPTY, ENOTDIR).
  virtual Errno Rmdir(std::string_view name) { return ENOTDIR; }
  // Moves child `old_name` to `new_dir`/`new_name` (same file system).
  // `flags` are renameat2's RENAME_NOREPLACE / RENAME_EXCHANGE; the VFS
  // checked the directory/non-directory rules, so the implementation
  // replaces an existing target (empty directory or non-directory)
  // atomically.
  virtual Errno Rename(std::string_view old_name, Inode* new_dir, std::string_view new_name,
                       uint32_t flags) {
    return ENOTDIR;
  }
  // All entries except "." and "..", in a stable order.
  virtual ErrorOr<std::vector<DirEntry>> ReadDir() { return Err(ENOTDIR); }

  // --- symlinks ---
  virtual ErrorOr<std::string> ReadLink() { return Err(EINVAL); }
  // The link text as the caller in `ctx` sees it; the VFS always calls
  // this one. Only links whose text depends on who reads them override it
  // (/proc/self names the caller's process; /proc/<pid>/fd/N shows paths
  // relative to the caller's root).
  virtual ErrorOr<std::string> ReadLinkFor(const PathContext& ctx) { return ReadLink(); }
  // Magic links (/proc/self/fd/N, /proc/self/exe) resolve to an object, not
  // a path; the VFS asks this first when following a symlink. The default
  // says "not magic".
  virtual bool IsMagicLink() const { return false; }
  // For magic links: the object linked to.
  virtual ErrorOr<VirtualDentry> MagicLinkTarget();
  // The same for the caller in `ctx`, which the VFS always calls: /proc
  // refuses to lead one user into another's files (ptrace_may_access).
  virtual ErrorOr<VirtualDentry> MagicLinkTargetFor(const PathContext& ctx);

  // --- open ---
  // Returns a new FileDescription for this inode; the VFS then calls
  // FileDescription::Init with the path and flags. Directories have a
  // default implementation (DirectoryFD over ReadDir).
  virtual ErrorOr<std::shared_ptr<FileDescription>> Open(const OpenOptions& opts);
  // True for inodes that stand for an already-open file rather than a
  // node of a file system: what /proc/<pid>/fd/N of a pipe or a host file
  // leads to. VFS::Open then calls Open() whatever the file type, instead
  // of the device and FIFO registries, so the pipe itself is reopened.
  virtual bool OpensAsProxy() const { return false; }

  // Linux's I_LINKABLE: an O_TMPFILE file opened without O_EXCL may get a
  // name with linkat() although its link count is 0. Set by the VFS when
  // it creates one, cleared once the file is linked in.
  bool linkable() const { return linkable_.load(std::memory_order_acquire); }
  void set_linkable(bool v) { linkable_.store(v, std::memory_order_release); }

  // --- extended attributes (default: ENOTSUP / ENODATA) ---
  virtual ErrorOr<std::string> GetXattr(std::string_view name) { return Err(ENOTSUP); }
  virtual Errno SetXattr(std::string_view name, std::string_view value, int flags) { return ENOTSUP; }
  virtual ErrorOr<std::vector<std::string>> ListXattr() { return std::vector<std::string>{}; }
  virtual Errno RemoveXattr(std::string_view name) { return ENOTSUP; }

  // Open descriptors that may write the file (Linux's i_writecount):
  // exec refuses such a file with ETXTBSY. FileDescription keeps it.
  void AddWriter() { writers_.fetch_add(1, std::memory_order_relaxed); }
  void RemoveWriter() { writers_.fetch_sub(1, std::memory_order_relaxed); }
  bool HasWriters() const { return writers_.load(std::memory_order_relaxed) > 0; }

 private:
  Filesystem* fs_;
  InodeWatches watches_;
  std::atomic<bool> linkable_{false};
  std::atomic<int> writers_{0};
};

// A fresh inode number for file systems that make up their own.
uint64_t NextInodeNumber();

}  // namespace sentry::vfs

#endif  // FS_VFS_INODE_H_
