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

TEST_CASE("line editor: Home, End and Delete as xterm, the Linux console and tmux send them") {
    CapturingTerminal terminal;
    shell::LineEditor editor(terminal);
    // ESC [ 1 ~ (Home), ESC [ 3 ~ (Delete), ESC [ 4 ~ (End).
    editor.start("> ");
    CHECK(type(editor, "xmem\x1b[1~\x1b[3~\x1b[4~!\r") == "mem!");
    // ESC O H / ESC O F (application keypad mode), ESC [ 7 ~ / 8 ~ (rxvt).
    editor.start("> ");
    CHECK(type(editor, "bc\x1bOHa\x1bOFd\x1b[7~>\x1b[8~<\r") == ">abcd<");
    // Delete at the end of the line and unknown sequences change nothing; no letter leaks in.
    editor.start("> ");
    CHECK(type(editor, "ok\x1b[3~\x1b[5~\x1b[15~\x1b[1;5H\r") == "ok");
}

TEST_CASE("line editor: a line longer than the capacity is refused with a message") {
    CapturingTerminal terminal;
    shell::LineEditor editor(terminal);
    editor.start("> ");
    std::string too_long(shell::LineEditor::kCapacity + 5, 'a');
    CHECK(type(editor, too_long + "\r") == "");
    CHECK(terminal.output.find("line longer than 200 characters; nothing was run") !=
          std::string::npos);
    // The next line is unaffected, and exactly the capacity is still accepted.
    editor.start("> ");
    std::string exact(shell::LineEditor::kCapacity, 'b');
    CHECK(type(editor, exact + "\r") == exact);
}

TEST_CASE("line editor: Tab completes the command name") {
    CapturingTerminal terminal;
    shell::LineEditor editor(terminal);
    const char* names[] = {"mem", "help", "stress", "stop-not-a-command", "alloc", "areas"};
    editor.set_completions(names, 6);
    editor.start("> ");
    CHECK(type(editor, "he\t\r") == "help ");  // one match: completed, with a space
    editor.start("> ");
    CHECK(type(editor, "st\t\r") == "st");  // "stress" and "stop-...": listed, nothing added
    CHECK(terminal.output.find("stress  stop-not-a-command") != std::string::npos);
    editor.start("> ");
    CHECK(type(editor, "a\tl\t\r") == "alloc ");  // "a" lists; "al" completes
    editor.start("> ");
    CHECK(type(editor, "mem x\t\r") == "mem x");  // only the first word completes
    editor.start("> ");
    CHECK(type(editor, "zz\t\r") == "zz");
}
