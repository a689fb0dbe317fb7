// Treats arbitrary bytes as physical memory and runs the kernel's whole ACPI discovery on it:
// RSDP (loader copy or BIOS-area scan) -> RSDT/XSDT -> every listed table -> MADT -> FADT,
// DSDT and \_S5_. Any crash, sanitizer report or broken postcondition (__builtin_trap) is a bug.
//
// Input: byte 0 holds mode bits, bytes 1-2 the EBDA segment stored at physical 0x40E, and the
// rest is a blob of memory seen at 0xE0000 (inside the BIOS area the scan searches) and again
// above 4 GiB, so 32- and 64-bit table addresses both lead somewhere.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "acpi/madt.hpp"
#include "acpi/parser.hpp"
#include "acpi/power.hpp"

namespace {

constexpr mm::PhysAddr kLowBase = 0xE0000;
constexpr mm::PhysAddr kHighBase = 0x1'0000'0000;
constexpr mm::PhysAddr kBdaBase = 0x400;

constexpr std::uint8_t kGiveCopy = 1u << 0;   // Pass the blob's first bytes as the loader's copy.
constexpr std::uint8_t kShortCopy = 1u << 1;  // A 20-byte copy instead of 36.
constexpr std::uint8_t kFixSums = 1u << 2;    // Repair checksums so the fuzzer gets past them.

void require(bool condition) {
    if (!condition) {
        __builtin_trap();
    }
}

// Each map() hands out an exact-size copy and frees the previous one: AddressSanitizer then
// reports any read past what was mapped, and any use of a mapping after the next map() call.
class FakeMemory {
  public:
    FakeMemory(const std::uint8_t* blob, std::size_t size, std::uint16_t ebda_segment)
        : blob_(blob), size_(size) {
        bda_[0x0E] = static_cast<std::uint8_t>(ebda_segment);
        bda_[0x0F] = static_cast<std::uint8_t>(ebda_segment >> 8);
    }

    acpi::PhysicalMemory reader() { return {&FakeMemory::map, this}; }

  private:
    static const std::uint8_t* map(void* context, mm::PhysAddr address, std::size_t length) {
        auto& self = *static_cast<FakeMemory*>(context);
        require(length != 0 && length - 1 <= ~mm::PhysAddr{0} - address);
        self.window_.reset();
        const std::uint8_t* source = self.find(address, length);
        if (source == nullptr) {
            return nullptr;
        }
        self.window_.reset(new std::uint8_t[length]);
        std::memcpy(self.window_.get(), source, length);
        return self.window_.get();
    }

    const std::uint8_t* find(mm::PhysAddr address, std::size_t length) const {
        struct Region {
            mm::PhysAddr base;
            const std::uint8_t* bytes;
            std::size_t size;
        };
        const Region regions[] = {
            {kBdaBase, bda_, sizeof(bda_)},
            {kLowBase, blob_, size_},
            {kHighBase, blob_, size_},
        };
        for (const Region& region : regions) {
            if (address >= region.base && address - region.base <= region.size &&
                length <= region.size - (address - region.base)) {
                return region.bytes + (address - region.base);
            }
        }
        return nullptr;
    }

    const std::uint8_t* blob_;
    std::size_t size_;
    std::uint8_t bda_[0x100] = {};
    std::unique_ptr<std::uint8_t[]> window_;
};

std::uint32_t read32(const std::vector<std::uint8_t>& bytes, std::size_t at) {
    std::uint32_t value;
    std::memcpy(&value, &bytes[at], sizeof(value));
    return value;
}

void fix_sum(std::vector<std::uint8_t>& bytes, std::size_t begin, std::size_t length,
             std::size_t checksum) {
    bytes[begin + checksum] = 0;
    std::uint8_t sum = 0;
    for (std::size_t i = 0; i < length; ++i) {
        sum = static_cast<std::uint8_t>(sum + bytes[begin + i]);
    }
    bytes[begin + checksum] = static_cast<std::uint8_t>(-sum);
}

// Best effort: makes every RSDP and every table with a known signature that fits in the blob
// checksum correctly, last first so that a table containing another is fixed after it.
void fix_checksums(std::vector<std::uint8_t>& blob) {
    static const char* const kSignatures[] = {"RSDT", "XSDT", "APIC", "FACP", "DSDT"};
    for (std::size_t at = blob.size(); at-- > 0;) {
        const std::size_t left = blob.size() - at;
        if (left >= 20 && std::memcmp(&blob[at], "RSD PTR ", 8) == 0) {
            // The first 20 bytes first: the extended checksum covers them too.
            fix_sum(blob, at, 20, 8);
            if (left >= 36 && blob[at + 15] >= 2) {
                const std::uint32_t length = read32(blob, at + 20);
                if (length >= 36 && length <= left) {
                    fix_sum(blob, at, length, 32);
                }
            }
            continue;
        }
        if (left < 36) {
            continue;
        }
        for (const char* signature : kSignatures) {
            const std::uint32_t length = read32(blob, at + 4);
            if (std::memcmp(&blob[at], signature, 4) == 0 && length >= 36 && length <= left) {
                fix_sum(blob, at, length, 9);
            }
        }
    }
}

void check_madt(const acpi::MadtInfo& madt) {
    for (std::size_t i = 0; i < madt.cpus.size(); ++i) {
        require(!(madt.cpus[i].enabled && madt.cpus[i].online_capable));
        for (std::size_t j = 0; j < i; ++j) {
            require(madt.cpus[i].apic_id != madt.cpus[j].apic_id);
        }
    }
    require(acpi::count_cpus_to_start(madt) <= acpi::count_cpus_to_start(madt, true));
    require(acpi::count_cpus_to_start(madt, true) <= madt.cpus.size());
    for (const acpi::MadtProblem& problem : madt.problems) {
        require(problem.offset < acpi::kMaxTableLength);
        require(problem.description != nullptr && acpi::to_string(problem.kind) != nullptr);
    }
}

void check_power_off(const acpi::PowerOff& power) {
    require(power.pm1a_control != 0);
    require(power.slp_typ_a <= 7 && power.slp_typ_b <= 7);
}

void check_error(acpi::Error error) {
    require(acpi::to_string(error) != nullptr);
}

acpi::MadtInfo& madt_info() {
    static acpi::MadtInfo info;  // About 15 KiB: not on the stack.
    return info;
}

void run_discovery(std::uint8_t mode, const std::vector<std::uint8_t>& blob,
                   std::uint16_t ebda_segment) {
    FakeMemory memory(blob.data(), blob.size(), ebda_segment);
    const acpi::PhysicalMemory reader = memory.reader();

    std::span<const std::uint8_t> copy;
    std::unique_ptr<std::uint8_t[]> copy_bytes;
    if ((mode & kGiveCopy) != 0) {
        const std::size_t wanted = (mode & kShortCopy) != 0 ? 20 : 36;
        const std::size_t length = blob.size() < wanted ? blob.size() : wanted;
        copy_bytes.reset(new std::uint8_t[length]);
        if (length != 0) {
            std::memcpy(copy_bytes.get(), blob.data(), length);
        }
        copy = {copy_bytes.get(), length};
    }

    auto rsdp = acpi::find_rsdp(copy, reader);
    if (!rsdp.ok()) {
        check_error(rsdp.error());
        return;
    }
    require(!rsdp.value().extended || rsdp.value().revision >= 2);
    require(rsdp.value().extended || rsdp.value().xsdt_address == 0);

    auto tables = acpi::Tables::open(reader, rsdp.value());
    if (!tables.ok()) {
        check_error(tables.error());
        return;
    }
    const acpi::Tables& t = tables.value();
    require(t.root().header.length >= sizeof(acpi::SdtHeader));
    require(t.count() <= (acpi::kMaxTableLength - sizeof(acpi::SdtHeader)) / 4);
    for (std::size_t i = 0; i < t.count() && i < 64; ++i) {
        auto table = t.table_at(i);
        if (table.ok()) {
            require(table.value().header.length >= sizeof(acpi::SdtHeader));
            require(table.value().header.length <= acpi::kMaxTableLength);
        }
    }

    acpi::MadtInfo& madt = madt_info();
    auto madt_status = acpi::read_madt(t, madt);
    if (madt_status.ok()) {
        check_madt(madt);
    } else {
        check_error(madt_status.error());
        require(madt.cpus.empty());
    }

    auto power = acpi::read_power_off(t);
    if (power.ok()) {
        check_power_off(power.value());
    } else {
        check_error(power.error());
    }
}

// The byte-level parsers straight on the blob, checksums or not: an exact-size copy so that
// AddressSanitizer sees any read past its end.
void run_parsers(const std::vector<std::uint8_t>& blob) {
    std::unique_ptr<std::uint8_t[]> exact(new std::uint8_t[blob.size()]);
    if (!blob.empty()) {
        std::memcpy(exact.get(), blob.data(), blob.size());
    }
    const std::span<const std::uint8_t> bytes{exact.get(), blob.size()};

    acpi::MadtInfo& madt = madt_info();
    if (acpi::parse_madt(bytes, madt).ok()) {
        check_madt(madt);
    }
    auto fadt = acpi::parse_fadt(bytes);
    if (fadt.ok()) {
        // X_DSDT (offset 140) counts only in a table long enough to hold it.
        require(fadt.value().x_dsdt == 0 || bytes.size() >= 148);
    }
    auto s5 = acpi::find_s5(bytes);
    if (s5.ok()) {
        require(s5.value().a <= 7 && s5.value().b <= 7);
    }
    auto rsdp = acpi::parse_rsdp(bytes);
    if (!rsdp.ok()) {
        check_error(rsdp.error());
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 3) {
        return 0;
    }
    const std::uint8_t mode = data[0];
    const auto ebda_segment = static_cast<std::uint16_t>(data[1] | (data[2] << 8));
    std::vector<std::uint8_t> blob(data + 3, data + size);
    if ((mode & kFixSums) != 0) {
        fix_checksums(blob);
    }
    run_parsers(blob);
    run_discovery(mode, blob, ebda_segment);
    return 0;
}
