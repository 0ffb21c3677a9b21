/// @file interrupt.hpp
/// Ctrl-C / SIGTERM for the commands that run until stopped (status --watch, tail): the
/// signal ends the loop after the current round, and the command exits normally.
#pragma once

namespace pgqctl {

/// Installs the SIGINT and SIGTERM handlers.
void stop_on_signals();
/// Whether SIGINT or SIGTERM arrived.
bool stop_requested();
/// Sleeps @p seconds, returning early when a stop is requested.
void sleep_unless_stopped(double seconds);

}  // namespace pgqctl
