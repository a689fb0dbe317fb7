#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "shell/input/args.hpp"

namespace {

const shell::OptionSpec stress_like[] = {
    {"seconds", "S", "run time"},
    {"pattern", "NAME", "workload"},
    {"fill", nullptr, "allocate until memory is gone"},
};

}  // namespace

TEST_CASE("shell args: words, both option spellings, flags and positionals") {
    shell::Args args;
    REQUIRE(args.split("  stress --seconds=5  --pattern bulk --fill extra  "));
    REQUIRE(args.parse(stress_like, 3));
    CHECK(std::string(args.command()) == "stress");
    CHECK(std::string(args.value("seconds")) == "5");
    CHECK(std::string(args.value("pattern")) == "bulk");
    CHECK(args.has("fill"));
    CHECK_FALSE(args.has("missing"));
    REQUIRE(args.positional_count() == 1);
    CHECK(std::string(args.positional(0)) == "extra");
    std::uint64_t seconds = 0;
    CHECK(args.number("seconds", seconds));
    CHECK(seconds == 5);
}

TEST_CASE("shell args: errors name the problem") {
    shell::Args args;
    REQUIRE(args.split("stress --bogus"));
    CHECK_FALSE(args.parse(stress_like, 3));
    CHECK(std::string(args.error()).find("--bogus") != std::string::npos);

    REQUIRE(args.split("stress --seconds"));
    CHECK_FALSE(args.parse(stress_like, 3));
    CHECK(std::string(args.error()).find("needs a value") != std::string::npos);

    REQUIRE(args.split("stress --fill=yes"));
    CHECK_FALSE(args.parse(stress_like, 3));
    CHECK(std::string(args.error()).find("takes no value") != std::string::npos);

    REQUIRE(args.split("stress --seconds=soon"));
    REQUIRE(args.parse(stress_like, 3));
    std::uint64_t seconds = 7;
    CHECK_FALSE(args.number("seconds", seconds));
    CHECK(seconds == 7);
}

TEST_CASE("shell args: too many words and over-long lines are refused, not overflowed") {
    shell::Args args;
    std::string many;
    for (int i = 0; i < 40; ++i) {
        many += "w ";
    }
    CHECK_FALSE(args.split(many.c_str()));
    std::string long_line(5000, 'x');
    CHECK(args.split(long_line.c_str()));  // cut at the line capacity, one word
    CHECK(args.word_count() == 1);
    CHECK(std::string(args.word(0)).size() == shell::Args::kMaxLine);
}

TEST_CASE("shell args: empty and blank lines have no command") {
    shell::Args args;
    REQUIRE(args.split(""));
    CHECK(args.word_count() == 0);
    REQUIRE(args.split("   \t "));
    CHECK(args.word_count() == 0);
    CHECK(args.command() == nullptr);
}
