#include "shell/input/line_editor.hpp"

#include "lib/string.hpp"

namespace shell {

void LineEditor::start(const char* prompt) {
    prompt_ = prompt;
    length_ = cursor_ = 0;
    line_[0] = '\0';
    escape_ = Escape::none;
    browsing_ = 0;
    lib::format(terminal_, "{}", prompt_);
}

void LineEditor::move_cursor_left(std::size_t count) {
    if (count > 0) {
        lib::format(terminal_, "\x1b[{}D", count);
    }
}

void LineEditor::move_cursor_right(std::size_t count) {
    if (count > 0) {
        lib::format(terminal_, "\x1b[{}C", count);
    }
}

// Rewrites the whole line: simplest correct answer for edits in the middle of a line.
void LineEditor::redraw() {
    lib::format(terminal_, "\r{}{}\x1b[K", prompt_, lib::StringView{line_, length_});
    move_cursor_left(length_ - cursor_);
}

void LineEditor::insert(char c) {
    if (length_ == kCapacity) {
        return;  // a full line takes no more; the user sees the characters not echoed
    }
    for (std::size_t i = length_; i > cursor_; --i) {
        line_[i] = line_[i - 1];
    }
    line_[cursor_++] = c;
    line_[++length_] = '\0';
    if (cursor_ == length_) {
        terminal_.write(&c, 1);  // the common case: typing at the end just echoes
    } else {
        redraw();
    }
}

void LineEditor::erase_before_cursor() {
    if (cursor_ == 0) {
        return;
    }
    for (std::size_t i = cursor_ - 1; i < length_; ++i) {
        line_[i] = line_[i + 1];
    }
    --cursor_;
    --length_;
    if (cursor_ == length_) {
        lib::format(terminal_, "\b \b");
    } else {
        redraw();
    }
}

void LineEditor::remember() {
    if (length_ == 0) {
        return;
    }
    if (history_count_ > 0) {
        const char* newest = history_[(history_count_ - 1) % kHistory];
        if (lib::strings_equal(newest, line_)) {
            return;  // repeating a command does not fill the history with copies
        }
    }
    lib::copy_memory(history_[history_count_ % kHistory], line_, length_ + 1);
    ++history_count_;
}

void LineEditor::recall(int direction) {
    std::size_t available = history_count_ < kHistory ? history_count_ : kHistory;
    std::size_t target = browsing_;
    if (direction < 0 && browsing_ < available) {
        ++target;
    } else if (direction > 0 && browsing_ > 0) {
        --target;
    }
    if (target == browsing_) {
        return;
    }
    browsing_ = target;
    if (browsing_ == 0) {
        length_ = 0;
    } else {
        const char* entry = history_[(history_count_ - browsing_) % kHistory];
        length_ = lib::string_length(entry);
        lib::copy_memory(line_, entry, length_);
    }
    line_[length_] = '\0';
    cursor_ = length_;
    redraw();
}

bool LineEditor::feed(char byte) {
    auto c = static_cast<unsigned char>(byte);
    // A terminal may end a line with CR LF: the LF after a CR is the same line ending.
    bool after_carriage_return = last_was_carriage_return_;
    last_was_carriage_return_ = c == '\r';
    if (c == '\n' && after_carriage_return) {
        return false;
    }
    if (escape_ == Escape::escape) {
        escape_ = c == '[' ? Escape::bracket : Escape::none;
        return false;
    }
    if (escape_ == Escape::bracket) {
        // Parameters (digits, ';') may come before the final letter; wait for the letter.
        if ((c >= '0' && c <= '9') || c == ';') {
            return false;
        }
        escape_ = Escape::none;
        switch (c) {
            case 'A':
                recall(-1);
                break;
            case 'B':
                recall(+1);
                break;
            case 'C':
                if (cursor_ < length_) {
                    ++cursor_;
                    move_cursor_right(1);
                }
                break;
            case 'D':
                if (cursor_ > 0) {
                    --cursor_;
                    move_cursor_left(1);
                }
                break;
            case 'H':
                move_cursor_left(cursor_);
                cursor_ = 0;
                break;
            case 'F':
                move_cursor_right(length_ - cursor_);
                cursor_ = length_;
                break;
            default:
                break;  // other sequences (function keys, ...) mean nothing here
        }
        return false;
    }
    switch (c) {
        case '\r':
        case '\n':
            terminal_.write("\n", 1);
            remember();
            return true;
        case 0x7F:  // DEL, what most terminals send for backspace
        case '\b':
            erase_before_cursor();
            return false;
        case 0x1B:
            escape_ = Escape::escape;
            return false;
        case 0x01:  // Ctrl-A
            move_cursor_left(cursor_);
            cursor_ = 0;
            return false;
        case 0x05:  // Ctrl-E
            move_cursor_right(length_ - cursor_);
            cursor_ = length_;
            return false;
        case 0x03:  // Ctrl-C: abandon the line
            lib::format(terminal_, "^C\n");
            length_ = cursor_ = 0;
            line_[0] = '\0';
            return true;
        case 0x15:  // Ctrl-U: clear the line
            length_ = cursor_ = 0;
            line_[0] = '\0';
            redraw();
            return false;
        default:
            if (c >= 0x20 && c < 0x7F) {
                insert(char(c));
            }
            return false;  // other control bytes and non-ASCII bytes are ignored
    }
}

}  // namespace shell
