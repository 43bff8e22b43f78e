// Second translation unit including the header, built with -fno-exceptions: decisions are values.
#include "portcullis.hpp"

namespace header_check {
bool versions_b() {
    auto w = portcullis::CountWindow::create();
    if (!w) return false;
    if (w.value().record(portcullis::Outcome::Failure) != portcullis::Status::Ok) return false;
    // RAII permits and optional retry-afters without exceptions.
    auto b = portcullis::Breaker::create();
    if (!b) return false;
    {
        auto unrecorded = b.value().try_acquire();
        if (!unrecorded || unrecorded.retry_after()) return false;
    }
    auto p = b.value().try_acquire(portcullis::TimePoint{});
    if (!p) return false;
    auto r = p.value().record(portcullis::Outcome::Success, portcullis::TimePoint{});
    if (!r || !r.value().counted) return false;
    auto l = portcullis::RateLimiter::create();
    if (!l || !l.value().try_acquire(1, portcullis::TimePoint{})) return false;
    return portcullis::version_matches();
}
}  // namespace header_check
