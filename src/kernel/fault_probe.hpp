// Reads that may fault on purpose: a page fault at the probe's one instruction is answered by
// resuming after it with "faulted", not by a panic.
#pragma once

#include <cstdint>

struct InterruptFrame;

extern "C" bool probe_read(const void* address);

namespace fault_probe {

// Called by the page-fault path first: true if the fault was the probe's and it was resumed.
bool recover(InterruptFrame& frame);

}  // namespace fault_probe
