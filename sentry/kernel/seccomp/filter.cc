// Seccomp filter chains (see filter.h).
#include "sentry/kernel/seccomp/filter.h"

#include <utility>

namespace sentry::seccomp {
namespace {
// seccomp_attach_filter() charges each installed filter 4 instructions
// more than its length, so that many tiny filters cost something too.
constexpr size_t kPerFilterPenalty = 4;
}  // namespace

Filter::Filter(std::vector<sock_filter> prog, std::shared_ptr<const Filter> prev, bool log,
               size_t path_insns)
    : prog_(std::move(prog)),
      prev_(std::move(prev)),
      log_(log),
      count_(prev_ ? prev_->count_ + 1 : 1),
      path_insns_(path_insns) {}

Filter::~Filter() {
  std::shared_ptr<const Filter> p = std::move(prev_);
  // Only the last owner of a link may unlink it; no weak references exist,
  // so a use count of 1 cannot grow meanwhile.
  while (p && p.use_count() == 1) {
    std::shared_ptr<const Filter> next = std::move(const_cast<Filter*>(p.get())->prev_);
    p = std::move(next);
  }
}

ErrorOr<std::shared_ptr<const Filter>> Filter::Create(std::vector<sock_filter> prog,
                                                      std::shared_ptr<const Filter> prev,
                                                      bool log) {
  if (Errno e = CheckProgram(prog); e != 0) return Err(e);
  const size_t len = TranslatedLength(prog);
  const size_t below = prev ? prev->path_insns_ : 0;
  if (len + below > kMaxInsnsPerPath) return Err(ENOMEM);
  const size_t path = len + kPerFilterPenalty + below;
  return std::shared_ptr<const Filter>(
      std::make_shared<Filter>(std::move(prog), std::move(prev), log, path));
}

uint32_t Filter::Evaluate(const SeccompData& data) const {
  uint32_t best = SECCOMP_RET_ALLOW;
  for (const Filter* f = this; f != nullptr; f = f->prev_.get()) {
    uint32_t r = RunProgram(f->prog_, data);
    // Strictly lower: on a tie the newer filter (seen first) keeps its data.
    if (ActionRank(r) < ActionRank(best)) best = r;
  }
  return best;
}

bool Filter::HasAncestor(const Filter* ancestor) const {
  for (const Filter* f = this; f != nullptr; f = f->prev_.get()) {
    if (f == ancestor) return true;
  }
  return false;
}

}  // namespace sentry::seccomp
