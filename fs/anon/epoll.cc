#include "fs/anon/epoll.h"

#include <fcntl.h>
#include <poll.h>

#include "fs/anon/anon.h"

namespace sentry::vfs {
namespace {

// Linux's EP_MAX_NESTS: deeper chains of epolls in epolls get ELOOP.
constexpr int kMaxNests = 4;

// Serializes adding an epoll to an epoll, so two such additions cannot
// build a loop between them (Linux's epnested_mutex).
absl::Mutex g_nesting_mu(absl::kConstInit);

// EPOLLERR and EPOLLHUP are always reported, asked for or not.
constexpr uint32_t kAlways = EPOLLERR | EPOLLHUP;

// The readiness bits an entry's `events` asks for (its behaviour flags
// removed, EPOLLERR/EPOLLHUP added).
uint32_t Wanted(uint32_t events) {
  return (events & ~uint32_t{EPOLLET | EPOLLONESHOT | EPOLLEXCLUSIVE | EPOLLWAKEUP}) | kAlways;
}

}  // namespace

void Epoll::Entry::Notify(uint32_t) {
  edge.store(true, std::memory_order_release);
  ep->queue_.Notify(POLLIN);
}

Epoll::~Epoll() {
  absl::MutexLock l(&mu_);
  for (auto& [key, e] : entries_) e->file->EventUnregister(e.get());
}

std::vector<std::shared_ptr<FileDescription>> Epoll::ReapClosedLocked() {
  std::vector<std::shared_ptr<FileDescription>> closed;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second->file.use_count() == 1) {
      it->second->file->EventUnregister(it->second.get());
      closed.push_back(std::move(it->second->file));
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  return closed;
}

bool Epoll::ReachesLocked(Epoll* target, int depth, bool* too_deep) {
  if (target == this) return true;
  if (depth > kMaxNests) {
    *too_deep = true;
    return true;
  }
  // Everything `target` watches, recursively.
  std::vector<std::shared_ptr<FileDescription>> inner;
  {
    absl::MutexLock l(&target->mu_);
    for (auto& [key, e] : target->entries_) {
      if (dynamic_cast<Epoll*>(e->file.get()) != nullptr) inner.push_back(e->file);
    }
  }
  for (auto& f : inner) {
    if (ReachesLocked(static_cast<Epoll*>(f.get()), depth + 1, too_deep)) return true;
  }
  return false;
}

Errno Epoll::Ctl(int op, int fd, const std::shared_ptr<FileDescription>& f, uint32_t events,
                 uint64_t data) {
  const Key key{fd, f.get()};
  std::unique_ptr<absl::MutexLock> nesting;
  if (op == EPOLL_CTL_ADD) {
    if (auto* inner = dynamic_cast<Epoll*>(f.get())) {
      if (events & EPOLLEXCLUSIVE) return EINVAL;
      nesting = std::make_unique<absl::MutexLock>(&g_nesting_mu);
      bool too_deep = false;
      if (ReachesLocked(inner, 1, &too_deep)) return ELOOP;
    }
  }
  std::vector<std::shared_ptr<FileDescription>> closed;
  absl::ReleasableMutexLock l(&mu_);
  closed = ReapClosedLocked();
  auto it = entries_.find(key);
  switch (op) {
    case EPOLL_CTL_ADD: {
      if (it != entries_.end()) return EEXIST;
      auto e = std::make_unique<Entry>();
      e->ep = this;
      e->file = f;
      e->events = events;
      e->data = data;
      Entry* raw = e.get();
      entries_.emplace(key, std::move(e));
      f->EventRegister(raw, Wanted(events));
      break;
    }
    case EPOLL_CTL_MOD: {
      if (it == entries_.end()) return ENOENT;
      Entry& e = *it->second;
      // EPOLLEXCLUSIVE can be set only when adding.
      if ((events & EPOLLEXCLUSIVE) || (e.events & EPOLLEXCLUSIVE)) return EINVAL;
      f->EventUnregister(&e);
      e.events = events;
      e.data = data;
      e.disabled = false;
      e.edge.store(true);  // re-evaluated now, as ep_modify does
      f->EventRegister(&e, Wanted(events));
      break;
    }
    case EPOLL_CTL_DEL: {
      if (it == entries_.end()) return ENOENT;
      it->second->file->EventUnregister(it->second.get());
      closed.push_back(std::move(it->second->file));
      entries_.erase(it);
      break;
    }
    default:
      return EINVAL;
  }
  l.Release();
  closed.clear();
  // A new or changed entry may be ready already: let waiters look.
  queue_.Notify(POLLIN);
  return 0;
}

std::vector<struct epoll_event> Epoll::Collect(int max) {
  std::vector<struct epoll_event> out;
  std::vector<std::shared_ptr<FileDescription>> closed;
  absl::MutexLock l(&mu_);
  closed = ReapClosedLocked();
  for (auto it = entries_.begin(); it != entries_.end() && static_cast<int>(out.size()) < max;) {
    Entry& e = *it->second;
    FileDescription* f = e.file.get();
    ++it;
    if (e.disabled) continue;
    const bool et = e.events & EPOLLET;
    if (et && !e.edge.exchange(false, std::memory_order_acq_rel)) continue;
    uint32_t want = Wanted(e.events);
    uint32_t ready = f->Readiness(want) & want;
    if (ready == 0) continue;
    struct epoll_event ev;
    ev.events = ready;
    ev.data.u64 = e.data;
    out.push_back(ev);
    if (e.events & EPOLLONESHOT) e.disabled = true;
  }
  return out;
}

uint32_t Epoll::Readiness(uint32_t mask) {
  absl::MutexLock l(&mu_);
  for (auto& [key, e] : entries_) {
    if (e->disabled || e->file.use_count() == 1) continue;
    FileDescription* f = e->file.get();
    if (e->events & EPOLLET && !e->edge.load(std::memory_order_acquire)) continue;
    uint32_t want = Wanted(e->events);
    if (f->Readiness(want) & want) return (POLLIN | POLLRDNORM) & mask;
  }
  return 0;
}

std::shared_ptr<FileDescription> NewEpoll(uint32_t flags) {
  auto ep = std::make_shared<Epoll>();
  ep->Init(VirtualDentry(), O_RDWR);
  return ep;
}

}  // namespace sentry::vfs
