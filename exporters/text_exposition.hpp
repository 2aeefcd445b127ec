// Prometheus' text exposition format (0.0.4), written straight into one string: the body of
// /metrics for the per-job series, where building prometheus-cpp's MetricFamily objects first
// cost three times the body's size in memory and most of a scrape's time. The output matches
// prometheus-cpp's TextSerializer byte for byte (job_series_test checks it), so both halves of
// the exposition read alike.
//
// Threads: plain functions on caller-owned strings; any thread.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace fedprobe::text_exposition {

using LabelView = std::pair<std::string_view, std::string_view>;  // name, raw value

// "# HELP name help\n# TYPE name type\n" (type: counter, gauge, histogram, untyped).
void append_head(std::string& out, std::string_view name, std::string_view help,
                 std::string_view type);
// As prometheus-cpp writes a double: 16 significant digits, "Nan", "+Inf", "-Inf".
void append_value(std::string& out, double v);
// A label value with \\, \" and \n escaped.
void append_escaped(std::string& out, std::string_view value);
// name{label="value",...} — the labels given in order, each value escaped; no braces when
// there are none. le (when not empty) is written last, already formatted.
void append_series(std::string& out, std::string_view name, std::string_view suffix,
                   std::span<const LabelView> labels, std::string_view le = {});

}  // namespace fedprobe::text_exposition
