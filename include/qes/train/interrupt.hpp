#pragma once
// Ctrl-C during training: the first SIGINT only raises a flag, which the
// trainer polls between members and iterations; it then writes a checkpoint
// and the model and returns. The handler is removed after the first signal,
// so a second Ctrl-C stops the process at once.
namespace qes::train {

void install_interrupt_handler();
void remove_interrupt_handler();
bool interrupt_requested();
void request_interrupt();  // what the handler does (tests call it)
void clear_interrupt();

}  // namespace qes::train
