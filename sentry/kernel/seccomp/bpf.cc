// Classic BPF for seccomp: validation and interpretation (see bpf.h).
#include "sentry/kernel/seccomp/bpf.h"

#include <cstring>
#include <vector>

namespace sentry::seccomp {
namespace {

// Scratch memory words (BPF_MEMWORDS).
constexpr uint32_t kMemWords = 16;

// Instruction codes seccomp_check_filter() lets through (it rewrites the
// LEN loads into immediates; we interpret them directly).
enum : uint16_t {
  kLdAbsW = BPF_LD | BPF_W | BPF_ABS,
  kLdLenW = BPF_LD | BPF_W | BPF_LEN,
  kLdxLenW = BPF_LDX | BPF_W | BPF_LEN,
  kLdImm = BPF_LD | BPF_IMM,
  kLdxImm = BPF_LDX | BPF_IMM,
  kLdMem = BPF_LD | BPF_MEM,
  kLdxMem = BPF_LDX | BPF_MEM,
  kSt = BPF_ST,
  kStx = BPF_STX,
  kTax = BPF_MISC | BPF_TAX,
  kTxa = BPF_MISC | BPF_TXA,
  kRetK = BPF_RET | BPF_K,
  kRetA = BPF_RET | BPF_A,
  kJa = BPF_JMP | BPF_JA,
  kNeg = BPF_ALU | BPF_NEG,
};

bool IsCondJump(uint16_t code) {
  if (BPF_CLASS(code) != BPF_JMP || (code & ~uint16_t{0xf8}) != BPF_JMP) return false;
  switch (BPF_OP(code)) {
    case BPF_JEQ: case BPF_JGT: case BPF_JGE: case BPF_JSET:
      return true;
    default:
      return false;
  }
}

// The binary ALU operations seccomp allows (no BPF_MOD), with K or X.
bool IsAllowedAlu(uint16_t code) {
  if (BPF_CLASS(code) != BPF_ALU || (code & ~uint16_t{0xf8}) != BPF_ALU) return false;
  switch (BPF_OP(code)) {
    case BPF_ADD: case BPF_SUB: case BPF_MUL: case BPF_DIV: case BPF_AND:
    case BPF_OR: case BPF_XOR: case BPF_LSH: case BPF_RSH:
      return true;
    default:
      return false;
  }
}

// One instruction on its own (opcode, operand ranges, jump targets).
bool CheckInstruction(const sock_filter& f, size_t pc, size_t len) {
  const uint16_t code = f.code;
  switch (code) {
    case kLdAbsW:
      // seccomp_data is read in aligned 32-bit words, never past its end.
      return f.k < sizeof(SeccompData) && (f.k & 3) == 0;
    case kLdLenW: case kLdxLenW: case kLdImm: case kLdxImm: case kTax: case kTxa:
    case kRetK: case kRetA: case kNeg:
      return true;
    case kLdMem: case kLdxMem: case kSt: case kStx:
      return f.k < kMemWords;
    case kJa:
      return f.k < len - 1 - pc;
    default:
      break;
  }
  if (IsCondJump(code)) return pc + f.jt + 1 < len && pc + f.jf + 1 < len;
  if (IsAllowedAlu(code)) {
    if (BPF_SRC(code) == BPF_K) {
      if (BPF_OP(code) == BPF_DIV && f.k == 0) return false;
      if ((BPF_OP(code) == BPF_LSH || BPF_OP(code) == BPF_RSH) && f.k >= 32) return false;
    }
    return true;
  }
  return false;
}

// Linux's check_load_and_stores(): a scratch word may only be read if every
// path to the read stored it first. Jump targets keep the intersection of
// what is valid on the paths reaching them.
bool CheckScratchUse(std::span<const sock_filter> prog) {
  std::vector<uint16_t> masks(prog.size(), 0xffff);
  uint16_t valid = 0;
  for (size_t pc = 0; pc < prog.size(); pc++) {
    const sock_filter& f = prog[pc];
    valid &= masks[pc];
    switch (f.code) {
      case kSt: case kStx:
        valid |= static_cast<uint16_t>(1u << f.k);
        break;
      case kLdMem: case kLdxMem:
        if (!(valid & (1u << f.k))) return false;
        break;
      case kJa:
        masks[pc + 1 + f.k] &= valid;
        valid = 0xffff;
        break;
      default:
        if (IsCondJump(f.code)) {
          masks[pc + 1 + f.jt] &= valid;
          masks[pc + 1 + f.jf] &= valid;
          valid = 0xffff;
        }
        break;
    }
  }
  return true;
}

uint32_t Alu(uint16_t op, uint32_t a, uint32_t v, bool* div_by_zero) {
  switch (op) {
    case BPF_ADD: return a + v;
    case BPF_SUB: return a - v;
    case BPF_MUL: return a * v;
    case BPF_DIV:
      if (v == 0) {
        *div_by_zero = true;
        return 0;
      }
      return a / v;
    case BPF_AND: return a & v;
    case BPF_OR: return a | v;
    case BPF_XOR: return a ^ v;
    // Shift counts by X are taken modulo 32, as the x86 JIT does.
    case BPF_LSH: return a << (v & 31);
    case BPF_RSH: return a >> (v & 31);
    default: return 0;
  }
}

bool JumpTaken(uint16_t op, uint32_t a, uint32_t v) {
  switch (op) {
    case BPF_JEQ: return a == v;
    case BPF_JGT: return a > v;
    case BPF_JGE: return a >= v;
    case BPF_JSET: return (a & v) != 0;
    default: return false;
  }
}

}  // namespace

Errno CheckProgram(std::span<const sock_filter> prog) {
  const size_t len = prog.size();
  if (len == 0 || len > kMaxProgramLength) return EINVAL;
  for (size_t pc = 0; pc < len; pc++) {
    if (!CheckInstruction(prog[pc], pc, len)) return EINVAL;
  }
  const uint16_t last = prog[len - 1].code;
  if (last != kRetK && last != kRetA) return EINVAL;
  if (!CheckScratchUse(prog)) return EINVAL;
  return 0;
}

size_t TranslatedLength(std::span<const sock_filter> prog) {
  // Zeroing A and X and saving the context pointer.
  size_t n = 3;
  for (const sock_filter& f : prog) {
    if (f.code == kRetK) {
      n += 2;  // r0 = K; exit (RET A needs no move: A is r0)
    } else if (f.code == (BPF_ALU | BPF_DIV | BPF_X)) {
      n += 5;  // zero-extend X, and return 0 if it is 0
    } else if (IsCondJump(f.code)) {
      // Negative immediates go through a register first.
      if (BPF_SRC(f.code) == BPF_K && static_cast<int32_t>(f.k) < 0) n++;
      // One jump when either branch falls through (JSET cannot be
      // inverted), otherwise a jump and a JA.
      if (f.jf == 0 || (f.jt == 0 && BPF_OP(f.code) != BPF_JSET)) {
        n += 1;
      } else {
        n += 2;
      }
    } else {
      n += 1;
    }
  }
  return n;
}

uint32_t RunProgram(std::span<const sock_filter> prog, const SeccompData& data) {
  uint32_t a = 0, x = 0;
  uint32_t mem[kMemWords] = {};
  const auto* bytes = reinterpret_cast<const unsigned char*>(&data);
  for (size_t pc = 0; pc < prog.size(); pc++) {
    const sock_filter& f = prog[pc];
    switch (f.code) {
      case kLdAbsW: memcpy(&a, bytes + f.k, sizeof(a)); continue;
      case kLdLenW: a = sizeof(SeccompData); continue;
      case kLdxLenW: x = sizeof(SeccompData); continue;
      case kLdImm: a = f.k; continue;
      case kLdxImm: x = f.k; continue;
      case kLdMem: a = mem[f.k]; continue;
      case kLdxMem: x = mem[f.k]; continue;
      case kSt: mem[f.k] = a; continue;
      case kStx: mem[f.k] = x; continue;
      case kTax: x = a; continue;
      case kTxa: a = x; continue;
      case kNeg: a = 0u - a; continue;
      case kRetK: return f.k;
      case kRetA: return a;
      case kJa: pc += f.k; continue;
      default: break;
    }
    const uint32_t operand = BPF_SRC(f.code) == BPF_X ? x : f.k;
    if (BPF_CLASS(f.code) == BPF_JMP) {
      pc += JumpTaken(BPF_OP(f.code), a, operand) ? f.jt : f.jf;
    } else {
      bool div_by_zero = false;
      a = Alu(BPF_OP(f.code), a, operand, &div_by_zero);
      // Classic BPF ends the program with 0 on a division by zero, which
      // for seccomp means SECCOMP_RET_KILL_THREAD.
      if (div_by_zero) return 0;
    }
  }
  return 0;  // unreachable for a checked program: it ends in RET
}

}  // namespace sentry::seccomp
