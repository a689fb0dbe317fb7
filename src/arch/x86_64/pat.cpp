#include "arch/x86_64/pat.hpp"

#include "arch/x86_64/cpu.hpp"

namespace pat {
namespace {

constexpr std::uint32_t kMsrPat = 0x277;
constexpr std::uint32_t kCpuidPatBit = 1u << 16;

bool programmed = false;

}  // namespace

bool supported() {
    return (cpu::cpuid(1).edx & kCpuidPatBit) != 0;
}

void program_this_cpu() {
    if (!supported()) {
        return;
    }
    cpu::write_msr(kMsrPat, kKernelTable);
    programmed = true;
}

bool write_combining_ready() {
    return programmed;
}

}  // namespace pat
