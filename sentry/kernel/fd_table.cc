#include "sentry/kernel/fd_table.h"

namespace sentry {

ErrorOr<int> FDTable::Add(FilePtr f, bool cloexec, int min_fd, uint64_t limit) {
  absl::MutexLock l(&mu_);
  size_t fd = static_cast<size_t>(min_fd < 0 ? 0 : min_fd);
  while (fd < fds_.size() && fds_[fd].file) fd++;
  if (fd >= limit) return Err(min_fd >= 0 && static_cast<uint64_t>(min_fd) >= limit ? EINVAL : EMFILE);
  if (fd >= fds_.size()) fds_.resize(fd + 1);
  fds_[fd] = Entry{std::move(f), cloexec};
  return static_cast<int>(fd);
}

ErrorOr<FDTable::FilePtr> FDTable::Set(int fd, FilePtr f, bool cloexec, uint64_t limit) {
  if (fd < 0 || static_cast<uint64_t>(fd) >= limit) return Err(EBADF);
  absl::MutexLock l(&mu_);
  if (static_cast<size_t>(fd) >= fds_.size()) fds_.resize(static_cast<size_t>(fd) + 1);
  FilePtr old = std::move(fds_[static_cast<size_t>(fd)].file);
  fds_[static_cast<size_t>(fd)] = Entry{std::move(f), cloexec};
  return old;
}

FDTable::FilePtr FDTable::Get(int fd, bool* cloexec) {
  absl::MutexLock l(&mu_);
  if (fd < 0 || static_cast<size_t>(fd) >= fds_.size()) return nullptr;
  const Entry& e = fds_[static_cast<size_t>(fd)];
  if (cloexec) *cloexec = e.cloexec;
  return e.file;
}

FDTable::FilePtr FDTable::Remove(int fd) {
  absl::MutexLock l(&mu_);
  if (fd < 0 || static_cast<size_t>(fd) >= fds_.size()) return nullptr;
  FilePtr f = std::move(fds_[static_cast<size_t>(fd)].file);
  fds_[static_cast<size_t>(fd)].cloexec = false;
  return f;
}

std::vector<FDTable::FilePtr> FDTable::RemoveRange(unsigned first, unsigned last,
                                                   bool cloexec_only) {
  std::vector<FilePtr> out;
  absl::MutexLock l(&mu_);
  for (size_t fd = first; fd < fds_.size() && fd <= last; fd++) {
    if (!fds_[fd].file) continue;
    if (cloexec_only) {
      fds_[fd].cloexec = true;
    } else {
      out.push_back(std::move(fds_[fd].file));
      fds_[fd].cloexec = false;
    }
  }
  return out;
}

Errno FDTable::SetCloexec(int fd, bool on) {
  absl::MutexLock l(&mu_);
  if (fd < 0 || static_cast<size_t>(fd) >= fds_.size() || !fds_[static_cast<size_t>(fd)].file) {
    return EBADF;
  }
  fds_[static_cast<size_t>(fd)].cloexec = on;
  return 0;
}

std::vector<FDTable::FilePtr> FDTable::RemoveCloexec() {
  std::vector<FilePtr> out;
  absl::MutexLock l(&mu_);
  for (Entry& e : fds_) {
    if (e.file && e.cloexec) {
      out.push_back(std::move(e.file));
      e.cloexec = false;
    }
  }
  return out;
}

std::shared_ptr<FDTable> FDTable::Fork() {
  auto t = std::make_shared<FDTable>();
  absl::MutexLock l(&mu_);
  absl::MutexLock tl(&t->mu_);
  t->fds_ = fds_;
  return t;
}

std::vector<int> FDTable::Fds() {
  std::vector<int> out;
  absl::MutexLock l(&mu_);
  for (size_t i = 0; i < fds_.size(); i++)
    if (fds_[i].file) out.push_back(static_cast<int>(i));
  return out;
}

size_t FDTable::Count() {
  absl::MutexLock l(&mu_);
  size_t n = 0;
  for (const Entry& e : fds_) n += e.file ? 1 : 0;
  return n;
}

}  // namespace sentry
