#include "gofer/seccomp.h"

#include <seccomp.h>

#include "absl/strings/str_format.h"

namespace gofer {

std::string FormatSeccompRules(const std::vector<SeccompRule>& rules) {
  std::string out;
  for (const SeccompRule& r : rules) {
    std::string conds;
    for (const SeccompArg& a : r.args) {
      if (!conds.empty()) conds += " && ";
      switch (a.op) {
        case SeccompArg::Op::kEq:
          conds += absl::StrFormat("arg%d == %#x", a.index, a.value);
          break;
        case SeccompArg::Op::kNe:
          conds += absl::StrFormat("arg%d != %#x", a.index, a.value);
          break;
        case SeccompArg::Op::kMaskedEq:
          conds += absl::StrFormat("(arg%d & %#x) == %#x", a.index, a.mask, a.value);
          break;
      }
    }
    out += absl::StrFormat("%-16s %-40s # %s\n", r.name, conds.empty() ? "(any)" : conds, r.reason);
  }
  return out;
}

absl::Status InstallSeccompFilter(const std::vector<SeccompRule>& rules) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
  if (ctx == nullptr) return absl::InternalError("seccomp_init failed");
  // Threads started later inherit the filter; those running now get it too.
  int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
  for (const SeccompRule& r : rules) {
    if (rc != 0) break;
    std::vector<scmp_arg_cmp> cmps;
    for (const SeccompArg& a : r.args) {
      scmp_arg_cmp c = {};
      c.arg = a.index;
      switch (a.op) {
        case SeccompArg::Op::kEq:
          c.op = SCMP_CMP_EQ;
          c.datum_a = a.value;
          break;
        case SeccompArg::Op::kNe:
          c.op = SCMP_CMP_NE;
          c.datum_a = a.value;
          break;
        case SeccompArg::Op::kMaskedEq:
          c.op = SCMP_CMP_MASKED_EQ;
          c.datum_a = a.mask;
          c.datum_b = a.value;
          break;
      }
      cmps.push_back(c);
    }
    rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, r.nr, static_cast<unsigned>(cmps.size()),
                                cmps.data());
    if (rc != 0) {
      seccomp_release(ctx);
      return absl::InternalError(absl::StrFormat("seccomp rule for %s: %d", r.name, rc));
    }
  }
  if (rc == 0) rc = seccomp_load(ctx);
  seccomp_release(ctx);
  if (rc != 0) return absl::InternalError(absl::StrFormat("seccomp_load: %d", rc));
  return absl::OkStatus();
}

}  // namespace gofer
