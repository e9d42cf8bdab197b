// execve's program loading: scripts, ELF, interpreter, stack.
#include "sentry/loader/loader.h"

#include <cpuid.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <elf.h>

#include <cstring>

#include "fs/vfs/iosequence.h"
#include "platform/platform.h"
#include "sentry/base/log.h"
#include "sentry/base/random.h"
#include "sentry/loader/elf.h"

namespace sentry {
namespace {

constexpr int kMaxScriptDepth = 4;  // Linux: BINPRM_MAX_RECURSION
constexpr uint64_t kPieBase = 0x555555554000ull;
constexpr size_t kMaxArgStrlen = 32 * kPageSize;  // MAX_ARG_STRLEN

// Opens `path` for execution: regular file, execute permission, mount
// without noexec.
ErrorOr<std::shared_ptr<vfs::FileDescription>> OpenExecutable(vfs::VFS* vfs,
                                                             const vfs::PathContext& ctx,
                                                             const vfs::VirtualDentry& start,
                                                             const std::string& path,
                                                             uint32_t resolve) {
  vfs::VirtualDentry vd = TRY_ASSIGN(vfs->Resolve(ctx, start, path, resolve));
  vfs::Attr a = TRY_ASSIGN(vd.dentry->inode()->GetAttr());
  if (!a.IsRegular()) return Err(EACCES);
  if (vd.mount->flags & MS_NOEXEC) return Err(EACCES);
  TRY(vfs::VFS::CheckPermission(ctx.creds, a, vfs::kMayExec));
  // Running a file someone may be writing to would run half-written code.
  if (vd.dentry->inode()->HasWriters()) return Err(ETXTBSY);
  // The kernel reads the file itself: no read permission needed.
  vfs::PathContext kctx = ctx;
  kctx.creds.cap_effective |= uint64_t{1} << vfs::kCapDacOverride;
  return vfs->OpenAt(kctx, vd, O_RDONLY);
}

ErrorOr<size_t> ReadHead(vfs::FileDescription* f, char* buf, size_t n) {
  BufferIOSequence io(buf, n);
  SysRet r = f->PRead(nullptr, io, 0);
  if (!r.ok()) return Err(r.error());
  return static_cast<size_t>(r.value());
}

// Parses "#!interp [arg]" (binfmt_script): at most one argument, the rest
// of the line with surrounding blanks trimmed.
bool ParseShebang(const char* buf, size_t n, std::string* interp, std::string* arg) {
  if (n < 2 || buf[0] != '#' || buf[1] != '!') return false;
  std::string line(buf + 2, n - 2);
  size_t nl = line.find('\n');
  if (nl != std::string::npos) line.resize(nl);
  auto blank = [](char c) { return c == ' ' || c == '\t'; };
  size_t i = 0;
  while (i < line.size() && blank(line[i])) i++;
  size_t j = i;
  while (j < line.size() && !blank(line[j]) && line[j] != '\0') j++;
  *interp = line.substr(i, j - i);
  while (j < line.size() && blank(line[j])) j++;
  size_t k = line.size();
  while (k > j && (blank(line[k - 1]) || line[k - 1] == '\0')) k--;
  *arg = line.substr(j, k - j);
  return true;
}

uint64_t HwCap() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  __get_cpuid(1, &a, &b, &c, &d);
  return d;
}

uint64_t HwCap2() {
  // Bit 1: FSGSBASE is usable (the host kernel enables it for user space).
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & 1)) return 2;
  return 0;
}

struct StackLayout {
  uint64_t sp;
  AddrRange argv, envp;
  std::vector<uint64_t> auxv;
};

ErrorOr<StackLayout> BuildStack(MemoryManager* mm, uint64_t top,
                                const std::vector<std::string>& argv,
                                const std::vector<std::string>& envv,
                                const std::string& execfn, std::vector<uint64_t> auxv_in) {
  uint64_t p = top - 8;  // a NULL word ends the area
  auto push_str = [&](const std::string& s) -> ErrorOr<uint64_t> {
    p -= s.size() + 1;
    TRY(mm->CopyOut(UserAddr(p), s.c_str(), s.size() + 1));
    return p;
  };
  uint64_t execfn_addr = TRY_ASSIGN(push_str(execfn));
  std::vector<uint64_t> env_ptrs(envv.size()), arg_ptrs(argv.size());
  uint64_t env_end = p;
  for (size_t i = envv.size(); i-- > 0;) env_ptrs[i] = TRY_ASSIGN(push_str(envv[i]));
  uint64_t env_start = p;
  uint64_t arg_end = p;
  for (size_t i = argv.size(); i-- > 0;) arg_ptrs[i] = TRY_ASSIGN(push_str(argv[i]));
  uint64_t arg_start = p;
  // A little randomness in alignment, like arch_align_stack.
  p = (p - (RandomU64() % 512)) & ~uint64_t{15};
  uint64_t platform = TRY_ASSIGN(push_str("x86_64"));
  uint8_t rnd[16];
  RandomBytes(rnd, sizeof(rnd));
  p -= sizeof(rnd);
  TRY(mm->CopyOut(UserAddr(p), rnd, sizeof(rnd)));
  uint64_t random_addr = p;

  std::vector<uint64_t> auxv = std::move(auxv_in);
  auxv.insert(auxv.end(), {AT_RANDOM, random_addr, AT_EXECFN, execfn_addr, AT_PLATFORM, platform,
                           AT_NULL, 0});
  size_t words = 1 + argv.size() + 1 + envv.size() + 1 + auxv.size();
  uint64_t sp = (p - words * 8) & ~uint64_t{15};
  std::vector<uint64_t> v;
  v.reserve(words);
  v.push_back(argv.size());
  v.insert(v.end(), arg_ptrs.begin(), arg_ptrs.end());
  v.push_back(0);
  v.insert(v.end(), env_ptrs.begin(), env_ptrs.end());
  v.push_back(0);
  v.insert(v.end(), auxv.begin(), auxv.end());
  TRY(mm->CopyOut(UserAddr(sp), v.data(), v.size() * 8));
  StackLayout out;
  out.sp = sp;
  out.argv = {arg_start, arg_end};
  out.envp = {env_start, env_end};
  out.auxv = auxv;
  return out;
}

}  // namespace

ErrorOr<LoadResult> LoadProgram(Platform* platform, MemoryFile* mf, vfs::VFS* vfs,
                                LoadRequest req) {
  for (const auto& s : req.argv)
    if (s.size() >= kMaxArgStrlen) return Err(E2BIG);
  for (const auto& s : req.envv)
    if (s.size() >= kMaxArgStrlen) return Err(E2BIG);
  const std::string execfn = req.path;
  std::shared_ptr<vfs::FileDescription> f;
  std::string path = req.path;
  std::vector<std::string> argv = req.argv;
  for (int depth = 0;; depth++) {
    if (depth > kMaxScriptDepth) return Err(ELOOP);
    f = TRY_ASSIGN(OpenExecutable(vfs, req.ctx, depth == 0 ? req.start : req.ctx.cwd, path,
                                  depth == 0 ? req.resolve_flags : vfs::kFollow));
    char head[256];
    size_t n = TRY_ASSIGN(ReadHead(f.get(), head, sizeof(head)));
    std::string interp, arg;
    if (!ParseShebang(head, n, &interp, &arg)) break;
    if (interp.empty()) return Err(ENOEXEC);
    // argv becomes: interp [arg] script-path original-argv[1:]
    std::vector<std::string> nargv{interp};
    if (!arg.empty()) nargv.push_back(arg);
    nargv.push_back(path);
    for (size_t i = 1; i < argv.size(); i++) nargv.push_back(argv[i]);
    argv = std::move(nargv);
    path = interp;
  }

  ElfInfo info = TRY_ASSIGN(ReadElf(f.get()));
  auto mm = std::make_shared<MemoryManager>(platform, mf);

  // Layout: stack at the top (randomized by up to 16 GiB like Linux's
  // stack randomization), the mmap area below it.
  uint64_t stack_size = std::clamp<uint64_t>(req.stack_limit, 128 << 10, 1ull << 30);
  if (req.stack_limit == RLIM_INFINITY) stack_size = 8 << 20;
  uint64_t top = kMaxUserAddress - ((RandomU64() % (1ull << 22)) << kPageShift);
  for (const AddrRange& r : platform ? platform->ReservedRanges() : std::vector<AddrRange>{}) {
    if (r.start < top && top - stack_size < r.end) top = r.start;
  }
  top = PageRoundDown(top);
  MMapOpts so;
  so.length = stack_size;
  so.addr = UserAddr(top - stack_size);
  so.fixed = true;
  so.prot = PROT_READ | PROT_WRITE;
  so.growsdown = true;
  so.name = "[stack]";
  TRY(mm->MMap(so));
  uint64_t gap = std::max<uint64_t>(stack_size, 128ull << 20);
  uint64_t mmap_base = top - stack_size - gap - ((RandomU64() % (1ull << 28)) << kPageShift);
  mm->SetMmapBase(PageRoundDown(mmap_base));

  std::string exe_path = vfs->PathOf(f->vd(), req.ctx.root);
  uint64_t base = info.ehdr.e_type == ET_DYN
                      ? kPieBase + ((RandomU64() % (1ull << 16)) << kPageShift)
                      : 0;
  MappedElf main = TRY_ASSIGN(MapElf(mm.get(), f.get(), info, base, exe_path));
  uint64_t entry = main.entry;
  uint64_t interp_base = 0;
  if (!info.interp.empty()) {
    vfs::PathContext ictx = req.ctx;
    auto ifile = OpenExecutable(vfs, ictx, ictx.root, info.interp, vfs::kFollow);
    if (!ifile.ok()) return Err(ifile.error() == ENOENT ? ENOENT : ifile.error());
    ElfInfo iinfo = TRY_ASSIGN(ReadElf(ifile->get()));
    if (!iinfo.interp.empty()) return Err(ELIBBAD);
    std::string iname = vfs->PathOf((*ifile)->vd(), req.ctx.root);
    MappedElf im = TRY_ASSIGN(MapElf(mm.get(), ifile->get(), iinfo, 0, iname));
    interp_base = im.bias;
    entry = im.entry;
  }
  mm->SetBrkStart(UserAddr(main.end));

  std::vector<uint64_t> auxv = {
      AT_HWCAP, HwCap(), AT_PAGESZ, kPageSize, AT_CLKTCK, 100,
      AT_PHDR, main.phdr_addr, AT_PHENT, sizeof(Elf64_Phdr), AT_PHNUM, info.ehdr.e_phnum,
      AT_BASE, interp_base, AT_FLAGS, 0, AT_ENTRY, main.entry,
      AT_UID, req.ctx.creds.uid, AT_EUID, req.ctx.creds.euid,
      AT_GID, req.ctx.creds.gid, AT_EGID, req.ctx.creds.egid,
      AT_SECURE, 0, AT_HWCAP2, HwCap2(), AT_MINSIGSTKSZ, 3632,
  };
  if (req.vdso != 0) auxv.insert(auxv.begin(), {AT_SYSINFO_EHDR, req.vdso});
  StackLayout st = TRY_ASSIGN(BuildStack(mm.get(), top, argv, req.envv, execfn, auxv));
  mm->SetArgvRange(st.argv, st.envp);
  mm->SetAuxv(st.auxv);
  mm->SetExecutablePath(exe_path);
  mm->SetExecutable(f->vd());

  LoadResult r;
  r.mm = std::move(mm);
  r.entry = entry;
  r.sp = st.sp;
  r.exe_path = exe_path;
  r.exe = f->vd();
  // comm is the basename of the file execve was given (a script's name,
  // not its interpreter's), as Linux does.
  size_t slash = execfn.rfind('/');
  r.comm = slash == std::string::npos ? execfn : execfn.substr(slash + 1);
  return r;
}

}  // namespace sentry
