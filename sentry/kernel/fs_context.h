// FSContext: a task's root, working directory and umask (Linux's
// fs_struct), shared between tasks created with CLONE_FS.
#ifndef SENTRY_KERNEL_FS_CONTEXT_H_
#define SENTRY_KERNEL_FS_CONTEXT_H_

#include <memory>

#include "absl/synchronization/mutex.h"
#include "fs/vfs/mount.h"

namespace sentry {

class FSContext {
 public:
  FSContext(vfs::VirtualDentry root, vfs::VirtualDentry cwd, uint32_t umask)
      : root_(std::move(root)), cwd_(std::move(cwd)), umask_(umask) {}
  std::shared_ptr<FSContext> Fork() {
    absl::MutexLock l(&mu_);
    return std::make_shared<FSContext>(root_, cwd_, umask_);
  }
  vfs::VirtualDentry root() {
    absl::MutexLock l(&mu_);
    return root_;
  }
  vfs::VirtualDentry cwd() {
    absl::MutexLock l(&mu_);
    return cwd_;
  }
  uint32_t umask() {
    absl::MutexLock l(&mu_);
    return umask_;
  }
  void SetRoot(vfs::VirtualDentry v) {
    absl::MutexLock l(&mu_);
    root_ = std::move(v);
  }
  void SetCwd(vfs::VirtualDentry v) {
    absl::MutexLock l(&mu_);
    cwd_ = std::move(v);
  }
  uint32_t SwapUmask(uint32_t m) {
    absl::MutexLock l(&mu_);
    uint32_t old = umask_;
    umask_ = m & 0777;
    return old;
  }

 private:
  absl::Mutex mu_;  // leaf
  vfs::VirtualDentry root_ ABSL_GUARDED_BY(mu_);
  vfs::VirtualDentry cwd_ ABSL_GUARDED_BY(mu_);
  uint32_t umask_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sentry

#endif  // SENTRY_KERNEL_FS_CONTEXT_H_
