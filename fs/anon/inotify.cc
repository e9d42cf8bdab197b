#include "fs/anon/inotify.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>

#include <cstring>

#include "sentry/kernel/task.h"

namespace sentry::vfs {

namespace {
// fs.inotify.max_queued_events.
constexpr size_t kMaxQueuedEvents = 16384;
}  // namespace

// One watch: an inode, the events wanted, and the instance to tell.
class InotifyWatch : public Watch {
 public:
  InotifyWatch(std::weak_ptr<InotifyFile> owner, int wd, std::shared_ptr<Inode> inode,
               uint32_t mask)
      : owner_(std::move(owner)), wd_(wd), inode_(std::move(inode)), mask_(mask) {}

  void Event(uint32_t mask, uint32_t cookie, std::string_view name) override {
    uint32_t want = mask_.load();
    uint32_t hit = mask & want & IN_ALL_EVENTS;
    if (hit == 0) return;
    auto owner = owner_.lock();
    if (!owner) return;
    owner->Queue(wd_, hit | (mask & IN_ISDIR), cookie, name);
    // IN_ONESHOT: the first event ends the watch.
    if (want & IN_ONESHOT) {
      inode_->watches().Remove(this);
      owner->WatchGone(wd_);
    }
  }
  void Gone() override {
    if (auto owner = owner_.lock()) owner->WatchGone(wd_);
  }

  int wd() const { return wd_; }
  Inode* inode() const { return inode_.get(); }
  uint32_t mask() const { return mask_.load(); }
  void set_mask(uint32_t m) { mask_ = m; }

 private:
  const std::weak_ptr<InotifyFile> owner_;
  const int wd_;
  // Watched inodes stay in memory, as Linux pins them.
  const std::shared_ptr<Inode> inode_;
  std::atomic<uint32_t> mask_;
};

size_t InotifyFile::Event::size() const {
  // The name is NUL-terminated and padded to a multiple of the header.
  size_t len = name.empty() ? 0 : (name.size() + 1 + 15) / 16 * 16;
  return sizeof(struct inotify_event) + len;
}

InotifyFile::~InotifyFile() {
  std::map<int, std::shared_ptr<InotifyWatch>> ws;
  {
    absl::MutexLock l(&mu_);
    ws.swap(watches_);
  }
  for (auto& [wd, w] : ws) w->inode()->watches().Remove(w.get());
}

ErrorOr<int> InotifyFile::AddWatch(const std::shared_ptr<Inode>& inode, uint32_t mask) {
  std::shared_ptr<InotifyWatch> w;
  {
    absl::MutexLock l(&mu_);
    for (auto& [wd, x] : watches_) {
      if (x->inode() != inode.get()) continue;
      if (mask & IN_MASK_CREATE) return Err(EEXIST);
      x->set_mask((mask & IN_MASK_ADD) ? (x->mask() | mask) : mask);
      return wd;
    }
    int wd = next_wd_++;
    w = std::make_shared<InotifyWatch>(std::static_pointer_cast<InotifyFile>(shared_from_this()),
                                       wd, inode, mask);
    watches_[wd] = w;
  }
  inode->watches().Add(w);
  return w->wd();
}

Errno InotifyFile::RemoveWatch(int wd) {
  std::shared_ptr<InotifyWatch> w;
  {
    absl::MutexLock l(&mu_);
    auto it = watches_.find(wd);
    if (it == watches_.end()) return EINVAL;
    w = it->second;
  }
  w->inode()->watches().Remove(w.get());
  WatchGone(wd);
  return 0;
}

void InotifyFile::WatchGone(int wd) {
  {
    absl::MutexLock l(&mu_);
    if (watches_.erase(wd) == 0) return;
    QueueLocked(Event{wd, IN_IGNORED, 0, ""});
  }
  wq_.Notify(POLLIN | POLLRDNORM);
}

void InotifyFile::Queue(int wd, uint32_t mask, uint32_t cookie, std::string_view name) {
  {
    absl::MutexLock l(&mu_);
    QueueLocked(Event{wd, mask, cookie, std::string(name)});
  }
  wq_.Notify(POLLIN | POLLRDNORM);
}

void InotifyFile::QueueLocked(Event e) {
  // inotify_merge: the same event twice in a row is reported once.
  if (!events_.empty()) {
    const Event& last = events_.back();
    if (last.wd == e.wd && last.mask == e.mask && last.cookie == e.cookie && last.name == e.name) {
      return;
    }
  }
  if (events_.size() >= kMaxQueuedEvents) {
    if (events_.back().mask != IN_Q_OVERFLOW) {
      Event o{-1, IN_Q_OVERFLOW, 0, ""};
      bytes_ += o.size();
      events_.push_back(std::move(o));
    }
    return;
  }
  bytes_ += e.size();
  events_.push_back(std::move(e));
}

SysRet InotifyFile::Read(Task*, IOSequence& dst) {
  absl::MutexLock l(&mu_);
  if (events_.empty()) return SysRet::Err(EAGAIN);
  // A buffer too small for the next event is EINVAL.
  if (dst.remaining() < events_.front().size()) return SysRet::Err(EINVAL);
  int64_t total = 0;
  while (!events_.empty() && dst.remaining() >= events_.front().size()) {
    const Event& e = events_.front();
    std::vector<uint8_t> rec(e.size(), 0);
    struct inotify_event h = {};
    h.wd = e.wd;
    h.mask = e.mask;
    h.cookie = e.cookie;
    h.len = static_cast<uint32_t>(e.size() - sizeof(h));
    std::memcpy(rec.data(), &h, sizeof(h));
    std::memcpy(rec.data() + sizeof(h), e.name.data(), e.name.size());
    auto n = dst.CopyOut(rec.data(), rec.size());
    if (!n.ok() || *n != rec.size()) {
      if (total == 0) return SysRet::Err(EFAULT);
      break;
    }
    total += static_cast<int64_t>(rec.size());
    bytes_ -= rec.size();
    events_.pop_front();
  }
  return total;
}

SysRet InotifyFile::Ioctl(Task* t, uint32_t cmd, uint64_t arg) {
  if (cmd != FIONREAD || t == nullptr) return SysRet::Err(ENOTTY);
  int n;
  {
    absl::MutexLock l(&mu_);
    n = static_cast<int>(bytes_);
  }
  TRY(t->CopyOut(UserPtr<int>(arg), n));
  return 0;
}

uint32_t InotifyFile::Readiness(uint32_t mask) {
  absl::MutexLock l(&mu_);
  return events_.empty() ? 0 : (POLLIN | POLLRDNORM) & mask;
}

std::shared_ptr<InotifyFile> NewInotify(uint32_t flags) {
  auto f = std::make_shared<InotifyFile>();
  f->Init(VirtualDentry(), O_RDONLY | (flags & O_NONBLOCK));
  return f;
}

}  // namespace sentry::vfs
