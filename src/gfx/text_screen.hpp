// The text of a screen console as a grid of cells, apart from any pixels: what each cell should
// show (character and colour) and what was last drawn, so that a flush redraws only the cells
// that changed. Writing follows a terminal: newline, carriage return, backspace, the three
// escape sequences the shell's line editor sends (cursor left, right, erase to end of line),
// lines that wrap at the last space rather than mid-word, and scrolling. Lines get colours from
// their shape: a log prefix ("mem:"), the shell prompt, and lines that report errors.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gfx {

enum class Tone : std::uint8_t { text, prefix, prompt, alert };
inline constexpr std::size_t kToneCount = 4;

struct Cell {
    char character = ' ';
    Tone tone = Tone::text;
    friend constexpr bool operator==(Cell, Cell) = default;
};

class TextScreen {
  public:
    static constexpr std::uint32_t kMaxColumns = 256;
    static constexpr std::uint32_t kMaxRows = 128;

    // Empties the grid and sizes it (clamped to the maximum); everything is drawn at next flush.
    void reset(std::uint32_t columns, std::uint32_t rows);
    // Changes the number of rows in use (for a panel below the text), scrolling the text up when
    // the cursor would fall outside; the rows given up or gained are drawn again at next flush.
    void set_rows(std::uint32_t rows);
    void write(char c);

    std::uint32_t columns() const { return columns_; }
    std::uint32_t rows() const { return rows_; }
    std::uint32_t cursor_column() const { return column_; }
    std::uint32_t cursor_row() const { return row_; }
    Cell at(std::uint32_t column, std::uint32_t row) const { return wanted_[row][column]; }

    // Calls draw(column, row, cell) for every cell in use whose wanted content differs from what
    // was last drawn there, and records it as drawn. Returns how many cells it drew.
    template <typename Draw>
    std::size_t flush(Draw&& draw) {
        std::size_t drawn = 0;
        for (std::uint32_t row = 0; row < rows_; ++row) {
            if (valid_[row] && !dirty_[row]) {
                continue;
            }
            for (std::uint32_t column = 0; column < columns_; ++column) {
                Cell cell = wanted_[row][column];
                if (!(cell == shown_[row][column]) || !valid_[row]) {
                    draw(column, row, cell);
                    shown_[row][column] = cell;
                    ++drawn;
                }
            }
            valid_[row] = true;
            dirty_[row] = false;
        }
        return drawn;
    }

  private:
    enum class Escape : std::uint8_t { none, started, csi };

    void put(char c);
    void new_line();
    void scroll();
    void wrap();
    void end_logical_line();
    void run_escape(char final, std::uint32_t count);
    void recolour(std::uint32_t from_row, std::uint32_t from_column, std::uint32_t to_row,
                  std::uint32_t to_column, Tone from, Tone to);

    std::uint32_t columns_ = 0;
    std::uint32_t rows_ = 0;
    std::uint32_t column_ = 0;
    std::uint32_t row_ = 0;
    Escape escape_ = Escape::none;
    std::uint32_t escape_count_ = 0;
    // The logical line being written (it may span wrapped rows): where it starts, how long it
    // is, and whether it is still a candidate for a "word:" prefix.
    std::uint32_t line_row_ = 0;
    std::uint32_t line_length_ = 0;
    bool line_is_word_ = true;
    Cell wanted_[kMaxRows][kMaxColumns];
    Cell shown_[kMaxRows][kMaxColumns];
    bool valid_[kMaxRows] = {};  // false: draw the row whole at the next flush
    bool dirty_[kMaxRows] = {};  // true: some cell of the row may have changed since the flush
};

}  // namespace gfx
