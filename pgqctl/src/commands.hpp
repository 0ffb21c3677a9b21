/// @file commands.hpp
/// The subcommands, one function each (grouped in cmd_<family>.cpp files). Each parses its
/// own options through context::parse and returns the exit code, or throws cli_error /
/// pgqpp::error, which main() turns into one line on stderr and an exit code.
#pragma once

#include "context.hpp"

namespace pgqctl {

// cmd_install.cpp
int cmd_install(context& ctx);
int cmd_upgrade(context& ctx);
// cmd_queue.cpp
int cmd_create_queue(context& ctx);
int cmd_drop_queue(context& ctx);
int cmd_config(context& ctx);
int cmd_pause(context& ctx);
int cmd_resume(context& ctx);
// cmd_consumer.cpp
int cmd_register(context& ctx);
int cmd_unregister(context& ctx);
int cmd_rewind(context& ctx);
// cmd_status.cpp
int cmd_status(context& ctx);
// cmd_tail.cpp
int cmd_tail(context& ctx);
// cmd_insert.cpp
int cmd_insert(context& ctx);
// cmd_dead_letter.cpp
int cmd_dead_letter(context& ctx);

}  // namespace pgqctl
