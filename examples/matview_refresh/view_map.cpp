// view_map.hpp: a small reader for the [servers] and [views] sections.
#include "view_map.hpp"

#include <algorithm>
#include <fstream>
#include <stdexcept>

namespace matview_refresh {
namespace {

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) return {};
    return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

/// "orders" -> "public.orders"; "s.t" stays.
std::string qualified(const std::string& name) {
    return name.find('.') == std::string::npos ? "public." + name : name;
}

/// Words separated by commas and/or blanks.
std::vector<std::string> words(const std::string& s) {
    std::vector<std::string> out;
    std::string cur;
    for (char ch : s + ",") {
        if (ch == ',' || ch == ' ' || ch == '\t') {
            if (!cur.empty()) out.push_back(std::move(cur));
            cur.clear();
        } else {
            cur += ch;
        }
    }
    return out;
}

}  // namespace

const std::vector<view_ref>* view_map::views_for(const std::string& table) const {
    const auto it = views_of_table.find(table);
    return it == views_of_table.end() ? nullptr : &it->second;
}

bool view_map::has_view(const view_ref& view) const {
    for (const auto& [table, views] : views_of_table)
        if (std::find(views.begin(), views.end(), view) != views.end()) return true;
    return false;
}

view_map load_view_map(const std::string& path, const pgqpp::connection_config& queue_db) {
    std::ifstream in{path};
    if (!in) throw std::invalid_argument{path + ": cannot open the view map"};
    view_map map;
    map.servers.emplace(queue_server, queue_db);
    struct pending_views {
        int line;
        std::string table, list;
    };
    std::vector<pending_views> views;  // checked once every server is known
    std::string section, raw;
    for (int line = 1; std::getline(in, raw); ++line) {
        const std::string text = trim(raw);
        const auto where = path + ":" + std::to_string(line) + ": ";
        if (text.empty() || text[0] == ';' || text[0] == '#') continue;
        if (text.front() == '[') {
            if (text.back() != ']') throw std::invalid_argument{where + "bad section header"};
            section = trim(text.substr(1, text.size() - 2));
            continue;
        }
        if (section != "servers" && section != "views") continue;  // the daemon's own keys
        const auto eq = text.find('=');
        if (eq == std::string::npos)
            throw std::invalid_argument{where + "expected 'key = value' in [" + section + "]"};
        const std::string key = trim(text.substr(0, eq)), value = trim(text.substr(eq + 1));
        if (key.empty() || value.empty())
            throw std::invalid_argument{where + "empty key or value in [" + section + "]"};
        if (section == "servers") {
            if (key == queue_server)
                throw std::invalid_argument{where + "'queue' is the queue's database (option db)"};
            try {
                if (!map.servers.emplace(key, pgqpp::connection_config{value}).second)
                    throw std::invalid_argument{"server '" + key + "' defined twice"};
            } catch (const std::exception& e) {
                throw std::invalid_argument{where + "server '" + key + "': " + e.what()};
            }
        } else {
            views.push_back({line, qualified(key), value});
        }
    }
    for (const auto& v : views) {
        const auto where = path + ":" + std::to_string(v.line) + ": ";
        auto& list = map.views_of_table[v.table];
        for (const auto& w : words(v.list)) {
            const auto colon = w.find(':');
            view_ref ref{colon == std::string::npos ? queue_server : w.substr(0, colon),
                         qualified(colon == std::string::npos ? w : w.substr(colon + 1))};
            if (!map.servers.count(ref.server))
                throw std::invalid_argument{where + "unknown server '" + ref.server +
                                            "' (not in [servers])"};
            if (ref.view.back() == '.' || ref.view.front() == '.')
                throw std::invalid_argument{where + "bad view name '" + w + "'"};
            if (std::find(list.begin(), list.end(), ref) == list.end()) list.push_back(ref);
        }
    }
    if (map.views_of_table.empty())
        throw std::invalid_argument{path + ": no [views] (table = view, server:view ...)"};
    return map;
}

}  // namespace matview_refresh
