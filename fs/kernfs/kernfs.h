// kernfs: building blocks for file systems whose contents the Sentry makes
// up rather than stores: /proc, /sys and /dev.
//
// - KernFs: the Filesystem, with its statfs magic and root inode.
// - KernInode: fixed type, mode and owner; timestamps are the mount time.
//   Subclasses adjust attributes (a /proc/<pid> file is owned by the
//   process's euid) in FillAttr.
// - StaticDir: a directory whose children are fixed when the tree is built.
//   Dynamic directories (/proc itself, /proc/<pid>/fd) derive from DirBase
//   and implement Lookup and ReadDir.
// - DataFile: a regular file whose bytes a Generator produces when it is
//   read; the open file keeps that snapshot so read/pread/lseek see one
//   consistent text, and a read at offset 0 after earlier reads takes a
//   fresh one (how Linux's seq_file behaves for programs that rewind
//   /proc/loadavg and read it again). Writes go to an optional Writer.
// - Symlink: a link with fixed text.
//
// Generators and Writers run without any VFS or file lock held, so they may
// take kernel locks (Kernel::tasks_mu_ and below).
//
// Thread safety: StaticDir is immutable once built; SnapshotFD guards its
// snapshot with its own mutex (a leaf).
#ifndef FS_KERNFS_KERNFS_H_
#define FS_KERNFS_KERNFS_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fs/vfs/file.h"
#include "fs/vfs/inode.h"

namespace sentry::kernfs {

// Produces a file's content for `reader` (null when the Sentry reads).
// Errors surface from read(2) (ESRCH once a process is gone).
using Generator = std::function<ErrorOr<std::string>(Task* reader)>;
// Handles one write(2) of `data` at file offset `off`; returns the bytes
// consumed or an errno.
using Writer = std::function<SysRet(Task* writer, std::string_view data, int64_t off)>;

class KernFs : public vfs::Filesystem {
 public:
  // `magic` is statfs's f_type; `create_errno` is what creating or removing
  // names in its directories fails with (ENOENT for /proc, EPERM for /sys).
  KernFs(std::string name, uint64_t magic, bool cache_dentries, int create_errno);
  std::string_view Name() const override { return name_; }
  bool CacheDentries() const override { return cache_; }
  Errno StatFS(struct statfs* out) override;
  std::string MountOptions() const override { return mount_options_; }
  void set_mount_options(std::string o) { mount_options_ = std::move(o); }

  // Set once while the tree is built, before the file system is mounted.
  const std::shared_ptr<vfs::Inode>& root() const { return root_; }
  void set_root(std::shared_ptr<vfs::Inode> r) { root_ = std::move(r); }
  const struct timespec& created() const { return created_; }
  int create_errno() const { return create_errno_; }

 private:
  const std::string name_;
  const uint64_t magic_;
  const bool cache_;
  const int create_errno_;
  const struct timespec created_;
  std::string mount_options_;
  std::shared_ptr<vfs::Inode> root_;
};

// The root inode of a file system made by NewProcfs, NewSysfs or NewDevfs
// (for VFS::NewMount). Null for other file systems.
std::shared_ptr<vfs::Inode> RootInode(const std::shared_ptr<vfs::Filesystem>& fs);

class KernInode : public vfs::Inode {
 public:
  // `mode` holds S_IFMT and the permission bits; `ino` 0 takes a fresh
  // inode number (dynamic inodes pass a stable one so stat agrees across
  // lookups, which find(1) checks).
  KernInode(KernFs* fs, uint32_t mode, uint64_t ino = 0);
  KernFs* kfs() const { return static_cast<KernFs*>(fs()); }
  uint64_t ino() const { return ino_; }
  uint32_t mode() const { return mode_; }

  ErrorOr<vfs::Attr> GetAttr() override;
  // Like Linux's proc_setattr: mode and owner changes are refused, while
  // size and times are accepted and forgotten (so O_TRUNC on a writable
  // /proc file works, as `echo 1 > /proc/self/oom_score_adj` needs).
  Errno SetAttrs(const vfs::SetAttr& a) override;

 protected:
  // Adjusts what GetAttr reports (owner, link count, size).
  virtual Errno FillAttr(vfs::Attr& a) { return 0; }

 private:
  const uint64_t ino_;
  const uint32_t mode_;
};

// What every made-up directory shares: names cannot be created, linked,
// renamed or removed by the application.
class DirBase : public KernInode {
 public:
  DirBase(KernFs* fs, uint32_t perm, uint64_t ino = 0) : KernInode(fs, S_IFDIR | perm, ino) {}
  ErrorOr<std::shared_ptr<vfs::Inode>> CreateChild(std::string_view, uint32_t, uint64_t, uint32_t,
                                                   uint32_t) override;
  ErrorOr<std::shared_ptr<vfs::Inode>> CreateSymlink(std::string_view, std::string_view, uint32_t,
                                                     uint32_t) override;
  Errno Link(std::string_view, const std::shared_ptr<vfs::Inode>&) override;
  Errno Unlink(std::string_view) override;
  Errno Rmdir(std::string_view) override;
  Errno Rename(std::string_view, vfs::Inode*, std::string_view, uint32_t) override;
};

class StaticDir : public DirBase {
 public:
  explicit StaticDir(KernFs* fs, uint32_t perm = 0555, uint64_t ino = 0) : DirBase(fs, perm, ino) {}

  // Building the tree (not thread-safe: only before the file system is
  // visible). Returns the child for chaining.
  std::shared_ptr<vfs::Inode> Add(std::string name, std::shared_ptr<vfs::Inode> child);
  std::shared_ptr<StaticDir> AddDir(std::string name, uint32_t perm = 0555);
  // Without a Writer the file refuses to be opened for writing (EACCES).
  void AddFile(std::string name, uint32_t perm, Generator gen, Writer w = nullptr);
  // A file whose content never changes.
  void AddText(std::string name, std::string text, uint32_t perm = 0444);
  void AddSymlink(std::string name, std::string target);

  ErrorOr<std::shared_ptr<vfs::Inode>> Lookup(std::string_view name) override;
  ErrorOr<std::vector<vfs::DirEntry>> ReadDir() override;
  // Names in the order they were added.
  const std::vector<std::pair<std::string, std::shared_ptr<vfs::Inode>>>& children() const {
    return children_;
  }

 protected:
  Errno FillAttr(vfs::Attr& a) override;

 private:
  std::vector<std::pair<std::string, std::shared_ptr<vfs::Inode>>> children_;
};

// How a DataFile treats opens for writing when it has no Writer.
enum class ReadOnlyPolicy {
  kFailWrite,  // open succeeds (root may), write(2) fails with EINVAL: /proc/<pid>
  kFailOpen,   // open fails with EACCES even for root: /proc/sys, like
               // proc_sys_permission, which ignores CAP_DAC_OVERRIDE
};

class DataFile : public KernInode {
 public:
  DataFile(KernFs* fs, uint32_t perm, Generator gen, Writer w = nullptr,
           ReadOnlyPolicy ro = ReadOnlyPolicy::kFailWrite, uint64_t ino = 0);
  ErrorOr<std::shared_ptr<vfs::FileDescription>> Open(const vfs::OpenOptions& opts) override;

 private:
  Generator gen_;
  Writer writer_;
  const ReadOnlyPolicy ro_;
};

class Symlink : public KernInode {
 public:
  Symlink(KernFs* fs, std::string target, uint64_t ino = 0)
      : KernInode(fs, S_IFLNK | 0777, ino), target_(std::move(target)) {}
  ErrorOr<std::string> ReadLink() override { return target_; }

 private:
  const std::string target_;
};

// The open file of a DataFile: a snapshot of the generated text.
std::shared_ptr<vfs::FileDescription> NewSnapshotFD(Generator gen, Writer w);

// A Generator that always returns `text` (most /proc/sys files).
Generator Constant(std::string text);

}  // namespace sentry::kernfs

#endif  // FS_KERNFS_KERNFS_H_
