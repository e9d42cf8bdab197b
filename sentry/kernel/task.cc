// Task life cycle and the run loop.
#include "sentry/kernel/task.h"

#include <sys/syscall.h>

#include "sentry/base/log.h"
#include "sentry/kernel/kernel.h"
#include "syscalls/syscalls.h"

namespace sentry {

Task::Task(Kernel* k, std::shared_ptr<ThreadGroup> tg, int32_t tid)
    : k_(k), tg_(std::move(tg)), tid_(tid), ctx_(k->platform()->NewContext()) {}

Task::~Task() {
  if (thread_.joinable()) thread_.detach();
}

std::shared_ptr<MemoryManager> Task::mm_ptr() {
  absl::MutexLock l(&mu_);
  return mm_;
}
std::shared_ptr<FDTable> Task::fds_ptr() {
  absl::MutexLock l(&mu_);
  return fds_;
}
std::shared_ptr<FSContext> Task::fs_ptr() {
  absl::MutexLock l(&mu_);
  return fs_;
}
void Task::SetMM(std::shared_ptr<MemoryManager> mm) {
  absl::MutexLock l(&mu_);
  mm_ = std::move(mm);
}
void Task::SetFDTable(std::shared_ptr<FDTable> t) {
  absl::MutexLock l(&mu_);
  fds_ = std::move(t);
}
void Task::SetFS(std::shared_ptr<FSContext> f) {
  absl::MutexLock l(&mu_);
  fs_ = std::move(f);
}

vfs::Credentials Task::creds() {
  absl::MutexLock l(&mu_);
  return creds_;
}
void Task::SetCreds(const vfs::Credentials& c) {
  absl::MutexLock l(&mu_);
  creds_ = c;
}

vfs::PathContext Task::PathCtx() {
  vfs::PathContext p;
  p.task = this;
  p.creds = creds();
  p.root = fs_->root();
  p.cwd = fs_->cwd();
  p.umask = fs_->umask();
  return p;
}

std::string Task::comm() {
  absl::MutexLock l(&mu_);
  return comm_;
}
void Task::SetComm(std::string_view name) {
  absl::MutexLock l(&mu_);
  comm_ = std::string(name.substr(0, 15));
}

std::vector<uint64_t> Task::cpu_affinity() {
  absl::MutexLock l(&mu_);
  return cpu_affinity_;
}
void Task::SetCpuAffinity(std::vector<uint64_t> mask) {
  absl::MutexLock l(&mu_);
  cpu_affinity_ = std::move(mask);
}

ErrorOr<std::vector<std::string>> Task::CopyInStringVector(UserAddr a) {
  std::vector<std::string> out;
  if (a.IsNull()) return out;
  size_t total = 0;
  for (uint64_t i = 0;; i++) {
    uint64_t p;
    TRY(mm_->CopyIn(a + i * 8, &p, sizeof(p)));
    if (p == 0) break;
    auto s = TRY_ASSIGN(mm_->CopyInString(UserAddr(p), 128 * 1024));
    total += s.size() + 1 + 8;
    // ARG_MAX-like bound: the stack limit / 4, as Linux allows.
    if (total > 2 * 1024 * 1024 || i > 1024 * 1024) return Err(E2BIG);
    out.push_back(std::move(s));
  }
  return out;
}

void Task::Start(std::shared_ptr<Task> self) {
  thread_ = std::thread([self] { self->Run(); });
}

}  // namespace sentry
