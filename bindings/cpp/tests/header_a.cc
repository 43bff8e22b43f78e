// First of two translation units that include the header into one binary (ODR check).
#include "portcullis.hpp"

namespace header_check {
bool versions_a() { return portcullis::version_matches(); }
}  // namespace header_check
