// The little a freestanding C++ kernel needs from a runtime: global constructors, the memory
// functions the compiler may call on its own, and answers to hooks we never use.
#include <cstddef>
#include <cstdint>

#include "kernel/panic.hpp"

extern "C" {

using Constructor = void (*)();
extern Constructor __init_array_start[];
extern Constructor __init_array_end[];

void run_global_constructors() {
    for (Constructor* c = __init_array_start; c != __init_array_end; ++c) {
        (*c)();
    }
}

// GCC emits calls to these even with -ffreestanding (struct copies, zero-initialisation).
void* memcpy(void* destination, const void* source, std::size_t length) {
    auto* d = static_cast<unsigned char*>(destination);
    auto* s = static_cast<const unsigned char*>(source);
    asm volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(length) : : "memory");
    return destination;
}

void* memset(void* destination, int value, std::size_t length) {
    auto* d = static_cast<unsigned char*>(destination);
    asm volatile("rep stosb" : "+D"(d), "+c"(length) : "a"(value) : "memory");
    return destination;
}

void* memmove(void* destination, const void* source, std::size_t length) {
    auto* d = static_cast<unsigned char*>(destination);
    auto* s = static_cast<const unsigned char*>(source);
    if (d < s) {
        return memcpy(destination, source, length);
    }
    while (length-- > 0) {
        d[length] = s[length];
    }
    return destination;
}

int memcmp(const void* a, const void* b, std::size_t length) {
    auto* x = static_cast<const unsigned char*>(a);
    auto* y = static_cast<const unsigned char*>(b);
    for (std::size_t i = 0; i < length; ++i) {
        if (x[i] != y[i]) {
            return x[i] < y[i] ? -1 : 1;
        }
    }
    return 0;
}

void __cxa_pure_virtual() {
    PANIC("pure virtual function called");
}

// Destructors of globals never run: the kernel does not exit.
int __cxa_atexit(void (*)(void*), void*, void*) {
    return 0;
}
void* __dso_handle = nullptr;

}  // extern "C"
