// Application addresses and typed application pointers.
//
// The Sentry never dereferences an application address: a `UserAddr` is an
// opaque number in the application's address space, and `UserPtr<T>` only
// says what type the application claims lives there. Data moves between the
// two worlds only through the MemoryManager's copy-in/out, which translates
// through the MemoryFile and fails with EFAULT.
#ifndef SENTRY_USERMEM_ADDR_H_
#define SENTRY_USERMEM_ADDR_H_

#include <compare>
#include <cstdint>
#include <type_traits>

namespace sentry {

inline constexpr uint64_t kPageSize = 4096;
inline constexpr uint64_t kPageShift = 12;
// The x86-64 four-level-paging user address limit (TASK_SIZE_MAX).
inline constexpr uint64_t kMaxUserAddress = 0x7ffffffff000ull;

constexpr uint64_t PageRoundDown(uint64_t v) { return v & ~(kPageSize - 1); }
// Returns false on overflow.
constexpr bool PageRoundUp(uint64_t v, uint64_t* out) {
  uint64_t r = (v + kPageSize - 1) & ~(kPageSize - 1);
  if (r < v) return false;
  *out = r;
  return true;
}
constexpr bool IsPageAligned(uint64_t v) { return (v & (kPageSize - 1)) == 0; }

class UserAddr {
 public:
  constexpr UserAddr() : v_(0) {}
  constexpr explicit UserAddr(uint64_t v) : v_(v) {}
  constexpr uint64_t value() const { return v_; }
  constexpr bool IsNull() const { return v_ == 0; }
  constexpr UserAddr operator+(uint64_t d) const { return UserAddr(v_ + d); }
  constexpr UserAddr operator-(uint64_t d) const { return UserAddr(v_ - d); }
  constexpr uint64_t operator-(UserAddr o) const { return v_ - o.v_; }
  constexpr auto operator<=>(const UserAddr&) const = default;
  constexpr UserAddr RoundDown() const { return UserAddr(PageRoundDown(v_)); }
  constexpr bool IsPageAligned() const { return sentry::IsPageAligned(v_); }

 private:
  uint64_t v_;
};

// An application pointer to T. T must be trivially copyable; structs copied
// out must have no padding (checked at the copy site) so no Sentry bytes leak.
template <typename T>
class UserPtr {
 public:
  constexpr UserPtr() = default;
  constexpr explicit UserPtr(UserAddr a) : addr_(a) {}
  constexpr explicit UserPtr(uint64_t a) : addr_(a) {}
  constexpr UserAddr addr() const { return addr_; }
  constexpr bool IsNull() const { return addr_.IsNull(); }
  // Element arithmetic, like a C pointer.
  constexpr UserPtr operator+(uint64_t n) const { return UserPtr(addr_ + n * sizeof(T)); }

 private:
  UserAddr addr_;
};

// An address range [start, end).
struct AddrRange {
  uint64_t start = 0;
  uint64_t end = 0;
  constexpr uint64_t length() const { return end - start; }
  constexpr bool empty() const { return end <= start; }
  constexpr bool Contains(uint64_t a) const { return a >= start && a < end; }
  constexpr bool Overlaps(AddrRange o) const { return start < o.end && o.start < end; }
  constexpr AddrRange Intersect(AddrRange o) const {
    AddrRange r{start > o.start ? start : o.start, end < o.end ? end : o.end};
    if (r.end < r.start) r.end = r.start;
    return r;
  }
};

}  // namespace sentry

#endif  // SENTRY_USERMEM_ADDR_H_
