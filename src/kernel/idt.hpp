// The interrupt descriptor table, shared by all CPUs. CPU exceptions end in a panic report;
// vectors from 32 up are dispatched to handlers that drivers register.
#pragma once

#include <cstdint>

struct InterruptFrame;

namespace idt {

using Handler = void (*)(InterruptFrame& frame);

inline constexpr std::uint8_t kDoubleFaultStack = 1;  // IST index used for #DF

void init();
void load();  // on each CPU, after init() built the table
void set_handler(std::uint8_t vector, Handler handler);

}  // namespace idt
