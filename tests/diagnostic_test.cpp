#include "config/diagnostic.hpp"

#include <doctest/doctest.h>

using namespace fedprobe;

TEST_CASE("quoted: short values whole, in single quotes") {
    CHECK(quote_excerpt("kent-nhs") == "'kent-nhs'");
    CHECK(quote_excerpt("") == "''");
    CHECK(quote_excerpt(std::string(kQuotedMax, 'x')) == "'" + std::string(kQuotedMax, 'x') + "'");
}

TEST_CASE("quoted: control bytes escaped, so a value cannot forge a log line") {
    CHECK(quote_excerpt("a\nb") == "'a\\nb'");
    CHECK(quote_excerpt("a\tb") == "'a\\tb'");
    CHECK(quote_excerpt(std::string("a\0b", 3)) == "'a\\x00b'");
    CHECK(quote_excerpt("\x1b[2J") == "'\\x1b[2J'");
    CHECK(quote_excerpt("\x7f") == "'\\x7f'");
    CHECK(quote_excerpt("caf\xc3\xa9") == "'caf\xc3\xa9'");  // UTF-8 passes through
}

TEST_CASE("quoted: long values cut with their size, never inside a UTF-8 character") {
    CHECK(quote_excerpt(std::string(kQuotedMax + 1, 'x')) ==
          "'" + std::string(kQuotedMax, 'x') + "'...(" + std::to_string(kQuotedMax + 1) +
              " bytes)");
    // "é" (2 bytes) straddling the cut is left out whole.
    std::string s = std::string(kQuotedMax - 1, 'x') + "\xc3\xa9" + "tail";
    CHECK(quote_excerpt(s) ==
          "'" + std::string(kQuotedMax - 1, 'x') + "'...(" + std::to_string(s.size()) + " bytes)");
}

TEST_CASE("format: FILE:LINE:COLUMN when located, FILE alone when not") {
    CHECK(Diagnostic{Diagnostic::Severity::error, "f.toml", 3, 7, "bad"}.format() ==
          "f.toml:3:7: error: bad");
    CHECK(Diagnostic{Diagnostic::Severity::warning, "f.toml", 0, 0, "meh"}.format() ==
          "f.toml: warning: meh");
}
