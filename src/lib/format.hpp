// Type-safe formatted output for a kernel without libc: `format(sink, "{} frames at {:#x}", n, a)`.
//
// Placeholders are `{}` or `{:spec}` with spec = ['#'][fill-zero '0'][align '<' or
// '>'][width][type], type one of d (decimal), x/X (hex), b (binary), c (character), p (pointer);
// '#' (first, as in std::format, or just before the type) adds the 0x/0b prefix. `{{` prints a
// brace. Types are checked by the compiler through the argument list, so a wrong type cannot read
// garbage the way printf's varargs can.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>

namespace lib {

// Where formatted text goes: the serial port, the screen, a buffer.
class Sink {
  public:
    virtual void write(const char* text, std::size_t length) = 0;

  protected:
    ~Sink() = default;
};

// A byte count printed with a binary unit: `Bytes{3 << 20}` prints "3 MiB", `Bytes{1536}` "1.5
// KiB".
struct Bytes {
    std::uint64_t count;
};

// A string that need not be NUL-terminated.
struct StringView {
    const char* text;
    std::size_t length;
};

struct FormatArg {
    enum class Kind : std::uint8_t {
        signed_int,
        unsigned_int,
        boolean,
        character,
        string,
        view,
        pointer,
        bytes
    };
    Kind kind;
    union {
        std::int64_t signed_value;
        std::uint64_t unsigned_value;
        const char* string;
        StringView view;
        const void* pointer;
    };

    template <std::signed_integral T>
    requires(!std::same_as<T, char>) constexpr FormatArg(T value)
        : kind(Kind::signed_int), signed_value(value) {}
    template <std::unsigned_integral T>
    requires(!std::same_as<T, bool>) constexpr FormatArg(T value)
        : kind(Kind::unsigned_int), unsigned_value(value) {}
    constexpr FormatArg(bool value) : kind(Kind::boolean), unsigned_value(value) {}
    constexpr FormatArg(char value) : kind(Kind::character), unsigned_value(std::uint8_t(value)) {}
    constexpr FormatArg(const char* value) : kind(Kind::string), string(value) {}
    constexpr FormatArg(StringView value) : kind(Kind::view), view(value) {}
    constexpr FormatArg(const void* value) : kind(Kind::pointer), pointer(value) {}
    constexpr FormatArg(Bytes value) : kind(Kind::bytes), unsigned_value(value.count) {}
};

void vformat(Sink& sink, const char* pattern, const FormatArg* args, std::size_t count);

template <typename... Args>
void format(Sink& sink, const char* pattern, const Args&... args) {
    const FormatArg list[sizeof...(Args) + 1] = {FormatArg(args)..., FormatArg(false)};
    vformat(sink, pattern, list, sizeof...(Args));
}

// Formats into a fixed buffer, always NUL-terminated, silently truncating; `length()` tells
// how much was kept.
class BufferSink final : public Sink {
  public:
    BufferSink(char* buffer, std::size_t capacity) : buffer_(buffer), capacity_(capacity) {
        if (capacity_ > 0) {
            buffer_[0] = '\0';
        }
    }
    void write(const char* text, std::size_t length) override;
    std::size_t length() const { return length_; }
    const char* c_str() const { return buffer_; }

  private:
    char* buffer_;
    std::size_t capacity_;
    std::size_t length_ = 0;
};

template <typename... Args>
std::size_t format_to(char* buffer, std::size_t capacity, const char* pattern,
                      const Args&... args) {
    BufferSink sink(buffer, capacity);
    format(sink, pattern, args...);
    return sink.length();
}

}  // namespace lib
