// Text made safe inside HTML or XML, in an element or a quoted attribute: the status page and
// the JUnit report. Pure; any thread.
#pragma once

#include <string>
#include <string_view>

namespace fedprobe {

// & < > " ' as character references (&#39; for the apostrophe, which HTML 4 lacks as a name).
inline std::string escape_markup(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

}  // namespace fedprobe
