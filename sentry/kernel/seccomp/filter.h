// Seccomp filters as a task holds them: an immutable, shared chain of
// checked BPF programs, newest first, and the rules that combine their
// verdicts (kernel/seccomp.c: seccomp_run_filters()).
//
// A chain only grows: installing a filter makes a new head whose `prev`
// is the old head, so a task's filter can be replaced (by TSYNC) only by a
// chain that still holds the old one. That is what lets a task read its
// own head through a plain pointer while another thread swaps it (see
// TaskSeccomp in task.h).
//
// Immutable once built: no locks.
#ifndef SENTRY_KERNEL_SECCOMP_FILTER_H_
#define SENTRY_KERNEL_SECCOMP_FILTER_H_

#include <linux/seccomp.h>

#include <memory>
#include <vector>

#include "sentry/base/error.h"
#include "sentry/kernel/seccomp/bpf.h"

namespace sentry::seccomp {

// MAX_INSNS_PER_PATH: the instructions of all filters of a task, each
// filter counting 4 more than its length, may not exceed 256 KiB of code.
// Lengths are those of Linux's eBPF translation (TranslatedLength).
inline constexpr size_t kMaxInsnsPerPath = (1u << 18) / sizeof(sock_filter);
// MAX_ERRNO: SECCOMP_RET_ERRNO data above it is clamped.
inline constexpr uint32_t kMaxErrno = 4095;

// The action part of a verdict, as a signed value: lower wins
// (KILL_PROCESS is 0x80000000, i.e. the most negative).
inline int32_t ActionRank(uint32_t ret) {
  return static_cast<int32_t>(ret & SECCOMP_RET_ACTION_FULL);
}
inline uint32_t ActionOf(uint32_t ret) { return ret & SECCOMP_RET_ACTION_FULL; }
inline uint32_t DataOf(uint32_t ret) { return ret & SECCOMP_RET_DATA; }

class Filter {
 public:
  // Checks `prog` (CheckProgram) and the path length with `prev` below it.
  // EINVAL for a bad program, ENOMEM when the chain would be too long.
  static ErrorOr<std::shared_ptr<const Filter>> Create(std::vector<sock_filter> prog,
                                                      std::shared_ptr<const Filter> prev,
                                                      bool log);

  // Runs every filter of the chain and returns the verdict that wins: the
  // action of highest precedence; among equal actions, the newest filter's
  // (its data is what ERRNO/TRAP/TRACE use).
  uint32_t Evaluate(const SeccompData& data) const;

  const Filter* prev() const { return prev_.get(); }
  // Number of filters in the chain, this one included.
  int count() const { return count_; }
  // SECCOMP_FILTER_FLAG_LOG was given when this filter was installed.
  bool log() const { return log_; }
  // Whether `ancestor` is this filter or one below it (TSYNC's test that
  // a thread's filters are a prefix of the caller's).
  bool HasAncestor(const Filter* ancestor) const;

  Filter(std::vector<sock_filter> prog, std::shared_ptr<const Filter> prev, bool log,
         size_t path_insns);
  // Frees a chain iteratively: thousands of one-instruction filters must
  // not recurse that deep.
  ~Filter();
  Filter(const Filter&) = delete;
  Filter& operator=(const Filter&) = delete;

 private:
  const std::vector<sock_filter> prog_;
  std::shared_ptr<const Filter> prev_;  // only the destructor changes it
  const bool log_;
  const int count_;
  // This filter's translated length plus 4, plus the same for every older
  // one.
  const size_t path_insns_;
};

}  // namespace sentry::seccomp

#endif  // SENTRY_KERNEL_SECCOMP_FILTER_H_
