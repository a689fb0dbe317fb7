// The kernel's TLB shootdown: the protocol of vm/shootdown.hpp with the kernel's answers (GS
// CPU index, online CPUs, invlpg, TSC time, a panic for a CPU that never answers). Sending the
// IPI needs the local APIC, which sits a layer up in src/smp/: it registers the sender here.
#pragma once

#include <cstdint>

#include "vm/flush_batch.hpp"
#include "vm/shootdown.hpp"

namespace tlb {

// Set by smp once the local APIC works; until then no other CPU is online to be told.
void set_ipi_sender(void (*send)(std::uint32_t cpu_index));

// Flushes the batch on this CPU and every other online CPU; returns when all have.
void flush(const vm::FlushBatch& batch);

// Flushes for another CPU's round if one waits for this CPU. The IPI handler calls it, and so
// does every loop that may spin with interrupts off (spinlock waits, run_on_cpus, the shell's
// input loop), which is how a CPU with interrupts off still answers.
bool service();

// An AP coming online: its TLB is empty, so it owes no earlier round an answer.
void join();

// This CPU's whole TLB, global entries included.
void flush_all_here();

vm::ShootdownCounters counters(std::uint32_t cpu_index);
// The counters of CPUs 0..cpus-1 added up.
vm::ShootdownCounters totals(std::uint32_t cpus);

}  // namespace tlb
