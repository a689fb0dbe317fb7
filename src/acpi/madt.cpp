#include "acpi/madt.hpp"

#include "acpi/tables.hpp"
#include "lib/unaligned.hpp"

namespace acpi {
namespace {

void clear(MadtInfo& out) {
    out.local_apic_address = 0;
    out.local_apic_address_overridden = false;
    out.pcat_compat = false;
    out.cpus.clear();
    out.io_apics.clear();
    out.overrides.clear();
    out.nmis.clear();
    out.dropped_entries = 0;
    out.problems.clear();
    out.dropped_problems = 0;
}

class MadtParser {
  public:
    MadtParser(const std::uint8_t* bytes, MadtInfo& out) : bytes_(bytes), out_(out) {}

    void parse_entries(std::size_t begin, std::size_t end);

  private:
    void report(MadtProblemKind kind, std::size_t offset, const char* description);
    void parse_entry(std::uint8_t type, std::size_t offset, std::size_t length);
    void add_cpu(const Cpu& cpu, std::size_t offset);

    // Stores `item`, or counts it as dropped and reports the first overflow of its kind.
    template <typename Vector, typename Item>
    void keep(Vector& vector, const Item& item, MadtProblemKind kind, std::size_t offset,
              const char* description);

    const std::uint8_t* bytes_;
    MadtInfo& out_;
    std::uint32_t overflowed_ = 0;  // Bit n: MadtProblemKind n was reported.
};

void MadtParser::report(MadtProblemKind kind, std::size_t offset, const char* description) {
    if (!out_.problems.push_back(MadtProblem{kind, offset, description})) {
        ++out_.dropped_problems;
    }
}

template <typename Vector, typename Item>
void MadtParser::keep(Vector& vector, const Item& item, MadtProblemKind kind, std::size_t offset,
                      const char* description) {
    if (vector.push_back(item)) {
        return;
    }
    ++out_.dropped_entries;
    const std::uint32_t bit = std::uint32_t{1} << static_cast<unsigned>(kind);
    if ((overflowed_ & bit) == 0) {
        overflowed_ |= bit;
        report(kind, offset, description);
    }
}

void MadtParser::add_cpu(const Cpu& cpu, std::size_t offset) {
    for (const Cpu& seen : out_.cpus) {
        if (seen.apic_id == cpu.apic_id) {
            report(MadtProblemKind::duplicate_apic_id, offset,
                   "processor with an APIC id already listed; the first entry counts");
            return;
        }
    }
    keep(out_.cpus, cpu, MadtProblemKind::too_many_cpus, offset, "more processors than capacity");
}

void MadtParser::parse_entries(std::size_t begin, std::size_t end) {
    std::size_t offset = begin;
    while (offset < end) {
        if (end - offset < sizeof(MadtEntryHeader)) {
            report(MadtProblemKind::entry_past_end, offset, "stray byte after the last entry");
            return;
        }
        const std::uint8_t type = bytes_[offset];
        const std::uint8_t length = bytes_[offset + 1];
        if (length < sizeof(MadtEntryHeader)) {
            report(MadtProblemKind::entry_length_too_small, offset,
                   "entry length below 2; the rest of the table is skipped");
            return;
        }
        if (length > end - offset) {
            report(MadtProblemKind::entry_past_end, offset,
                   "entry runs past the end of the table; the rest is skipped");
            return;
        }
        parse_entry(type, offset, length);
        offset += length;
    }
}

// Entries may be longer than this code knows (later revisions append fields): only the known
// prefix is read. Shorter ones are skipped.
void MadtParser::parse_entry(std::uint8_t type, std::size_t offset, std::size_t length) {
    auto fits = [&](std::size_t needed) {
        if (length >= needed) {
            return true;
        }
        report(MadtProblemKind::entry_too_short, offset, "entry too short for its type; skipped");
        return false;
    };
    switch (static_cast<MadtEntryType>(type)) {
        case MadtEntryType::local_apic: {
            if (!fits(sizeof(MadtLocalApic))) {
                return;
            }
            const auto entry = lib::load_unaligned<MadtLocalApic>(bytes_, offset);
            const bool enabled = (entry.flags & kLapicEnabled) != 0;
            add_cpu(Cpu{entry.apic_id, entry.acpi_processor_uid, enabled,
                        !enabled && (entry.flags & kLapicOnlineCapable) != 0, false},
                    offset);
            return;
        }
        case MadtEntryType::local_x2apic: {
            if (!fits(sizeof(MadtLocalX2apic))) {
                return;
            }
            const auto entry = lib::load_unaligned<MadtLocalX2apic>(bytes_, offset);
            const bool enabled = (entry.flags & kLapicEnabled) != 0;
            add_cpu(Cpu{entry.x2apic_id, entry.acpi_processor_uid, enabled,
                        !enabled && (entry.flags & kLapicOnlineCapable) != 0, true},
                    offset);
            return;
        }
        case MadtEntryType::io_apic: {
            if (!fits(sizeof(MadtIoApic))) {
                return;
            }
            const auto entry = lib::load_unaligned<MadtIoApic>(bytes_, offset);
            keep(out_.io_apics, IoApic{entry.io_apic_id, entry.address, entry.gsi_base},
                 MadtProblemKind::too_many_io_apics, offset, "more I/O APICs than capacity");
            return;
        }
        case MadtEntryType::interrupt_source_override: {
            if (!fits(sizeof(MadtInterruptSourceOverride))) {
                return;
            }
            const auto entry = lib::load_unaligned<MadtInterruptSourceOverride>(bytes_, offset);
            keep(out_.overrides, InterruptOverride{entry.bus, entry.source, entry.gsi, entry.flags},
                 MadtProblemKind::too_many_overrides, offset,
                 "more interrupt overrides than capacity");
            return;
        }
        case MadtEntryType::local_apic_nmi: {
            if (!fits(sizeof(MadtLocalApicNmi))) {
                return;
            }
            const auto entry = lib::load_unaligned<MadtLocalApicNmi>(bytes_, offset);
            const std::uint32_t uid = entry.acpi_processor_uid == 0xFF
                                          ? LocalApicNmi::kAllProcessors
                                          : entry.acpi_processor_uid;
            keep(out_.nmis, LocalApicNmi{uid, entry.flags, entry.lint, false},
                 MadtProblemKind::too_many_nmis, offset, "more NMI entries than capacity");
            return;
        }
        case MadtEntryType::local_x2apic_nmi: {
            if (!fits(sizeof(MadtLocalX2apicNmi))) {
                return;
            }
            const auto entry = lib::load_unaligned<MadtLocalX2apicNmi>(bytes_, offset);
            keep(out_.nmis, LocalApicNmi{entry.acpi_processor_uid, entry.flags, entry.lint, true},
                 MadtProblemKind::too_many_nmis, offset, "more NMI entries than capacity");
            return;
        }
        case MadtEntryType::local_apic_address_override: {
            if (!fits(sizeof(MadtLocalApicAddressOverride))) {
                return;
            }
            if (out_.local_apic_address_overridden) {
                report(MadtProblemKind::duplicate_address_override, offset,
                       "second local APIC address override; the first counts");
                return;
            }
            const auto entry = lib::load_unaligned<MadtLocalApicAddressOverride>(bytes_, offset);
            out_.local_apic_address = entry.address;
            out_.local_apic_address_overridden = true;
            return;
        }
    }
    // Other types (GIC, RINTC and the like, or ones not defined yet) describe nothing an x86
    // kernel starts processors with; their length lets parsing step over them.
}

}  // namespace

const char* to_string(MadtProblemKind kind) {
    switch (kind) {
        case MadtProblemKind::entry_length_too_small:
            return "entry length too small";
        case MadtProblemKind::entry_past_end:
            return "entry past end of table";
        case MadtProblemKind::entry_too_short:
            return "entry too short for its type";
        case MadtProblemKind::too_many_cpus:
            return "too many processors";
        case MadtProblemKind::too_many_io_apics:
            return "too many I/O APICs";
        case MadtProblemKind::too_many_overrides:
            return "too many interrupt overrides";
        case MadtProblemKind::too_many_nmis:
            return "too many NMI entries";
        case MadtProblemKind::duplicate_apic_id:
            return "duplicate APIC id";
        case MadtProblemKind::duplicate_address_override:
            return "duplicate local APIC address override";
    }
    return "unknown MADT problem";
}

lib::Status<Error> parse_madt(std::span<const std::uint8_t> table, MadtInfo& out) {
    clear(out);
    if (table.size() < sizeof(MadtHeader)) {
        return lib::fail(Error::truncated);
    }
    const auto header = lib::load_unaligned<MadtHeader>(table.data(), 0);
    if (header.header.length < sizeof(MadtHeader) || header.header.length > table.size()) {
        return lib::fail(Error::truncated);
    }
    out.local_apic_address = header.local_apic_address;
    out.pcat_compat = (header.flags & kMadtPcatCompat) != 0;
    MadtParser(table.data(), out).parse_entries(sizeof(MadtHeader), header.header.length);
    return lib::Status<Error>::success();
}

lib::Status<Error> read_madt(const Tables& tables, MadtInfo& out) {
    clear(out);
    auto madt = tables.find(kMadtSignature);
    if (!madt.ok()) {
        switch (madt.error()) {
            case Error::table_not_found:
                return lib::fail(Error::no_madt);
            case Error::bad_table_checksum:
                return lib::fail(Error::bad_madt_checksum);
            default:
                return lib::fail(madt.error());
        }
    }
    auto bytes = tables.map(madt.value());
    if (!bytes.ok()) {
        return lib::fail(bytes.error() == Error::bad_table_checksum ? Error::bad_madt_checksum
                                                                    : bytes.error());
    }
    return parse_madt(bytes.value(), out);
}

std::size_t count_cpus_to_start(const MadtInfo& madt, bool include_online_capable) {
    std::size_t count = 0;
    for (const Cpu& cpu : madt.cpus) {
        count += should_start(cpu, include_online_capable) ? 1 : 0;
    }
    return count;
}

}  // namespace acpi
