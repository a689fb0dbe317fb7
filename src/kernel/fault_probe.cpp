#include "kernel/fault_probe.hpp"

#include "arch/x86_64/interrupt_frame.hpp"

extern "C" char probe_read_access[], probe_read_resume[];

namespace fault_probe {

bool recover(InterruptFrame& frame) {
    if (frame.rip != reinterpret_cast<std::uint64_t>(probe_read_access)) {
        return false;
    }
    frame.rax = 0;
    frame.rip = reinterpret_cast<std::uint64_t>(probe_read_resume);
    return true;
}

}  // namespace fault_probe
