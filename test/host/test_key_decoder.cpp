#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "shell/input/completion.hpp"
#include "shell/input/key_decoder.hpp"

namespace {

// The keys a byte string decodes to, `none` results left out.
std::vector<shell::Key> keys(const std::string& bytes) {
    shell::KeyDecoder decoder;
    std::vector<shell::Key> out;
    for (char c : bytes) {
        shell::Key k = decoder.feed(c);
        if (k != shell::Key::none) {
            out.push_back(k);
        }
    }
    return out;
}

using K = shell::Key;

}  // namespace

TEST_CASE("key decoder: every terminal's spelling of Home, End and Delete") {
    CHECK(keys("\x1b[H") == std::vector{K::home});
    CHECK(keys("\x1b[1~") == std::vector{K::home});
    CHECK(keys("\x1b[7~") == std::vector{K::home});
    CHECK(keys("\x1bOH") == std::vector{K::home});
    CHECK(keys("\x01") == std::vector{K::home});
    CHECK(keys("\x1b[F") == std::vector{K::end});
    CHECK(keys("\x1b[4~") == std::vector{K::end});
    CHECK(keys("\x1b[8~") == std::vector{K::end});
    CHECK(keys("\x1bOF") == std::vector{K::end});
    CHECK(keys("\x05") == std::vector{K::end});
    CHECK(keys("\x1b[3~") == std::vector{K::delete_at_cursor});
}

TEST_CASE("key decoder: arrows, modifiers and unknown sequences are whole keys") {
    CHECK(keys("\x1b[A\x1b[B\x1b[C\x1b[D") == std::vector{K::up, K::down, K::right, K::left});
    // Ctrl-Right (ESC [ 1 ; 5 C) is still Right; Page Up and F5 are one ignored key each.
    CHECK(keys("\x1b[1;5C") == std::vector{K::right});
    CHECK(keys("\x1b[5~\x1b[15~") == std::vector{K::ignored, K::ignored});
    CHECK(keys("\x1bOP") == std::vector{K::ignored});  // F1
}

TEST_CASE("key decoder: control bytes and line endings") {
    CHECK(keys("\r\n") == std::vector{K::enter});
    CHECK(keys("\n\n") == std::vector{K::enter, K::enter});
    CHECK(keys("\x7f\b\t\x03\x15") ==
          std::vector{K::backspace, K::backspace, K::tab, K::interrupt, K::clear_line});
    shell::KeyDecoder decoder;
    CHECK(decoder.feed('q') == K::character);
    CHECK(decoder.character() == 'q');
    CHECK(decoder.feed(char(0xC3)) == K::ignored);
}

TEST_CASE("completion: how far every matching name agrees") {
    const char* names[] = {"stress", "stop", "mem", "help"};
    shell::Completion c = shell::complete("st", 2, names, 4);
    CHECK(c.matches == 2);
    CHECK(c.common_extension == 0);
    c = shell::complete("stre", 4, names, 4);
    CHECK(c.matches == 1);
    CHECK(std::string(c.first) == "stress");
    CHECK(c.common_extension == 2);
    c = shell::complete("", 0, names, 4);
    CHECK(c.matches == 4);
    c = shell::complete("memory", 6, names, 4);  // longer than the name: no match
    CHECK(c.matches == 0);
}
