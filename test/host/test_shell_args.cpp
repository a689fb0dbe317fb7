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

TEST_CASE("shell args: positionals are counted against the usage") {
    shell::Args args;
    REQUIRE(args.split("alloc 1 2"));
    REQUIRE(args.parse(nullptr, 0));
    CHECK_FALSE(args.check_positionals("[N]"));
    CHECK(std::string(args.error()) == "unexpected '2' (usage: alloc [N])");

    REQUIRE(args.split("mem extra"));
    REQUIRE(args.parse(nullptr, 0));
    CHECK_FALSE(args.check_positionals(""));
    CHECK(std::string(args.error()) == "takes no arguments, got 'extra' (see: help mem)");

    REQUIRE(args.split("free"));
    REQUIRE(args.parse(nullptr, 0));
    CHECK_FALSE(args.check_positionals("ADDR [N]"));
    CHECK(std::string(args.error()) == "missing ADDR (usage: free ADDR [N])");

    REQUIRE(args.split("free 0x1000 2"));
    REQUIRE(args.parse(nullptr, 0));
    CHECK(args.check_positionals("ADDR [N]"));
    REQUIRE(args.split("free 0x1000"));
    REQUIRE(args.parse(nullptr, 0));
    CHECK(args.check_positionals("ADDR [N]"));
}

TEST_CASE("shell args: the unknown-option error names the command's help") {
    shell::Args args;
    REQUIRE(args.split("stress --bogus"));
    CHECK_FALSE(args.parse(stress_like, 3));
    CHECK(std::string(args.error()) == "unknown option '--bogus' (see: help stress)");
}

TEST_CASE("shell args: number_in refuses values outside the range and keeps the default") {
    shell::Args args;
    REQUIRE(args.split("stress --seconds 0"));
    REQUIRE(args.parse(stress_like, 3));
    std::uint64_t seconds = 2;
    CHECK_FALSE(args.number_in("seconds", 1, 3600, seconds));
    CHECK(seconds == 2);
    CHECK(std::string(args.error()) == "option '--seconds' takes 1..3600, not 0");
    REQUIRE(args.split("stress --seconds 5"));
    REQUIRE(args.parse(stress_like, 3));
    CHECK(args.number_in("seconds", 1, 3600, seconds));
    CHECK(seconds == 5);
    REQUIRE(args.split("stress"));
    REQUIRE(args.parse(stress_like, 3));
    CHECK(args.number_in("seconds", 1, 3600, seconds));  // absent: the default stays
    CHECK(seconds == 5);
}

TEST_CASE("shell args: number_in leaves a default outside the range alone when absent") {
    shell::Args args;
    REQUIRE(args.split("stress"));
    REQUIRE(args.parse(stress_like, 3));
    std::uint64_t seconds = 0;  // "not given" for the caller
    CHECK(args.number_in("seconds", 1, 3600, seconds));
    CHECK(seconds == 0);
}

TEST_CASE("shell args: rest() gives the line as typed from a word on") {
    shell::Args args;
    REQUIRE(args.split("on  2   alloc 1 --align=4"));
    CHECK(std::string(args.rest(2)) == "alloc 1 --align=4");
    CHECK(std::string(args.rest(1)) == "2   alloc 1 --align=4");
    CHECK(std::string(args.rest(9)).empty());
}
