#include "acpi_test_support.hpp"

using namespace acpi_test;

// ==== Strings ====

TEST_CASE("acpi: every error and MADT problem has a distinct description") {
    std::vector<std::string> seen;
    for (int i = 0; i <= static_cast<int>(Error::bad_s5); ++i) {
        const std::string text = acpi::to_string(static_cast<Error>(i));
        CHECK(text != "unknown ACPI error");
        for (const std::string& other : seen) {
            CHECK(other != text);
        }
        seen.push_back(text);
    }
    for (int i = 0; i <= static_cast<int>(MadtProblemKind::duplicate_address_override); ++i) {
        CHECK(std::string(acpi::to_string(static_cast<MadtProblemKind>(i))) !=
              "unknown MADT problem");
    }
}
