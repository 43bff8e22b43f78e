// Second translation unit including the header, built with -fno-exceptions: decisions are values.
#include "portcullis.hpp"

namespace header_check {
bool versions_b() {
    auto w = portcullis::CountWindow::create();
    if (!w) return false;
    if (w.value().record(portcullis::Outcome::Failure) != portcullis::Status::Ok) return false;
    return portcullis::version_matches();
}
}  // namespace header_check
