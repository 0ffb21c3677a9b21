// Crash failpoints for the crash tests (tests/crash): when the environment variable
// PGQPP_FAILPOINT names a point, the process kills itself there with SIGKILL, exactly as
// `kill -9` would, but at a moment a test could not hit by timing. Unset: one getenv per
// batch, nothing else.
#pragma once

#include <csignal>
#include <cstdlib>
#include <cstring>

namespace pgqpp::consumer::detail {

/// Points, remote mode: "before_target_commit" (the target ran pgq_ext.set_batch_done, not
/// committed), "after_target_commit" (committed, finish_batch not yet run); any mode:
/// "before_queue_commit" (finish_batch run, not committed).
inline void failpoint(const char* name) {
    static const char* const armed = std::getenv("PGQPP_FAILPOINT");
    if (armed && std::strcmp(armed, name) == 0) std::raise(SIGKILL);
}

}  // namespace pgqpp::consumer::detail
