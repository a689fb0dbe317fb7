#include "shell/input/line_editor.hpp"

#include "lib/string.hpp"
#include "shell/input/completion.hpp"

namespace shell {

void LineEditor::start(const char* prompt) {
    prompt_ = prompt;
    length_ = cursor_ = 0;
    line_[0] = '\0';
    overflowed_ = false;
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
        if (!overflowed_) {
            terminal_.write("\a", 1);  // the bell, once: the line is full
        }
        overflowed_ = true;
        return;
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

void LineEditor::erase_at_cursor() {
    if (cursor_ == length_) {
        return;
    }
    for (std::size_t i = cursor_; i < length_; ++i) {
        line_[i] = line_[i + 1];
    }
    --length_;
    redraw();
}

// Completes the first word when the cursor is at its end: one match is written out with a
// space after it; several are extended as far as they agree, and listed when they agree no
// further.
void LineEditor::complete_word() {
    for (std::size_t i = 0; i < cursor_; ++i) {
        if (line_[i] == ' ') {
            return;  // only command names are completed
        }
    }
    if (cursor_ != length_ && line_[cursor_] != ' ') {
        return;
    }
    Completion c = complete(line_, cursor_, completions_, completion_count_);
    if (c.matches == 0) {
        terminal_.write("\a", 1);
        return;
    }
    const char* rest = c.first + cursor_;
    for (std::size_t i = 0; i < c.common_extension; ++i) {
        insert(rest[i]);
    }
    if (c.matches == 1) {
        if (cursor_ == length_) {
            insert(' ');
        }
        return;
    }
    if (c.common_extension > 0) {
        return;
    }
    terminal_.write("\n", 1);
    for (std::size_t i = 0; i < completion_count_; ++i) {
        if (complete(line_, cursor_, &completions_[i], 1).matches == 1) {
            lib::format(terminal_, "{}  ", completions_[i]);
        }
    }
    terminal_.write("\n", 1);
    redraw();
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

bool LineEditor::finish_line() {
    terminal_.write("\n", 1);
    if (overflowed_) {
        // Running the first 200 characters of a longer line could do something not asked for.
        lib::format(terminal_, "error: line longer than {} characters; nothing was run\n",
                    kCapacity);
        length_ = cursor_ = 0;
        line_[0] = '\0';
        return true;
    }
    remember();
    return true;
}

bool LineEditor::feed(char byte) {
    switch (keys_.feed(byte)) {
        case Key::none:
        case Key::ignored:
            return false;
        case Key::character:
            insert(keys_.character());
            return false;
        case Key::enter:
            return finish_line();
        case Key::backspace:
            erase_before_cursor();
            return false;
        case Key::delete_at_cursor:
            erase_at_cursor();
            return false;
        case Key::left:
            if (cursor_ > 0) {
                --cursor_;
                move_cursor_left(1);
            }
            return false;
        case Key::right:
            if (cursor_ < length_) {
                ++cursor_;
                move_cursor_right(1);
            }
            return false;
        case Key::up:
            recall(-1);
            return false;
        case Key::down:
            recall(+1);
            return false;
        case Key::home:
            move_cursor_left(cursor_);
            cursor_ = 0;
            return false;
        case Key::end:
            move_cursor_right(length_ - cursor_);
            cursor_ = length_;
            return false;
        case Key::tab:
            complete_word();
            return false;
        case Key::interrupt:  // Ctrl-C: abandon the line
            lib::format(terminal_, "^C\n");
            length_ = cursor_ = 0;
            line_[0] = '\0';
            return true;
        case Key::clear_line:
            length_ = cursor_ = 0;
            line_[0] = '\0';
            overflowed_ = false;
            redraw();
            return false;
    }
    return false;
}

}  // namespace shell
