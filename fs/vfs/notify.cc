#include "fs/vfs/notify.h"

#include <sys/stat.h>

#include <algorithm>
#include <string>

#include "fs/vfs/inode.h"
#include "fs/vfs/mount.h"

namespace sentry::vfs {
namespace {

std::atomic<int64_t> g_total_watches{0};

// Events a directory's watch also gets for its entries (fsnotify_parent).
constexpr uint32_t kChildEvents =
    IN_ACCESS | IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE | IN_OPEN;

}  // namespace

bool AnyWatches() { return g_total_watches.load(std::memory_order_acquire) != 0; }

void InodeWatches::Add(const std::shared_ptr<Watch>& w) {
  absl::MutexLock l(&mu_);
  watches_.push_back(w);
  count_.fetch_add(1, std::memory_order_release);
  g_total_watches.fetch_add(1, std::memory_order_release);
}

void InodeWatches::Remove(const Watch* w) {
  absl::MutexLock l(&mu_);
  auto it = std::find_if(watches_.begin(), watches_.end(),
                         [w](const std::shared_ptr<Watch>& x) { return x.get() == w; });
  if (it == watches_.end()) return;
  watches_.erase(it);
  count_.fetch_sub(1, std::memory_order_release);
  g_total_watches.fetch_sub(1, std::memory_order_release);
}

void InodeWatches::Notify(uint32_t mask, uint32_t cookie, std::string_view name) {
  if (empty()) return;
  std::vector<std::shared_ptr<Watch>> ws;
  {
    absl::MutexLock l(&mu_);
    ws = watches_;
  }
  for (const auto& w : ws) w->Event(mask, cookie, name);
}

void InodeWatches::RemoveAll() {
  if (empty()) return;
  std::vector<std::shared_ptr<Watch>> ws;
  {
    absl::MutexLock l(&mu_);
    ws.swap(watches_);
    count_.store(0, std::memory_order_release);
    g_total_watches.fetch_sub(static_cast<int64_t>(ws.size()), std::memory_order_release);
  }
  for (const auto& w : ws) w->Gone();
}

void NotifyDentry(Dentry& d, uint32_t mask, bool isdir) {
  if (!AnyWatches()) return;
  uint32_t m = mask | (isdir ? IN_ISDIR : 0);
  if (d.inode()) d.inode()->watches().Notify(m, 0, "");
  if (!(mask & kChildEvents)) return;
  auto [parent, name] = d.ParentAndName();
  if (parent && parent->inode()) parent->inode()->watches().Notify(m & (kChildEvents | IN_ISDIR), 0, name);
}

void NotifyChild(Dentry& dir, std::string_view name, uint32_t mask, uint32_t cookie) {
  if (!AnyWatches() || !dir.inode()) return;
  dir.inode()->watches().Notify(mask, cookie, name);
}

void NotifyInode(Inode& in, uint32_t mask) {
  if (!AnyWatches()) return;
  in.watches().Notify(mask, 0, "");
}

void NotifyUnlinked(Inode& in) {
  if (!AnyWatches() || in.watches().empty()) return;
  auto a = in.GetAttr();
  bool dir = a.ok() && S_ISDIR(a->mode);
  // A directory is gone once removed; a file once its last link is.
  if (a.ok() && !dir && a->nlink > 0) {
    in.watches().Notify(IN_ATTRIB, 0, "");
    return;
  }
  if (!dir) in.watches().Notify(IN_ATTRIB, 0, "");
  in.watches().Notify(IN_DELETE_SELF, 0, "");
  in.watches().RemoveAll();
}

uint32_t NextCookie() {
  static std::atomic<uint32_t> next{1};
  return next.fetch_add(1);
}

}  // namespace sentry::vfs
