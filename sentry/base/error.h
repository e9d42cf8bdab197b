// Error values on the syscall path.
//
// Syscall handlers and everything they call synchronously speak Linux's
// language: a result is a value or an errno. `ErrorOr<T>` carries either,
// without allocation; `TRY`/`TRY_ASSIGN` propagate the errno so a handler
// reads straight down. Code off the syscall path (start-up, the gofer,
// runsc) uses absl::Status instead; `ErrnoToStatus`/`StatusToErrno` are
// the only bridges between the two.
#ifndef SENTRY_BASE_ERROR_H_
#define SENTRY_BASE_ERROR_H_

#include <cerrno>
#include <cstdint>
#include <utility>

#include "absl/status/status.h"

namespace sentry {

// Internal-only errnos from include/linux/errno.h: they never reach the
// application; the task turns them into a restart or EINTR.
inline constexpr int ERESTARTSYS = 512;
inline constexpr int ERESTARTNOINTR = 513;
inline constexpr int ERESTARTNOHAND = 514;
inline constexpr int ERESTART_RESTARTBLOCK = 516;

// An errno or nothing: 0 on success, otherwise a positive errno value.
// A distinct type (not a plain int) so that returning one from a syscall
// handler yields -errno, never a positive "value".
class Errno {
 public:
  constexpr Errno(int e = 0) : e_(e) {}        // NOLINT: implicit on purpose.
  constexpr operator int() const { return e_; }  // NOLINT

 private:
  int e_;
};

// A syscall return: >= 0 is a value, [-4095, -1] is -errno.
class [[nodiscard]] SysRet {
 public:
  constexpr SysRet(int64_t v) : v_(v) {}  // NOLINT: implicit on purpose.
  // An Errno means failure (or success when 0).
  constexpr SysRet(Errno e) : v_(-int64_t{int(e)}) {}  // NOLINT
  static constexpr SysRet Err(int errno_value) { return SysRet(-int64_t{errno_value}); }
  constexpr bool ok() const { return v_ >= 0 || v_ < -4095; }
  constexpr int error() const { return ok() ? 0 : static_cast<int>(-v_); }
  constexpr int64_t value() const { return v_; }

 private:
  int64_t v_;
};

// A value or an errno.
template <typename T>
class [[nodiscard]] ErrorOr {
 public:
  ErrorOr(T v) : v_(std::move(v)), err_(0) {}  // NOLINT
  static ErrorOr Err(int e) { return ErrorOr(e, 0); }
  bool ok() const { return err_ == 0; }
  int error() const { return err_; }
  T& value() & { return v_; }
  const T& value() const& { return v_; }
  T&& value() && { return std::move(v_); }
  T& operator*() { return v_; }
  T* operator->() { return &v_; }
  const T* operator->() const { return &v_; }

 private:
  ErrorOr(int e, int) : v_(), err_(e) {}
  T v_;
  int err_;
};

// An error marker usable in any ErrorOr<T>-returning function.
struct ErrTag {
  int e;
  template <typename T>
  operator ErrorOr<T>() const { return ErrorOr<T>::Err(e); }  // NOLINT
  operator SysRet() const { return SysRet::Err(e); }          // NOLINT
  operator Errno() const { return Errno(e); }                  // NOLINT
  operator int() const { return e; }                           // NOLINT
};
inline ErrTag Err(int e) { return ErrTag{e}; }

namespace internal {
inline int ErrOf(int e) { return e; }
inline int ErrOf(Errno e) { return e; }
inline int ErrOf(const SysRet& r) { return r.error(); }
template <typename T>
int ErrOf(const ErrorOr<T>& r) { return r.error(); }
}  // namespace internal

// TRY(expr): expr is an Errno (int), SysRet or ErrorOr; on error, returns
// Err(errno) from the enclosing function.
#define TRY(expr)                                            \
  do {                                                       \
    auto&& try_r_ = (expr);                                  \
    int try_e_ = ::sentry::internal::ErrOf(try_r_);          \
    if (try_e_ != 0) return ::sentry::Err(try_e_);           \
  } while (0)

// auto x = TRY_ASSIGN(expr): unwraps an ErrorOr<T> or returns its errno.
#define TRY_ASSIGN(expr)                                     \
  ({                                                         \
    auto try_r_ = (expr);                                    \
    if (!try_r_.ok()) return ::sentry::Err(try_r_.error());  \
    std::move(try_r_).value();                               \
  })

absl::Status ErrnoToStatus(int e, std::string_view what);
int StatusToErrno(const absl::Status& s);

}  // namespace sentry

#endif  // SENTRY_BASE_ERROR_H_
