#include "policy/exposition.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "config/diagnostic.hpp"

namespace fedprobe {

namespace {

bool name_char(char c, bool first) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
           (!first && c >= '0' && c <= '9');
}

// Parses `{a="x",b="y"}` from s[i] == '{'; i ends past the '}'. An error says why.
std::string parse_labels(std::string_view s, std::size_t& i,
                         std::vector<std::pair<std::string, std::string>>& out) {
    ++i;  // '{'
    while (true) {
        while (i < s.size() && s[i] == ' ')
            ++i;
        if (i < s.size() && s[i] == '}') {
            ++i;
            return "";
        }
        const std::size_t start = i;
        while (i < s.size() && name_char(s[i], i == start))
            ++i;
        if (i == start) return "a label name was expected";
        std::string key(s.substr(start, i - start));
        if (i >= s.size() || s[i] != '=') return "'=' was expected after label " + key;
        if (++i >= s.size() || s[i] != '"') return "label " + key + "'s value is not quoted";
        ++i;
        std::string value;
        while (i < s.size() && s[i] != '"') {
            if (s[i] == '\\') {
                if (++i >= s.size()) break;
                value += s[i] == 'n' ? '\n' : s[i];
            } else {
                value += s[i];
            }
            ++i;
        }
        if (i >= s.size()) return "label " + key + "'s value is not closed";
        ++i;  // closing quote
        for (const auto& [k, v] : out)
            if (k == key) return "a label is given twice";
        out.emplace_back(std::move(key), std::move(value));
        while (i < s.size() && s[i] == ' ')
            ++i;
        if (i < s.size() && s[i] == ',')
            ++i;
        else if (i < s.size() && s[i] != '}')
            return "',' or '}' was expected after a label";
    }
}

bool parse_value(std::string_view v, double& out) {
    if (v == "NaN") return out = std::nan(""), true;
    if (v == "+Inf" || v == "Inf") return out = HUGE_VAL, true;
    if (v == "-Inf") return out = -HUGE_VAL, true;
    if (v.empty() || v.size() > 64) return false;
    std::string copy(v);
    char* end = nullptr;
    errno = 0;
    out = std::strtod(copy.c_str(), &end);
    return end == copy.c_str() + copy.size() && errno != ERANGE;
}

}  // namespace

const std::string& Sample::label(std::string_view name) const {
    static const std::string none;
    for (const auto& [k, v] : labels)
        if (k == name) return v;
    return none;
}

Result<std::vector<Sample>> read_exposition(std::string_view text, std::string_view prefix,
                                            const std::string& source,
                                            const std::vector<std::string>* names) {
    std::vector<Sample> out;
    std::size_t line_no = 0, pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(pos, end - pos);
        pos = end + 1;
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty() || line[0] == '#') continue;
        auto fail = [&](const std::string& why) {
            return Status::error(source + ":" + std::to_string(line_no) + ": " + why + " in " +
                                 quote_excerpt(line));
        };
        std::size_t i = 0;
        while (i < line.size() && name_char(line[i], i == 0))
            ++i;
        if (i == 0) return fail("a metric name was expected");
        const std::string_view name = line.substr(0, i);
        if (!name.starts_with(prefix)) continue;
        if (names && std::find(names->begin(), names->end(), name) == names->end()) continue;
        Sample s;
        s.name = std::string(name);
        if (i < line.size() && line[i] == '{') {
            const std::string why = parse_labels(line, i, s.labels);
            if (!why.empty()) return fail(why);
        }
        if (i >= line.size() || line[i] != ' ')
            return fail("a space before the value was expected");
        while (i < line.size() && line[i] == ' ')
            ++i;
        std::size_t vend = line.find(' ', i);
        if (vend == std::string_view::npos) vend = line.size();
        if (!parse_value(line.substr(i, vend - i), s.value))
            return fail("the value is not a number");
        out.push_back(std::move(s));
    }
    return out;
}

}  // namespace fedprobe
