/* probe_read: reads the 8 bytes at an address and says whether that faulted, instead of
 * panicking. The page-fault handler recognises a fault at probe_read_access (fault_probe.cpp)
 * and resumes at probe_read_resume with RAX = 0. Used to check that an unmapped address really
 * faults on a CPU (a stale TLB entry would let the read through). */
.section .text
.global probe_read
.global probe_read_access
.global probe_read_resume
probe_read:                 /* bool probe_read(const void* address) */
    mov $1, %eax
probe_read_access:
    mov (%rdi), %rdx
probe_read_resume:
    ret
