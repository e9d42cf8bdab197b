#include "sentry/loader/elf.h"

#include <cstring>

#include "fs/vfs/iosequence.h"
#include "sentry/mm/mappable.h"

namespace sentry {
namespace {

ErrorOr<size_t> ReadAt(vfs::FileDescription* f, void* buf, size_t n, uint64_t off) {
  BufferIOSequence io(buf, n);
  size_t done = 0;
  while (done < n) {
    SysRet r = f->PRead(nullptr, io, static_cast<int64_t>(off + done));
    if (!r.ok()) return Err(r.error());
    if (r.value() == 0) break;
    done += static_cast<size_t>(r.value());
  }
  return done;
}

int ProtOf(uint32_t pflags) {
  int p = 0;
  if (pflags & PF_R) p |= PROT_READ;
  if (pflags & PF_W) p |= PROT_WRITE;
  if (pflags & PF_X) p |= PROT_EXEC;
  return p;
}

}  // namespace

ErrorOr<ElfInfo> ReadElf(vfs::FileDescription* f) {
  ElfInfo info;
  size_t got = TRY_ASSIGN(ReadAt(f, &info.ehdr, sizeof(info.ehdr), 0));
  const Elf64_Ehdr& h = info.ehdr;
  if (got < sizeof(h) || memcmp(h.e_ident, ELFMAG, SELFMAG) != 0) return Err(ENOEXEC);
  if (h.e_ident[EI_CLASS] != ELFCLASS64 || h.e_ident[EI_DATA] != ELFDATA2LSB ||
      h.e_ident[EI_VERSION] != EV_CURRENT || h.e_machine != EM_X86_64 ||
      (h.e_type != ET_EXEC && h.e_type != ET_DYN) || h.e_phentsize != sizeof(Elf64_Phdr)) {
    return Err(ENOEXEC);
  }
  // Linux refuses program header tables over 64 KiB.
  if (h.e_phnum == 0 || h.e_phnum * sizeof(Elf64_Phdr) > 65536) return Err(ENOEXEC);
  info.phdrs.resize(h.e_phnum);
  size_t want = h.e_phnum * sizeof(Elf64_Phdr);
  got = TRY_ASSIGN(ReadAt(f, info.phdrs.data(), want, h.e_phoff));
  if (got != want) return Err(ENOEXEC);
  for (const Elf64_Phdr& p : info.phdrs) {
    if (p.p_type != PT_INTERP) continue;
    if (p.p_filesz < 2 || p.p_filesz > 4096) return Err(ENOEXEC);
    std::string s(p.p_filesz, '\0');
    got = TRY_ASSIGN(ReadAt(f, s.data(), s.size(), p.p_offset));
    if (got != s.size() || s.back() != '\0') return Err(ENOEXEC);
    s.pop_back();
    info.interp = s;
  }
  return info;
}

ErrorOr<MappedElf> MapElf(MemoryManager* mm, vfs::FileDescription* f, const ElfInfo& info,
                          uint64_t base, const std::string& name) {
  std::shared_ptr<Mappable> mappable = TRY_ASSIGN(f->GetMappable());
  uint64_t lo = UINT64_MAX, hi = 0;
  for (const Elf64_Phdr& p : info.phdrs) {
    if (p.p_type != PT_LOAD) continue;
    if ((p.p_vaddr % kPageSize) != (p.p_offset % kPageSize)) return Err(EINVAL);
    if (p.p_filesz > p.p_memsz) return Err(EINVAL);
    if (p.p_vaddr + p.p_memsz < p.p_vaddr) return Err(EINVAL);
    lo = std::min(lo, PageRoundDown(p.p_vaddr));
    hi = std::max(hi, p.p_vaddr + p.p_memsz);
  }
  if (lo == UINT64_MAX) return Err(ENOEXEC);
  uint64_t span;
  if (!PageRoundUp(hi - lo, &span)) return Err(ENOMEM);

  MappedElf out;
  if (info.ehdr.e_type == ET_DYN) {
    // Reserve the whole span so the segments land contiguously.
    MMapOpts r;
    r.length = span;
    r.addr = UserAddr(base);
    r.prot = PROT_NONE;
    r.fixed = base != 0;
    UserAddr at = TRY_ASSIGN(mm->MMap(r));
    out.bias = at.value() - lo;
  }
  for (const Elf64_Phdr& p : info.phdrs) {
    if (p.p_type != PT_LOAD) continue;
    int prot = ProtOf(p.p_flags);
    uint64_t start = PageRoundDown(p.p_vaddr + out.bias);
    uint64_t file_end = p.p_vaddr + out.bias + p.p_filesz;
    uint64_t mem_end = p.p_vaddr + out.bias + p.p_memsz;
    uint64_t file_map_end = 0, mem_map_end = 0;
    PageRoundUp(file_end, &file_map_end);
    PageRoundUp(mem_end, &mem_map_end);
    if (p.p_filesz > 0) {
      MMapOpts o;
      o.length = file_map_end - start;
      o.addr = UserAddr(start);
      o.fixed = true;
      o.prot = prot;
      o.mappable = mappable;
      o.offset = PageRoundDown(p.p_offset);
      o.name = name;
      TRY(mm->MMap(o));
      // The rest of the last file page belongs to .bss and must read as
      // zero, not as whatever follows in the file.
      if (p.p_memsz > p.p_filesz && (prot & PROT_WRITE) && file_map_end > file_end) {
        std::vector<uint8_t> zeros(file_map_end - file_end, 0);
        TRY(mm->CopyOut(UserAddr(file_end), zeros.data(), zeros.size()));
      }
    } else {
      file_map_end = start;
    }
    if (mem_map_end > file_map_end) {
      MMapOpts o;
      o.length = mem_map_end - file_map_end;
      o.addr = UserAddr(file_map_end);
      o.fixed = true;
      o.prot = prot;
      TRY(mm->MMap(o));
    }
    out.end = std::max(out.end, mem_end);
  }
  out.entry = info.ehdr.e_entry + out.bias;
  for (const Elf64_Phdr& p : info.phdrs) {
    if (p.p_type == PT_PHDR) out.phdr_addr = p.p_vaddr + out.bias;
  }
  if (out.phdr_addr == 0) {
    for (const Elf64_Phdr& p : info.phdrs) {
      if (p.p_type == PT_LOAD && info.ehdr.e_phoff >= p.p_offset &&
          info.ehdr.e_phoff < p.p_offset + p.p_filesz) {
        out.phdr_addr = p.p_vaddr + (info.ehdr.e_phoff - p.p_offset) + out.bias;
      }
    }
  }
  return out;
}

}  // namespace sentry
