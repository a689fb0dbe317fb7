// Byte layouts of the ACPI structures the kernel reads (ACPI 6.5, sections 5.2.5 to 5.2.12).
// Firmware bytes are never cast to these types: the parser memcpy()s a structure out of bounded,
// possibly unaligned bytes and reads the copy. The structures exist to pin sizes and offsets,
// which the static_asserts below check against the specification's tables.
#pragma once

#include <cstddef>
#include <cstdint>

namespace acpi {

// A four-character table signature such as "APIC", built from a string literal.
struct Signature {
    char bytes[4];

    constexpr Signature(const char (&text)[5]) : bytes{text[0], text[1], text[2], text[3]} {}
};

inline constexpr Signature kRsdtSignature{"RSDT"};
inline constexpr Signature kXsdtSignature{"XSDT"};
inline constexpr Signature kMadtSignature{"APIC"};
inline constexpr Signature kFadtSignature{"FACP"};
inline constexpr Signature kDsdtSignature{"DSDT"};

inline constexpr char kRsdpSignature[8] = {'R', 'S', 'D', ' ', 'P', 'T', 'R', ' '};

// Root System Description Pointer. Revision 0 (ACPI 1.0) ends after rsdt_address; revision 2
// and later add the fields from `length` on, covered by extended_checksum.
struct [[gnu::packed]] RsdpV1 {
    char signature[8];
    std::uint8_t checksum;  // The first 20 bytes sum to zero.
    char oem_id[6];
    std::uint8_t revision;
    std::uint32_t rsdt_address;
};
static_assert(sizeof(RsdpV1) == 20);
static_assert(offsetof(RsdpV1, checksum) == 8);
static_assert(offsetof(RsdpV1, oem_id) == 9);
static_assert(offsetof(RsdpV1, revision) == 15);
static_assert(offsetof(RsdpV1, rsdt_address) == 16);

struct [[gnu::packed]] RsdpV2 {
    RsdpV1 v1;
    std::uint32_t length;  // Of the whole structure: 36 in every revision so far.
    std::uint64_t xsdt_address;
    std::uint8_t extended_checksum;  // The `length` bytes sum to zero.
    std::uint8_t reserved[3];
};
static_assert(sizeof(RsdpV2) == 36);
static_assert(offsetof(RsdpV2, length) == 20);
static_assert(offsetof(RsdpV2, xsdt_address) == 24);
static_assert(offsetof(RsdpV2, extended_checksum) == 32);

// The header every System Description Table starts with; `length` covers the header too.
struct [[gnu::packed]] SdtHeader {
    char signature[4];
    std::uint32_t length;
    std::uint8_t revision;
    std::uint8_t checksum;  // All `length` bytes of the table sum to zero.
    char oem_id[6];
    char oem_table_id[8];
    std::uint32_t oem_revision;
    std::uint32_t creator_id;
    std::uint32_t creator_revision;
};
static_assert(sizeof(SdtHeader) == 36);
static_assert(offsetof(SdtHeader, length) == 4);
static_assert(offsetof(SdtHeader, revision) == 8);
static_assert(offsetof(SdtHeader, checksum) == 9);
static_assert(offsetof(SdtHeader, oem_id) == 10);
static_assert(offsetof(SdtHeader, oem_table_id) == 16);
static_assert(offsetof(SdtHeader, creator_revision) == 32);

// ---- MADT ("APIC"): the interrupt controllers, and through them the processors. ----

struct [[gnu::packed]] MadtHeader {
    SdtHeader header;
    std::uint32_t local_apic_address;
    std::uint32_t flags;
};
static_assert(sizeof(MadtHeader) == 44);
static_assert(offsetof(MadtHeader, local_apic_address) == 36);
static_assert(offsetof(MadtHeader, flags) == 40);

inline constexpr std::uint32_t kMadtPcatCompat = 1u << 0;  // Dual 8259 PICs are present.

enum class MadtEntryType : std::uint8_t {
    local_apic = 0,
    io_apic = 1,
    interrupt_source_override = 2,
    local_apic_nmi = 4,
    local_apic_address_override = 5,
    local_x2apic = 9,
    local_x2apic_nmi = 0xA,
};

// Every entry starts with type and length; length covers these two bytes.
struct [[gnu::packed]] MadtEntryHeader {
    std::uint8_t type;
    std::uint8_t length;
};
static_assert(sizeof(MadtEntryHeader) == 2);

// Flags of the local APIC and local x2APIC entries.
inline constexpr std::uint32_t kLapicEnabled = 1u << 0;
// ACPI 6.3: a disabled processor that the OS may bring online later. Reserved when enabled.
inline constexpr std::uint32_t kLapicOnlineCapable = 1u << 1;

struct [[gnu::packed]] MadtLocalApic {
    MadtEntryHeader header;
    std::uint8_t acpi_processor_uid;
    std::uint8_t apic_id;
    std::uint32_t flags;
};
static_assert(sizeof(MadtLocalApic) == 8);
static_assert(offsetof(MadtLocalApic, apic_id) == 3);
static_assert(offsetof(MadtLocalApic, flags) == 4);

struct [[gnu::packed]] MadtIoApic {
    MadtEntryHeader header;
    std::uint8_t io_apic_id;
    std::uint8_t reserved;
    std::uint32_t address;
    std::uint32_t gsi_base;
};
static_assert(sizeof(MadtIoApic) == 12);
static_assert(offsetof(MadtIoApic, address) == 4);
static_assert(offsetof(MadtIoApic, gsi_base) == 8);

struct [[gnu::packed]] MadtInterruptSourceOverride {
    MadtEntryHeader header;
    std::uint8_t bus;  // Always 0, ISA.
    std::uint8_t source;
    std::uint32_t gsi;
    std::uint16_t flags;  // MPS INTI flags: polarity in bits 0-1, trigger mode in bits 2-3.
};
static_assert(sizeof(MadtInterruptSourceOverride) == 10);
static_assert(offsetof(MadtInterruptSourceOverride, gsi) == 4);
static_assert(offsetof(MadtInterruptSourceOverride, flags) == 8);

struct [[gnu::packed]] MadtLocalApicNmi {
    MadtEntryHeader header;
    std::uint8_t acpi_processor_uid;  // 0xFF: all processors.
    std::uint16_t flags;
    std::uint8_t lint;
};
static_assert(sizeof(MadtLocalApicNmi) == 6);
static_assert(offsetof(MadtLocalApicNmi, flags) == 3);
static_assert(offsetof(MadtLocalApicNmi, lint) == 5);

struct [[gnu::packed]] MadtLocalApicAddressOverride {
    MadtEntryHeader header;
    std::uint16_t reserved;
    std::uint64_t address;
};
static_assert(sizeof(MadtLocalApicAddressOverride) == 12);
static_assert(offsetof(MadtLocalApicAddressOverride, address) == 4);

struct [[gnu::packed]] MadtLocalX2apic {
    MadtEntryHeader header;
    std::uint16_t reserved;
    std::uint32_t x2apic_id;
    std::uint32_t flags;
    std::uint32_t acpi_processor_uid;
};
static_assert(sizeof(MadtLocalX2apic) == 16);
static_assert(offsetof(MadtLocalX2apic, x2apic_id) == 4);
static_assert(offsetof(MadtLocalX2apic, flags) == 8);
static_assert(offsetof(MadtLocalX2apic, acpi_processor_uid) == 12);

struct [[gnu::packed]] MadtLocalX2apicNmi {
    MadtEntryHeader header;
    std::uint16_t flags;
    std::uint32_t acpi_processor_uid;  // 0xFFFFFFFF: all processors.
    std::uint8_t lint;
    std::uint8_t reserved[3];
};
static_assert(sizeof(MadtLocalX2apicNmi) == 12);
static_assert(offsetof(MadtLocalX2apicNmi, acpi_processor_uid) == 4);
static_assert(offsetof(MadtLocalX2apicNmi, lint) == 8);

// ---- FADT ("FACP"): fixed hardware registers, and the address of the DSDT. ----

// Generic Address Structure: where a register lives and how wide it is.
struct [[gnu::packed]] GenericAddress {
    std::uint8_t address_space;  // See kAddressSpace*.
    std::uint8_t bit_width;
    std::uint8_t bit_offset;
    std::uint8_t access_size;
    std::uint64_t address;
};
static_assert(sizeof(GenericAddress) == 12);
static_assert(offsetof(GenericAddress, address) == 4);

inline constexpr std::uint8_t kAddressSpaceMemory = 0;
inline constexpr std::uint8_t kAddressSpaceIo = 1;

// The FADT up to the ACPI 2.0 extended blocks. Older (shorter) tables end earlier: the parser
// copies only `length` bytes into a zeroed Fadt, so a field past the end reads as 0 (absent).
// Later revisions append fields the kernel does not use.
struct [[gnu::packed]] Fadt {
    SdtHeader header;
    std::uint32_t firmware_ctrl;
    std::uint32_t dsdt;
    std::uint8_t reserved0;  // ACPI 1.0 INT_MODEL.
    std::uint8_t preferred_pm_profile;
    std::uint16_t sci_int;
    std::uint32_t smi_cmd;
    std::uint8_t acpi_enable;
    std::uint8_t acpi_disable;
    std::uint8_t s4bios_req;
    std::uint8_t pstate_cnt;
    std::uint32_t pm1a_evt_blk;
    std::uint32_t pm1b_evt_blk;
    std::uint32_t pm1a_cnt_blk;
    std::uint32_t pm1b_cnt_blk;
    std::uint32_t pm2_cnt_blk;
    std::uint32_t pm_tmr_blk;
    std::uint32_t gpe0_blk;
    std::uint32_t gpe1_blk;
    std::uint8_t pm1_evt_len;
    std::uint8_t pm1_cnt_len;
    std::uint8_t pm2_cnt_len;
    std::uint8_t pm_tmr_len;
    std::uint8_t gpe0_blk_len;
    std::uint8_t gpe1_blk_len;
    std::uint8_t gpe1_base;
    std::uint8_t cst_cnt;
    std::uint16_t p_lvl2_lat;
    std::uint16_t p_lvl3_lat;
    std::uint16_t flush_size;
    std::uint16_t flush_stride;
    std::uint8_t duty_offset;
    std::uint8_t duty_width;
    std::uint8_t day_alrm;
    std::uint8_t mon_alrm;
    std::uint8_t century;
    std::uint16_t iapc_boot_arch;
    std::uint8_t reserved1;
    std::uint32_t flags;  // Where ACPI 1.0 tables end (116 bytes).
    GenericAddress reset_reg;
    std::uint8_t reset_value;
    std::uint16_t arm_boot_arch;
    std::uint8_t fadt_minor_version;
    std::uint64_t x_firmware_ctrl;
    std::uint64_t x_dsdt;
    GenericAddress x_pm1a_evt_blk;
    GenericAddress x_pm1b_evt_blk;
    GenericAddress x_pm1a_cnt_blk;
    GenericAddress x_pm1b_cnt_blk;
    GenericAddress x_pm2_cnt_blk;
    GenericAddress x_pm_tmr_blk;
    GenericAddress x_gpe0_blk;
    GenericAddress x_gpe1_blk;
};
static_assert(offsetof(Fadt, dsdt) == 40);
static_assert(offsetof(Fadt, sci_int) == 46);
static_assert(offsetof(Fadt, smi_cmd) == 48);
static_assert(offsetof(Fadt, acpi_enable) == 52);
static_assert(offsetof(Fadt, pm1a_cnt_blk) == 64);
static_assert(offsetof(Fadt, pm1b_cnt_blk) == 68);
static_assert(offsetof(Fadt, pm1_cnt_len) == 89);
static_assert(offsetof(Fadt, iapc_boot_arch) == 109);
static_assert(offsetof(Fadt, flags) == 112);
static_assert(offsetof(Fadt, reset_reg) == 116);
static_assert(offsetof(Fadt, x_firmware_ctrl) == 132);
static_assert(offsetof(Fadt, x_dsdt) == 140);
static_assert(offsetof(Fadt, x_pm1a_cnt_blk) == 172);
static_assert(offsetof(Fadt, x_pm1b_cnt_blk) == 184);
static_assert(sizeof(Fadt) == 244);

// The length of an ACPI 1.0 FADT, the shortest the specification ever defined.
inline constexpr std::size_t kFadtV1Length = offsetof(Fadt, reset_reg);

// FADT flags: on hardware-reduced platforms the PM1 blocks do not exist.
inline constexpr std::uint32_t kFadtHardwareReduced = 1u << 20;

// PM1 control register bits (ACPI 6.5, 4.8.3.2.1).
inline constexpr std::uint16_t kPm1SciEnable = 1u << 0;
inline constexpr unsigned kPm1SleepTypeShift = 10;
inline constexpr std::uint16_t kPm1SleepEnable = 1u << 13;

}  // namespace acpi
