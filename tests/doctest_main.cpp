// The project's own doctest_with_main: Debian's doctest ships only the header.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
