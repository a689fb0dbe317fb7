// The one doctest main for every host suite; each suite is a test/host/*.cpp file of its own.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
