// Catch2 v2's console reporter indents a wrapped test name's later lines to just past its first
// ": "; where that offset is past the console width the wrap recurses until std::terminate, so a
// failing test with such a name reported nothing. The furthest first ": " of a name here ends at
// offset 112, well inside this width.
#define CATCH_CONFIG_CONSOLE_WIDTH 200
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
