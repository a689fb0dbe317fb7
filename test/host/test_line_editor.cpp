#include <doctest/doctest.h>

#include <string>

#include "shell/input/line_editor.hpp"

namespace {

class CapturingTerminal final : public lib::Sink {
  public:
    void write(const char* text, std::size_t length) override { output.append(text, length); }
    std::string output;
};

// Feeds bytes; returns the line when one was completed, or "<none>".
std::string type(shell::LineEditor& editor, const std::string& bytes) {
    for (char c : bytes) {
        if (editor.feed(c)) {
            return editor.line();
        }
    }
    return "<none>";
}

}  // namespace

TEST_CASE("line editor: typing, backspace and enter") {
    CapturingTerminal terminal;
    shell::LineEditor editor(terminal);
    editor.start("> ");
    CHECK(type(editor,
               "helo\x7f"
               "lo\r") == "hello");
    CHECK(terminal.output.rfind("> helo", 0) == 0);
}

TEST_CASE("line editor: cursor movement inserts in the middle") {
    CapturingTerminal terminal;
    shell::LineEditor editor(terminal);
    editor.start("> ");
    // "mm", left, insert "e": "mem"; home, right twice is harmless.
    CHECK(type(editor, "mm\x1b[De\x1b[H\x1b[C\x1b[F\r") == "mem");
}

TEST_CASE("line editor: history recalls older lines with up and newer with down") {
    CapturingTerminal terminal;
    shell::LineEditor editor(terminal);
    editor.start("> ");
    CHECK(type(editor, "first\r") == "first");
    editor.start("> ");
    CHECK(type(editor, "second\r") == "second");
    editor.start("> ");
    CHECK(type(editor, "\x1b[A\x1b[A\r") == "first");
    editor.start("> ");
    CHECK(type(editor, "\x1b[A\x1b[A\x1b[B\r") == "first");  // newest is now "first" again
    editor.start("> ");
    CHECK(type(editor, "\x1b[A\x1b[B\r") == "");
}

TEST_CASE("line editor: CR LF is one line ending, Ctrl-C drops the line, Ctrl-U clears") {
    CapturingTerminal terminal;
    shell::LineEditor editor(terminal);
    editor.start("> ");
    CHECK(type(editor, "mem\r") == "mem");
    editor.start("> ");
    CHECK(type(editor, "\ncpus\r") == "cpus");  // the LF after the previous CR is swallowed
    editor.start("> ");
    CHECK(type(editor, "junk\x03") == "");
    editor.start("> ");
    CHECK(type(editor, "junk\x15ok\r") == "ok");
}

TEST_CASE("line editor: binary garbage and over-long input never overflow") {
    CapturingTerminal terminal;
    shell::LineEditor editor(terminal);
    editor.start("> ");
    std::string garbage;
    for (int i = 0; i < 4096; ++i) {
        char c = char((i * 37 + 11) & 0xFF);
        if (c == '\r' || c == '\n' || c == 0x03) {
            c = 'x';
        }
        garbage.push_back(c);
    }
    CHECK(type(editor, garbage) == "<none>");
    std::string line = type(editor, "\r");
    CHECK(line.size() <= shell::LineEditor::kCapacity);
    for (char c : line) {
        CHECK((c >= 0x20 && c < 0x7F));
    }
}
