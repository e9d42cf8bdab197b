// File system events for inotify (fs/anon/inotify.cc): watches hang off
// inodes, and the VFS and the I/O syscalls report what happens to them.
// An event on an object also reaches its parent directory's watches, with
// the object's name, for the events inotify(7) reports on a directory's
// entries (access, modify, attrib, open, close).
//
// Reporting costs one atomic load while nothing anywhere is watched.
//
// Lock order: callers may hold VFS locks (tree_mu_, dentry locks);
// InodeWatches::mu_ is taken after them and released before any Watch is
// called, so a watch may take its own instance's lock (which is never
// held while calling into the VFS).
#ifndef FS_VFS_NOTIFY_H_
#define FS_VFS_NOTIFY_H_

#include <sys/inotify.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace sentry::vfs {

class Dentry;
class Inode;

// What inotify registers on an inode.
class Watch {
 public:
  virtual ~Watch() = default;
  // `mask`: IN_* bits (with IN_ISDIR when the subject is a directory);
  // `name`: the entry's name for events about a directory's entries.
  virtual void Event(uint32_t mask, uint32_t cookie, std::string_view name) = 0;
  // The inode is gone (deleted): the watch ends with IN_IGNORED.
  virtual void Gone() = 0;
};

class InodeWatches {
 public:
  void Add(const std::shared_ptr<Watch>& w);
  void Remove(const Watch* w);
  void Notify(uint32_t mask, uint32_t cookie, std::string_view name);
  // After IN_DELETE_SELF: every watch ends.
  void RemoveAll();
  bool empty() const { return count_.load(std::memory_order_acquire) == 0; }

 private:
  absl::Mutex mu_;
  std::vector<std::shared_ptr<Watch>> watches_ ABSL_GUARDED_BY(mu_);
  std::atomic<int> count_{0};
};

// Whether any watch exists in the sandbox (the fast path of every hook).
bool AnyWatches();

// An event on the object `d` names: its own watches, and its parent's
// (with its name) for the events reported on directory entries. `isdir`
// adds IN_ISDIR.
void NotifyDentry(Dentry& d, uint32_t mask, bool isdir);
// An event about entry `name` of directory `dir` (IN_CREATE, IN_DELETE,
// IN_MOVED_FROM/TO): the directory's watches only.
void NotifyChild(Dentry& dir, std::string_view name, uint32_t mask, uint32_t cookie = 0);
// An event on the inode alone (IN_ATTRIB for a link count, IN_MOVE_SELF).
void NotifyInode(Inode& in, uint32_t mask);
// The inode lost its last name: IN_ATTRIB if it still has links, else
// IN_DELETE_SELF and the end of its watches.
void NotifyUnlinked(Inode& in);
// A rename's cookie tying IN_MOVED_FROM to IN_MOVED_TO.
uint32_t NextCookie();

}  // namespace sentry::vfs

#endif  // FS_VFS_NOTIFY_H_
