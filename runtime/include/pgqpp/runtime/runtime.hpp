/// @file runtime.hpp
/// Everything of pgqpp_runtime, the daemon runtime shared by the consumer daemons and the
/// ticker (docs/runtime.md): configuration, logging and stats, signals and pidfile,
/// backoff and retries, LISTEN/NOTIFY wake-ups with polling fallback, Prometheus metrics.
#pragma once

#include "pgqpp/runtime/backoff.hpp"
#include "pgqpp/runtime/config.hpp"
#include "pgqpp/runtime/daemon.hpp"
#include "pgqpp/runtime/listener.hpp"
#include "pgqpp/runtime/logging.hpp"
#include "pgqpp/runtime/metrics.hpp"
#include "pgqpp/runtime/metrics_server.hpp"
#include "pgqpp/runtime/pidfile.hpp"
#include "pgqpp/runtime/retry.hpp"
#include "pgqpp/runtime/stats.hpp"
#include "pgqpp/runtime/tick_waiter.hpp"
#include "pgqpp/runtime/values.hpp"
