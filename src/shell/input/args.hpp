// One argument parser for every shell command: a line is split into words, and words are
// matched against the command's declared options (`--key=value`, `--key value`, `--flag`); the
// rest are positional. Errors come back as a message for the user, never as a crash.
#pragma once

#include <cstddef>
#include <cstdint>

#include "lib/format.hpp"

namespace shell {

struct OptionSpec {
    const char* name;        // without the leading dashes
    const char* value_name;  // nullptr for a flag that takes no value
    const char* help;
};

class Args {
  public:
    static constexpr std::size_t kMaxWords = 24;
    static constexpr std::size_t kMaxLine = 256;

    // Splits `line` (copied) into words; false with an error() when the line has too many words.
    bool split(const char* line);
    // Matches words 1.. against `options`; false with an error() for unknown options, missing
    // values or values given to flags.
    bool parse(const OptionSpec* options, std::size_t option_count);
    // Checks the positionals against a usage string such as "ADDR [N]": every bare word is
    // required, every bracketed one optional, and nothing more is accepted. False with an
    // error() naming the missing or extra word, so no command silently ignores input.
    bool check_positionals(const char* usage);

    std::size_t word_count() const { return word_count_; }
    const char* word(std::size_t i) const { return i < word_count_ ? words_[i] : nullptr; }
    const char* command() const { return word(0); }
    // The line as typed from word `i` on (for a prefix such as `on CPU COMMAND...`); "" past
    // the last word.
    const char* rest(std::size_t i) const { return i < word_count_ ? line_ + offsets_[i] : ""; }

    std::size_t positional_count() const { return positional_count_; }
    const char* positional(std::size_t i) const {
        return i < positional_count_ ? positional_[i] : nullptr;
    }

    bool has(const char* option) const;
    const char* value(const char* option) const;  // nullptr when absent
    // False with an error() when present but not a number; `out` keeps its default if absent.
    bool number(const char* option, std::uint64_t& out);
    // As number(), and false with an error() naming the range when outside [min, max].
    bool number_in(const char* option, std::uint64_t min, std::uint64_t max, std::uint64_t& out);
    bool positional_number(std::size_t i, std::uint64_t& out);

    const char* error() const { return error_; }

  private:
    struct Found {
        const OptionSpec* spec;
        const char* value;
    };

    const OptionSpec* find(const char* name, std::size_t length) const;
    template <typename... Values>
    void set_error(const char* pattern, const Values&... values) {
        lib::format_to(error_, sizeof(error_), pattern, values...);
    }

    char buffer_[kMaxLine + 1] = {};
    char line_[kMaxLine + 1] = {};  // an unsplit copy, for rest()
    const char* words_[kMaxWords] = {};
    std::size_t offsets_[kMaxWords] = {};
    std::size_t word_count_ = 0;
    const char* positional_[kMaxWords] = {};
    std::size_t positional_count_ = 0;
    Found found_[kMaxWords] = {};
    std::size_t found_count_ = 0;
    const OptionSpec* options_ = nullptr;
    std::size_t option_count_ = 0;
    char error_[160] = {};
};

}  // namespace shell
