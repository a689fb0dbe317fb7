#include "shell/input/args.hpp"

#include "lib/format.hpp"
#include "lib/string.hpp"

namespace shell {

bool Args::split(const char* line) {
    std::size_t length = lib::string_length_bounded(line, kMaxLine);
    lib::copy_memory(buffer_, line, length);
    buffer_[length] = '\0';
    lib::copy_memory(line_, line, length);
    line_[length] = '\0';
    word_count_ = 0;
    error_[0] = '\0';
    char* p = buffer_;
    while (*p != '\0') {
        while (*p == ' ' || *p == '\t') {
            *p++ = '\0';
        }
        if (*p == '\0') {
            break;
        }
        if (word_count_ == kMaxWords) {
            set_error("too many words on one line");
            return false;
        }
        offsets_[word_count_] = std::size_t(p - buffer_);
        words_[word_count_++] = p;
        while (*p != '\0' && *p != ' ' && *p != '\t') {
            ++p;
        }
    }
    return true;
}

const OptionSpec* Args::find(const char* name, std::size_t length) const {
    for (std::size_t i = 0; i < option_count_; ++i) {
        const char* candidate = options_[i].name;
        if (lib::string_length(candidate) == length &&
            __builtin_memcmp(candidate, name, length) == 0) {
            return &options_[i];
        }
    }
    return nullptr;
}

bool Args::parse(const OptionSpec* options, std::size_t option_count) {
    options_ = options;
    option_count_ = option_count;
    positional_count_ = 0;
    found_count_ = 0;
    for (std::size_t i = 1; i < word_count_; ++i) {
        const char* word = words_[i];
        if (word[0] != '-' || word[1] != '-' || word[2] == '\0') {
            positional_[positional_count_++] = word;
            continue;
        }
        const char* name = word + 2;
        const char* equals = name;
        while (*equals != '\0' && *equals != '=') {
            ++equals;
        }
        const OptionSpec* spec = find(name, std::size_t(equals - name));
        if (spec == nullptr) {
            set_error("unknown option '{}' (see: help {})", word, command());
            return false;
        }
        const char* value = nullptr;
        if (spec->value_name == nullptr) {
            if (*equals == '=') {
                set_error("option '--{}' takes no value", spec->name);
                return false;
            }
        } else if (*equals == '=') {
            value = equals + 1;
        } else if (i + 1 < word_count_) {
            value = words_[++i];
        } else {
            set_error("option '--{}' needs a value", spec->name);
            return false;
        }
        found_[found_count_++] = {spec, value};
    }
    return true;
}

bool Args::has(const char* option) const {
    for (std::size_t i = 0; i < found_count_; ++i) {
        if (lib::strings_equal(found_[i].spec->name, option)) {
            return true;
        }
    }
    return false;
}

const char* Args::value(const char* option) const {
    // The last occurrence wins, as in most command-line tools.
    const char* result = nullptr;
    for (std::size_t i = 0; i < found_count_; ++i) {
        if (lib::strings_equal(found_[i].spec->name, option)) {
            result = found_[i].value;
        }
    }
    return result;
}

bool Args::number(const char* option, std::uint64_t& out) {
    const char* text = value(option);
    if (text == nullptr) {
        return true;
    }
    if (!lib::parse_unsigned(text, out)) {
        set_error("option '--{}' needs a number", option);
        return false;
    }
    return true;
}

bool Args::number_in(const char* option, std::uint64_t min, std::uint64_t max, std::uint64_t& out) {
    if (value(option) == nullptr) {
        return true;  // absent: the caller's default stands, whatever it is
    }
    std::uint64_t given = out;
    if (!number(option, given)) {
        return false;
    }
    if (given < min || given > max) {
        set_error("option '--{}' takes {}..{}, not {}", option, min, max, given);
        return false;
    }
    out = given;
    return true;
}

bool Args::check_positionals(const char* usage) {
    std::size_t required = 0, allowed = 0;
    const char* first_missing = nullptr;
    std::size_t first_missing_length = 0;
    for (const char* p = usage; *p != '\0';) {
        while (*p == ' ') {
            ++p;
        }
        if (*p == '\0') {
            break;
        }
        const char* start = p;
        while (*p != '\0' && *p != ' ') {
            ++p;
        }
        if (*start != '[') {
            if (required == positional_count_ && first_missing == nullptr) {
                first_missing = start;
                first_missing_length = std::size_t(p - start);
            }
            ++required;
        }
        ++allowed;
    }
    if (positional_count_ < required) {
        set_error("missing {} (usage: {} {})", lib::StringView{first_missing, first_missing_length},
                  command(), usage);
        return false;
    }
    if (positional_count_ > allowed) {
        if (allowed == 0) {
            set_error("takes no arguments, got '{}' (see: help {})", positional_[allowed],
                      command());
        } else {
            set_error("unexpected '{}' (usage: {} {})", positional_[allowed], command(), usage);
        }
        return false;
    }
    return true;
}

bool Args::positional_number(std::size_t i, std::uint64_t& out) {
    const char* text = positional(i);
    if (text == nullptr || !lib::parse_unsigned(text, out)) {
        set_error("expected a number, got '{}'", text ? text : "");
        return false;
    }
    return true;
}

}  // namespace shell
