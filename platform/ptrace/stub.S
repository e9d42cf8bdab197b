// The ptrace platform's stub: the only code a stub process ever runs on its
// own. It is position independent; the Sentry copies it to a page of its
// choosing (the "stub region"), so every stub has it at the same address.
//
// Entry points (offsets from stub_start are exported to C++):
//  stub_init   first code of the master stub after fork: drops the rseq
//              registration inherited from the Sentry thread, unmaps everything
//              but the stub region and the host vDSO, closes all fds but
//              the MemoryFile, clears the signal mask, ignores SIGCHLD,
//              drops all capabilities, installs the stub seccomp filter,
//              traps (int3) to tell its tracing parent it is ready, then
//              parks.
//              %r15 = StubParams* (in the stub region's data page).
//  stub_park   untraced threads wait here (pause(2) in a loop) until a
//              Sentry thread seizes them. Uses no memory at all, so an
//              application thread in the same address space cannot
//              influence it.
//  stub_syscall  one injected syscall, then int3 back to the tracer.
//  stub_clone    an injected clone: the parent traps, the child parks.
//  stub_batch    %r12 = ops, %r13 = count: runs syscalls until one fails
//              (rax in [-4095,-1]) or all are done, then int3. Each op is
//              7 quadwords: nr, a0..a5.

    .section .text.sandbox_stub, "ax"
    .balign 4096
    .globl stub_start, stub_end, stub_init, stub_park, stub_syscall
    .globl stub_clone, stub_batch
stub_start:
stub_init:
    // ptrace(PTRACE_TRACEME): the forking Sentry thread traces us until
    // the int3 at the end of init, so it knows when init is complete.
    mov $101, %eax
    xor %edi, %edi
    xor %esi, %esi
    xor %edx, %edx
    xor %r10d, %r10d
    syscall
    // rseq(ptr, len, RSEQ_FLAG_UNREGISTER, sig): the forked thread inherits
    // glibc's rseq registration, and the kernel would fault writing the
    // rseq area once it is unmapped (SIGSEGV on the next return to user).
    mov 1024(%r15), %rdi
    test %rdi, %rdi
    jz 0f
    mov 1032(%r15), %rsi
    mov $1, %edx
    mov 1040(%r15), %r10
    mov $334, %eax
    syscall
0:  // munmap three ranges: params[0..5] = addr, len pairs (len 0 = none).
    mov 0(%r15), %rdi
    mov 8(%r15), %rsi
    test %rsi, %rsi
    jz 1f
    mov $11, %eax
    syscall
1:  mov 16(%r15), %rdi
    mov 24(%r15), %rsi
    test %rsi, %rsi
    jz 2f
    mov $11, %eax
    syscall
2:  mov 32(%r15), %rdi
    mov 40(%r15), %rsi
    test %rsi, %rsi
    jz 3f
    mov $11, %eax
    syscall
3:  // close_range(0, memfd - 1, 0); close_range(memfd + 1, ~0U, 0)
    mov 48(%r15), %rbx
    test %rbx, %rbx
    jz 4f
    xor %edi, %edi
    lea -1(%rbx), %rsi
    xor %edx, %edx
    mov $436, %eax
    syscall
4:  lea 1(%rbx), %rdi
    mov $0xffffffff, %esi
    xor %edx, %edx
    mov $436, %eax
    syscall
    // rt_sigprocmask(SIG_SETMASK, &zero_mask, NULL, 8)
    mov $14, %eax
    mov $2, %edi
    lea 88(%r15), %rsi
    xor %edx, %edx
    mov $8, %r10d
    syscall
    // rt_sigaction(SIGCHLD, &sa_ignore, NULL, 8)
    mov $13, %eax
    mov $17, %edi
    lea 56(%r15), %rsi
    xor %edx, %edx
    mov $8, %r10d
    syscall
    // prctl(PR_SET_PDEATHSIG, SIGKILL)
    mov $157, %eax
    mov $1, %edi
    mov $9, %esi
    syscall
    // capset(&hdr, &data): no capabilities at all, so a Sentry without
    // capabilities may trace us (the tracee's must be a subset).
    mov $126, %eax
    lea 1048(%r15), %rdi
    lea 1056(%r15), %rsi
    syscall
    // prctl(PR_SET_DUMPABLE, 1): the Sentry seizes stubs without CAP_SYS_PTRACE.
    mov $157, %eax
    mov $4, %edi
    mov $1, %esi
    syscall
    // prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    mov $157, %eax
    mov $38, %edi
    mov $1, %esi
    xor %edx, %edx
    xor %r10d, %r10d
    xor %r8d, %r8d
    syscall
    // seccomp(SECCOMP_SET_MODE_FILTER, 0, &fprog)
    mov $317, %eax
    mov $1, %edi
    xor %esi, %esi
    lea 96(%r15), %rdx
    syscall
    test %rax, %rax
    jnz 7f
    // Init is complete: stop for the Sentry (which then detaches), then park.
    int3
    jmp stub_park
7:  // No filter, no stub: exit_group(111) so the Sentry sees it fail.
    mov $231, %eax
    mov $111, %edi
    syscall
stub_park:
    mov $34, %eax
    syscall
    jmp stub_park
stub_syscall:
    syscall
    int3
stub_clone:
    syscall
    test %rax, %rax
    jz 5f
    int3
5:  // The child: die with the master stub, whose own parent-death signal
    // ties it to the Sentry (fork clears the setting, so set it again).
    mov $157, %eax
    mov $1, %edi
    mov $9, %esi
    syscall
    jmp stub_park
stub_batch:
    test %r13, %r13
    jz 6f
    mov 0(%r12), %rax
    mov 8(%r12), %rdi
    mov 16(%r12), %rsi
    mov 24(%r12), %rdx
    mov 32(%r12), %r10
    mov 40(%r12), %r8
    mov 48(%r12), %r9
    syscall
    cmp $-4095, %rax
    jae 6f
    add $56, %r12
    dec %r13
    jmp stub_batch
6:  int3
stub_end:
    .balign 4096
    .section .note.GNU-stack, "", @progbits
