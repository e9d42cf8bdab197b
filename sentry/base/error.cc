#include "sentry/base/error.h"

#include <cstring>

#include "absl/strings/str_format.h"

namespace sentry {

absl::Status ErrnoToStatus(int e, std::string_view what) {
  return absl::ErrnoToStatus(e, absl::StrFormat("%s: %s", what, strerror(e)));
}

int StatusToErrno(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kOk: return 0;
    case absl::StatusCode::kNotFound: return ENOENT;
    case absl::StatusCode::kAlreadyExists: return EEXIST;
    case absl::StatusCode::kPermissionDenied: return EACCES;
    case absl::StatusCode::kInvalidArgument: return EINVAL;
    case absl::StatusCode::kResourceExhausted: return ENOMEM;
    case absl::StatusCode::kUnimplemented: return ENOSYS;
    case absl::StatusCode::kUnavailable: return EAGAIN;
    case absl::StatusCode::kOutOfRange: return ERANGE;
    default: return EIO;
  }
}

}  // namespace sentry
