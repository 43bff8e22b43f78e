// The wrapper header on its own, first include, built with -fno-exceptions.
#include "portcullis.hpp"
