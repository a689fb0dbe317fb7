#include "kernel/console.hpp"

#include "arch/x86_64/serial.hpp"
#include "arch/x86_64/vga.hpp"
#include "kernel/spinlock.hpp"

namespace console {
namespace {

constinit smp::Spinlock lock{"console"};
bool panic_mode = false;

constexpr std::size_t kLogCapacity = 64 * 1024;
char log_buffer[kLogCapacity];
std::size_t log_written = 0;  // total characters ever logged; the buffer is a ring

void emit_to_devices(const char* text, std::size_t length) {
    for (std::size_t i = 0; i < length; ++i) {
        char c = text[i];
        // Terminals expect CR LF; the log and the screen keep plain LF.
        if (c == '\n') {
            serial::write_char('\r');
        }
        serial::write_char(c);
        vga::write_char(c);
    }
}

void emit_raw(const char* text, std::size_t length) {
    emit_to_devices(text, length);
    for (std::size_t i = 0; i < length; ++i) {
        log_buffer[log_written % kLogCapacity] = text[i];
        ++log_written;
    }
}

class LockedSink final : public lib::Sink {
  public:
    void write(const char* text, std::size_t length) override { console::write(text, length); }
};

class UnlockedSink final : public lib::Sink {
  public:
    void write(const char* text, std::size_t length) override {
        console::write_unlocked(text, length);
    }
};

LockedSink locked_sink;
UnlockedSink raw_sink;

}  // namespace

void init() {
    serial::init();
    vga::init();
}

void write(const char* text, std::size_t length) {
    if (panic_mode) {
        emit_raw(text, length);
        return;
    }
    smp::IrqLockGuard guard(lock);
    emit_raw(text, length);
}

void write_unlocked(const char* text, std::size_t length) {
    emit_raw(text, length);
}

void enter_panic_mode() {
    panic_mode = true;
}

lib::Sink& sink() {
    return locked_sink;
}
lib::Sink& unlocked_sink() {
    return raw_sink;
}

void replay_log() {
    // To the devices only, under the lock: text written while replaying must not go into the
    // log being replayed, or the replay would never reach the end.
    smp::IrqLockGuard guard(lock);
    std::size_t end = log_written;
    std::size_t start = end > kLogCapacity ? end - kLogCapacity : 0;
    for (std::size_t i = start; i < end;) {
        std::size_t offset = i % kLogCapacity;
        std::size_t run = kLogCapacity - offset;
        if (run > end - i) {
            run = end - i;
        }
        emit_to_devices(log_buffer + offset, run);
        i += run;
    }
}

}  // namespace console
