#include "sentry/mm/anon_shared.h"

#include "sentry/usermem/addr.h"

namespace sentry {
namespace {

class AnonShared : public Mappable {
 public:
  AnonShared(MemoryFile* mf, uint64_t off, uint64_t size) : mf_(mf), off_(off), size_(size) {}
  ~AnonShared() override { mf_->DecRef({off_, off_ + size_}); }

  ErrorOr<FileRange> Translate(uint64_t off, uint64_t max_len, bool write) override {
    if (off >= size_) return Err(EFAULT);
    uint64_t len = std::min(max_len, size_ - off);
    FileRange r{off_ + off, off_ + off + len};
    mf_->IncRef(r);
    return r;
  }

 private:
  MemoryFile* const mf_;
  const uint64_t off_;
  const uint64_t size_;
};

}  // namespace

ErrorOr<std::shared_ptr<Mappable>> NewAnonymousSharedMemory(MemoryFile* mf, uint64_t size) {
  uint64_t len;
  if (size == 0 || !PageRoundUp(size, &len)) return Err(EINVAL);
  uint64_t off = TRY_ASSIGN(mf->Allocate(len));
  return std::shared_ptr<Mappable>(std::make_shared<AnonShared>(mf, off, len));
}

}  // namespace sentry
