// The legacy 8259 interrupt controllers.
#pragma once

namespace pic {

// The PICs would deliver timer interrupts at vectors that mean CPU exceptions; the kernel uses
// the local APICs only, so the PICs are remapped out of the way (to vectors 32-47) and masked.
void disable();

}  // namespace pic
