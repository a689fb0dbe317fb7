#include "kernel/percpu.hpp"

#include "arch/x86_64/cpu.hpp"

namespace smp {
namespace {

PerCpu blocks[kMaxCpus];
std::atomic<std::uint32_t> online_count{0};

}  // namespace

PerCpu& cpu(std::uint32_t index) {
    return blocks[index];
}

std::uint32_t online_cpu_count() {
    return online_count.load(std::memory_order_acquire);
}
void install_per_cpu(PerCpu& block) {
    block.self = &block;
    cpu::write_msr(cpu::kMsrGsBase, reinterpret_cast<std::uint64_t>(&block));
}

void mark_online(PerCpu& block) {
    block.state.store(CpuState::online, std::memory_order_release);
    online_count.fetch_add(1, std::memory_order_acq_rel);
}

}  // namespace smp
