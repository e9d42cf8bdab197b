// inotify(7) instances: a queue of events from the watches this instance
// put on inodes (fs/vfs/notify.h). Read returns whole struct
// inotify_event records; identical consecutive events are merged, and a
// full queue ends in one IN_Q_OVERFLOW.
//
// Lock order: InotifyFile::mu_ > InodeWatches::mu_ (adding and removing
// watches); events arrive without any inode lock held.
#ifndef FS_ANON_INOTIFY_H_
#define FS_ANON_INOTIFY_H_

#include <sys/inotify.h>

#include <deque>
#include <map>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "fs/anon/anon.h"
#include "sentry/base/waiter.h"

namespace sentry::vfs {

class InotifyWatch;

class InotifyFile : public AnonFile {
 public:
  ~InotifyFile() override;

  // inotify_add_watch on a resolved inode: the watch descriptor (the same
  // one again for an inode already watched). EEXIST for IN_MASK_CREATE on
  // a watched inode.
  ErrorOr<int> AddWatch(const std::shared_ptr<Inode>& inode, uint32_t mask);
  Errno RemoveWatch(int wd);

  SysRet Read(Task* t, IOSequence& dst) override;
  SysRet Ioctl(Task* t, uint32_t cmd, uint64_t arg) override;
  std::string AnonName() const override { return "anon_inode:inotify"; }
  uint32_t Readiness(uint32_t mask) override;
  void EventRegister(Waiter* w, uint32_t mask) override { wq_.Register(w, mask); }
  void EventUnregister(Waiter* w) override { wq_.Unregister(w); }

  // From the watches.
  void Queue(int wd, uint32_t mask, uint32_t cookie, std::string_view name);
  void WatchGone(int wd);

 private:
  struct Event {
    int wd;
    uint32_t mask, cookie;
    std::string name;
    size_t size() const;  // as read() returns it
  };
  void QueueLocked(Event e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::deque<Event> events_ ABSL_GUARDED_BY(mu_);
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<int, std::shared_ptr<InotifyWatch>> watches_ ABSL_GUARDED_BY(mu_);
  int next_wd_ ABSL_GUARDED_BY(mu_) = 1;
  WaitQueue wq_;
};

// inotify_init1: `flags` holds O_NONBLOCK.
std::shared_ptr<InotifyFile> NewInotify(uint32_t flags);

}  // namespace sentry::vfs

#endif  // FS_ANON_INOTIFY_H_
