#include "gfx/text_screen.hpp"

namespace gfx {
namespace {

constexpr std::uint32_t kLongestPrefix = 16;  // "symbols:", "paging:": log prefixes are short
// A wrapped line moves its last word to the next row only when the word is shorter than this
// share of a row: a long token (a path, a row of hex) is cut where the row ends.
constexpr std::uint32_t kLongestMovedWordDivisor = 3;
constexpr const char* kAlertWords[] = {"PANIC", "FATAL", "error:", "BROKEN"};

bool is_word_character(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

}  // namespace

void TextScreen::reset(std::uint32_t columns, std::uint32_t rows) {
    columns_ = columns < kMaxColumns ? columns : kMaxColumns;
    rows_ = rows < kMaxRows ? rows : kMaxRows;
    for (std::uint32_t row = 0; row < kMaxRows; ++row) {
        for (Cell& cell : wanted_[row]) {
            cell = Cell{};
        }
        valid_[row] = false;
    }
    column_ = row_ = line_row_ = line_length_ = 0;
    line_is_word_ = true;
    escape_ = Escape::none;
}

void TextScreen::set_rows(std::uint32_t rows) {
    if (rows == 0) {
        rows = 1;
    }
    rows = rows < kMaxRows ? rows : kMaxRows;
    while (row_ >= rows) {
        scroll();
    }
    for (std::uint32_t row = rows_ < rows ? rows_ : rows; row < kMaxRows; ++row) {
        valid_[row] = false;
        if (row >= rows) {
            for (Cell& cell : wanted_[row]) {
                cell = Cell{};
            }
        }
    }
    rows_ = rows;
}

void TextScreen::write(char c) {
    if (columns_ == 0 || rows_ == 0) {
        return;
    }
    if (escape_ == Escape::started) {
        escape_ = c == '[' ? Escape::csi : Escape::none;
        escape_count_ = 0;
        return;
    }
    if (escape_ == Escape::csi) {
        if (c >= '0' && c <= '9') {
            escape_count_ = escape_count_ * 10 + std::uint32_t(c - '0');
            if (escape_count_ > kMaxColumns) {
                escape_count_ = kMaxColumns;
            }
        } else if (c >= 0x40 && c <= 0x7e) {
            escape_ = Escape::none;
            run_escape(c, escape_count_ == 0 ? 1 : escape_count_);
        }
        return;
    }
    switch (c) {
        case '\n':
            end_logical_line();
            new_line();
            line_row_ = row_;
            return;
        case '\r':
            column_ = 0;
            return;
        case '\b':
            if (column_ > 0) {
                --column_;
            }
            return;
        case '\x1b':
            escape_ = Escape::started;
            return;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                return;
            }
            put(c);
    }
}

void TextScreen::put(char c) {
    if (column_ == columns_) {
        wrap();
    }
    Tone tone = Tone::text;
    if (row_ == line_row_ && column_ == 1 && c == ' ' && wanted_[row_][0].character == '>') {
        wanted_[row_][0].tone = Tone::prompt;
        tone = Tone::prompt;
    }
    wanted_[row_][column_++] = Cell{c, tone};
    dirty_[row_] = true;
    ++line_length_;
    if (c == ':' && line_is_word_ && line_length_ > 1 && line_length_ <= kLongestPrefix &&
        row_ == line_row_) {
        recolour(line_row_, 0, row_, column_, Tone::text, Tone::prefix);
        line_is_word_ = false;
    } else if (!is_word_character(c)) {
        line_is_word_ = false;
    }
}

// The row is full: continue on the next one, taking the last partial word along when short.
void TextScreen::wrap() {
    std::uint32_t space = columns_;
    while (space > 0 && wanted_[row_][space - 1].character != ' ') {
        --space;
    }
    std::uint32_t moved = columns_ - space;
    bool move_word = space > 0 && moved > 0 && moved < columns_ / kLongestMovedWordDivisor;
    Cell word[kMaxColumns];
    if (move_word) {
        dirty_[row_] = true;
        for (std::uint32_t i = 0; i < moved; ++i) {
            word[i] = wanted_[row_][space + i];
            wanted_[row_][space + i] = Cell{};
        }
    }
    new_line();
    if (move_word) {
        dirty_[row_] = true;
        for (std::uint32_t i = 0; i < moved; ++i) {
            wanted_[row_][i] = word[i];
        }
        column_ = moved;
    }
}

void TextScreen::new_line() {
    column_ = 0;
    if (++row_ == rows_) {
        scroll();
    }
}

void TextScreen::scroll() {
    for (std::uint32_t row = 1; row < rows_; ++row) {
        for (std::uint32_t column = 0; column < columns_; ++column) {
            wanted_[row - 1][column] = wanted_[row][column];
        }
    }
    for (std::uint32_t column = 0; column < columns_; ++column) {
        wanted_[rows_ - 1][column] = Cell{};
    }
    for (std::uint32_t row = 0; row < rows_; ++row) {
        dirty_[row] = true;
    }
    if (row_ > 0) {
        --row_;
    }
    if (line_row_ > 0) {
        --line_row_;
    }
}

// At a newline: a line that reports a failure turns red, whole, wrapped rows included.
void TextScreen::end_logical_line() {
    for (const char* word : kAlertWords) {
        for (std::uint32_t row = line_row_; row <= row_; ++row) {
            std::uint32_t end = row == row_ ? column_ : columns_;
            for (std::uint32_t column = 0; column < end; ++column) {
                std::uint32_t i = 0;
                while (word[i] != '\0' && column + i < end &&
                       wanted_[row][column + i].character == word[i]) {
                    ++i;
                }
                if (word[i] == '\0') {
                    recolour(line_row_, 0, row_, column_, Tone::text, Tone::alert);
                    recolour(line_row_, 0, row_, column_, Tone::prefix, Tone::alert);
                    goto done;
                }
            }
        }
    }
done:
    line_length_ = 0;
    line_is_word_ = true;
}

void TextScreen::run_escape(char final, std::uint32_t count) {
    switch (final) {
        case 'D':  // cursor left
            column_ = count > column_ ? 0 : column_ - count;
            break;
        case 'C':  // cursor right
            column_ = column_ + count > columns_ ? columns_ : column_ + count;
            break;
        case 'K':  // erase to the end of the line
            dirty_[row_] = true;
            for (std::uint32_t column = column_; column < columns_; ++column) {
                wanted_[row_][column] = Cell{};
            }
            break;
        default:  // colours and other sequences are for the serial terminal
            break;
    }
}

void TextScreen::recolour(std::uint32_t from_row, std::uint32_t from_column, std::uint32_t to_row,
                          std::uint32_t to_column, Tone from, Tone to) {
    for (std::uint32_t row = from_row; row <= to_row; ++row) {
        dirty_[row] = true;
        std::uint32_t begin = row == from_row ? from_column : 0;
        std::uint32_t end = row == to_row ? to_column : columns_;
        for (std::uint32_t column = begin; column < end; ++column) {
            if (wanted_[row][column].tone == from) {
                wanted_[row][column].tone = to;
            }
        }
    }
}

}  // namespace gfx
